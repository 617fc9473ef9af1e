"""What a valid outbound message is, independent of the API door it came through.

Every door (``/v1``, WAMM-style ``/api2``, Devino-style ``/whatsapp``) builds an
``OutboundDraft`` and calls ``validate_outbound``; the errors name the field in the
native vocabulary and each door maps them onto its own dialect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlparse

from wagate.domain import storable
from wagate.domain.phones import normalize_phone
from wagate.errors import ValidationError

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_REF = 128
MAX_CALLBACK_DATA = 2048


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    DOCUMENT = "document"
    AUDIO = "audio"
    VOICE = "voice"
    VIDEO = "video"
    LOCATION = "location"
    CONTACTS = "contacts"
    TEMPLATE = "template"
    #: An emoji on an earlier message (web channels); ``reaction: {message_id, emoji}``.
    REACTION = "reaction"


MEDIA_TYPES: frozenset[MessageType] = frozenset(
    {MessageType.IMAGE, MessageType.DOCUMENT, MessageType.AUDIO, MessageType.VOICE, MessageType.VIDEO}
)


#: ``origin`` of every inbound message: a customer wrote it (outbound origins name the door or
#: actor that sent it: "api", "dashboard", "campaign", "wamm", "devino", "optout", …).
INBOUND_ORIGIN = "customer"


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


@dataclass(slots=True)
class OutboundDraft:
    """A message as a door received it, before validation. Loose types on purpose."""

    to: Any
    type: Any = "text"
    channel: str | None = None
    text: Any = None
    media: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] | None = None
    template: dict[str, Any] | None = None
    #: The wagate id of a message this one quotes (a reply; web channels).
    reply_to: Any = None
    reaction: dict[str, Any] | None = None
    validity_seconds: Any = None
    callback_url: Any = None
    callback_data: Any = None
    operator: Any = None
    client_ref: Any = None
    #: The door it came through: ``api`` (native), ``wamm``, ``devino``, ``dashboard``, ``campaign``.
    origin: str = "api"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class OutboundMessage:
    """A validated message ready to be stored: ``phone`` is E.164 digits, ``payload`` is JSON-ready."""

    phone: str
    type: MessageType
    channel: str | None
    payload: dict[str, Any]
    validity_seconds: int | None
    callback_url: str | None
    callback_data: str | None
    operator: str | None
    client_ref: str | None
    origin: str = "api"


def is_http_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _optional_str(value: object, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string", field=name)
    if len(value) > limit:
        raise ValidationError(f"{name} is longer than {limit} characters", field=name, code="too_long")
    return value


def _validate_text(text: object) -> str:
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ValidationError("text must not be empty", field="text", code="required")
    if not isinstance(text, str):
        raise ValidationError("text must be a string", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"text is longer than {MAX_TEXT} characters", field="text", code="too_long")
    return text


def _validate_media(media: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(media, dict):
        raise ValidationError("media is required for this type", field="media", code="required")
    url, media_id = media.get("url"), media.get("id")
    if not url and not media_id:
        raise ValidationError("media needs a url or an id", field="media.url", code="required")
    if url and not is_http_url(url):
        raise ValidationError("media.url must be an http(s) URL", field="media.url")
    if media_id is not None and not isinstance(media_id, str | int):
        raise ValidationError("media.id must be a string", field="media.id")
    out: dict[str, Any] = {}
    if url:
        out["url"] = url
    if media_id:
        out["id"] = str(media_id)
    for key, limit in (("filename", 255), ("caption", MAX_CAPTION), ("mime_type", 255)):
        value = _optional_str(media.get(key), f"media.{key}", limit)
        if value is not None:
            out[key] = value
    return out


def _validate_location(location: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(location, dict):
        raise ValidationError("location is required for this type", field="location", code="required")
    out: dict[str, Any] = {}
    for key, bound in (("latitude", 90.0), ("longitude", 180.0)):
        value = location.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"location.{key} must be a number", field=f"location.{key}")
        if not -bound <= float(value) <= bound:
            raise ValidationError(f"location.{key} is out of range", field=f"location.{key}")
        out[key] = float(value)
    for key in ("name", "address"):
        value = _optional_str(location.get(key), f"location.{key}", 1000)
        if value is not None:
            out[key] = value
    return out


def _validate_contacts(contacts: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if not isinstance(contacts, list) or not contacts:
        raise ValidationError("contacts must be a non-empty list", field="contacts", code="required")
    for index, contact in enumerate(contacts):
        if not isinstance(contact, dict):
            raise ValidationError("each contact must be an object", field=f"contacts[{index}]")
        name = contact.get("name")
        if not name or not isinstance(name, dict | str):
            raise ValidationError("a contact needs a name", field=f"contacts[{index}].name", code="required")
    return contacts


def _validate_template(template: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(template, dict):
        raise ValidationError("template is required for this type", field="template", code="required")
    name = template.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("template.name is required", field="template.name", code="required")
    language = template.get("language") or "en"
    if not isinstance(language, str) or not 2 <= len(language) <= 12:
        raise ValidationError("template.language must be a language code", field="template.language")
    params = template.get("params") or []
    if isinstance(params, dict):
        # Devino-style {"1": "a", "2": "b"} maps onto positions.
        try:
            params = [params[k] for k in sorted(params, key=int)]
        except (ValueError, TypeError) as exc:
            raise ValidationError("template.params keys must be positions", field="template.params") from exc
    if not isinstance(params, list) or not all(isinstance(p, str | int | float) for p in params):
        raise ValidationError("template.params must be a list of strings", field="template.params")
    return {"name": name, "language": language, "params": [str(p) for p in params]}


def _message_id(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{field} must be the id of a message", field=field)
    return value


def _validate_reaction(reaction: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(reaction, dict):
        raise ValidationError("reaction is required for this type", field="reaction", code="required")
    emoji = reaction.get("emoji")
    if not isinstance(emoji, str) or len(emoji) > 16:
        raise ValidationError("reaction.emoji must be an emoji ('' removes one)", field="reaction.emoji")
    return {"message_id": _message_id(reaction.get("message_id"), "reaction.message_id"), "emoji": emoji}


def validate_outbound(draft: OutboundDraft, default_region: str) -> OutboundMessage:
    """Check a draft and return the normalised message, or raise ``ValidationError`` naming the field."""
    storable.check_fields(
        {
            "to": draft.to,
            "channel": draft.channel,
            "type": draft.type,
            "text": draft.text,
            "media": draft.media,
            "location": draft.location,
            "contacts": draft.contacts,
            "template": draft.template,
            "callback_url": draft.callback_url,
            "callback_data": draft.callback_data,
            "operator": draft.operator,
            "client_ref": draft.client_ref,
        }
    )
    if draft.to is None or draft.to == "":
        raise ValidationError("to is required", field="to", code="required")
    if not isinstance(draft.to, str | int):
        raise ValidationError("to must be a phone number", field="to")
    phone = normalize_phone(str(draft.to), default_region, "to")
    try:
        mtype = MessageType(draft.type or "text")
    except ValueError as exc:
        allowed = ", ".join(t.value for t in MessageType)
        raise ValidationError(f"unknown type {draft.type!r}; one of {allowed}", field="type") from exc

    payload: dict[str, Any] = {}
    if mtype is MessageType.TEXT:
        payload["text"] = _validate_text(draft.text)
    elif mtype in MEDIA_TYPES:
        payload["media"] = _validate_media(draft.media)
    elif mtype is MessageType.LOCATION:
        payload["location"] = _validate_location(draft.location)
    elif mtype is MessageType.CONTACTS:
        payload["contacts"] = _validate_contacts(draft.contacts)
    elif mtype is MessageType.TEMPLATE:
        payload["template"] = _validate_template(draft.template)
    elif mtype is MessageType.REACTION:
        payload["reaction"] = _validate_reaction(draft.reaction)
    if draft.reply_to is not None:
        payload["reply_to"] = _message_id(draft.reply_to, "reply_to")

    validity = draft.validity_seconds
    if validity is not None and (isinstance(validity, bool) or not isinstance(validity, int) or validity <= 0):
        raise ValidationError("validity_seconds must be a positive integer", field="validity_seconds")
    callback_url = draft.callback_url
    if callback_url is not None and not is_http_url(callback_url):
        raise ValidationError("callback_url must be an http(s) URL", field="callback_url")
    return OutboundMessage(
        phone=phone,
        type=mtype,
        channel=draft.channel,
        payload=payload,
        validity_seconds=validity,
        callback_url=callback_url,
        callback_data=_optional_str(draft.callback_data, "callback_data", MAX_CALLBACK_DATA),
        operator=_optional_str(draft.operator, "operator", MAX_REF),
        client_ref=_optional_str(draft.client_ref, "client_ref", MAX_REF),
        origin=draft.origin,
    )
