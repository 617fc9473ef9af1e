"""Cloud API webhooks: the signature check and the envelope, parsed into plain events.

Pure functions, no I/O: ``receiver`` does the storing. The envelope is Meta's::

    {"object": "whatsapp_business_account",
     "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number", "phone_number_id"},
         "contacts": [{"profile": {"name", "username"}, "wa_id", "user_id", "parent_user_id"}],
         "messages": [...], "statuses": [...], "errors": [...]}}]}]}

Since 2026 a user is described by identities (``domain.identities``): ``contacts[].user_id``
(BSUID) is always there, ``wa_id``/``from`` only when WhatsApp shares the phone; messages carry
``from_user_id`` and statuses ``recipient_user_id`` beside their contacts. A BSUID change comes
as a ``system`` message (``user_changed_user_id``, ``user_changed_number``) or a
``user_id_update`` change. Coexistence adds the fields ``smb_message_echoes`` (what the Business
app sent), ``history`` (past chats, once) and ``smb_app_state_sync`` (its contacts).

``X-Hub-Signature-256`` is ``sha256=`` + hex HMAC-SHA256 of the *raw* body with the app
secret; it is checked on the bytes as received, before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wagate.channels.cloud.errors import GraphError, as_object, parse_status_error
from wagate.domain.identities import Identities, clean_identities
from wagate.domain.pricing import normalize_pricing

SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
STATUSES = ("sent", "delivered", "read", "failed")


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, app_secret: str | None) -> bool:
    """Constant-time check of ``X-Hub-Signature-256``; no secret or no header is never valid."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(body, app_secret), header.strip())


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Inbound media as Meta describes it: fetch ``id`` through ``GET /{id}`` to download."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    caption: str | None = None
    voice: bool = False


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A customer's message (or, for echoes and history, one the business sent them).

    ``payload`` is wagate's stored shape (without the local media URL); ``identities`` say who
    the customer is (``phone`` is ``None`` when WhatsApp withholds it).
    """

    provider_id: str
    identities: Identities
    type: str
    payload: dict[str, Any]
    timestamp: datetime | None
    media: MediaRef | None = None
    #: ``history`` only: ``in`` (the customer wrote) or ``out`` (the business did).
    direction: str = "in"

    @property
    def phone(self) -> str | None:
        return self.identities.phone


@dataclass(frozen=True, slots=True)
class StatusEvent:
    provider_id: str
    status: str
    recipient: str | None
    timestamp: datetime | None
    errors: tuple[GraphError, ...] = ()
    identities: Identities = field(default_factory=Identities)
    pricing: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class IdentityChange:
    """A user's BSUID changed (``user_changed_user_id`` / ``user_changed_number`` / ``user_id_update``)."""

    previous_user_id: str | None
    identities: Identities
    previous_phone: str | None = None


@dataclass(frozen=True, slots=True)
class SyncedContact:
    """One ``smb_app_state_sync`` contact of the Business app's address book."""

    phone: str
    name: str | None
    action: str  # "add" | "remove"


@dataclass(slots=True)
class ChangeBatch:
    """One ``entry[].changes[]`` item (``messages`` or a coexistence field)."""

    waba_id: str | None
    phone_number_id: str | None
    change_field: str = "messages"
    inbound: list[InboundEvent] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)
    identity_changes: list[IdentityChange] = field(default_factory=list)
    #: ``smb_message_echoes``: messages the Business app sent (outbound, typed on the phone).
    echoes: list[InboundEvent] = field(default_factory=list)
    #: ``history``: past messages of both directions, imported once.
    history: list[InboundEvent] = field(default_factory=list)
    state_sync: list[SyncedContact] = field(default_factory=list)
    errors: list[GraphError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


FIELDS = ("messages", "smb_message_echoes", "history", "smb_app_state_sync", "user_id_update")


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _phone(value: Any) -> str | None:
    """E.164 digits, as wagate stores numbers; anything else (a business-scoped id) is not a phone."""
    if not isinstance(value, str):
        return None
    digits = value.lstrip("+")
    return digits if digits.isdigit() and 7 <= len(digits) <= 15 else None


def _media(kind: str, body: dict[str, Any]) -> MediaRef | None:
    media_id = body.get("id")
    if not media_id:
        return None
    return MediaRef(
        id=str(media_id),
        mime_type=body.get("mime_type"),
        sha256=body.get("sha256"),
        filename=body.get("filename"),
        caption=body.get("caption"),
        voice=bool(body.get("voice")) if kind == "audio" else False,
    )


def _contact_identities(contact: dict[str, Any]) -> Identities:
    profile = as_object(contact, "profile")
    return clean_identities(
        phone=contact.get("wa_id"),
        user_id=contact.get("user_id"),
        parent_user_id=contact.get("parent_user_id"),
        username=profile.get("username"),
    )


def _sender(
    message: dict[str, Any], contacts: list[dict[str, Any]], phone_key: str, user_key: str
) -> tuple[Identities, str | None]:
    """Who a message is from (or to, for echoes): its own fields, completed by its ``contacts`` entry."""
    phone = _phone(message.get(phone_key))
    user_id = message.get(user_key)
    match: dict[str, Any] | None = None
    for contact in contacts:
        if (phone and _phone(contact.get("wa_id")) == phone) or (user_id and contact.get("user_id") == user_id):
            match = contact
            break
    if match is None and len(contacts) == 1:
        match = contacts[0]
    base = _contact_identities(match) if match is not None else Identities()
    own = clean_identities(
        phone=phone, user_id=user_id, parent_user_id=message.get(user_key.replace("user_id", "parent_user_id"))
    )
    ids = Identities(
        phone=own.phone or base.phone,
        user_id=own.user_id or base.user_id,
        parent_user_id=own.parent_user_id or base.parent_user_id,
        username=base.username,
    )
    name = as_object(match, "profile").get("name") if match is not None else None
    return ids, str(name) if name else None


def parse_message(
    message: dict[str, Any],
    contacts: list[dict[str, Any]],
    *,
    phone_key: str = "from",
    user_key: str = "from_user_id",
) -> InboundEvent | None:
    """One ``messages[]`` item → an ``InboundEvent`` (``None`` when it has no id or no one it is from).

    Echoes describe the customer with ``to``/``to_user_id``; ``phone_key``/``user_key`` say which.
    """
    provider_id = message.get("id")
    identities, name = _sender(message, contacts, phone_key, user_key)
    if not provider_id or not (identities.phone or identities.user_id):
        return None
    kind = str(message.get("type") or "unknown")
    body = as_object(message, kind)
    payload: dict[str, Any] = {}
    media: MediaRef | None = None
    stored_type = kind
    if kind == "text":
        payload["text"] = body.get("body", "")
    elif kind in MEDIA_TYPES:
        media = _media(kind, body)
        if kind == "audio" and media is not None and media.voice:
            stored_type = "voice"
        info = {
            key: body[key] for key in ("id", "mime_type", "sha256", "filename", "caption") if body.get(key) is not None
        }
        payload["media"] = info
    elif kind == "location":
        payload["location"] = {
            key: body[key] for key in ("latitude", "longitude", "name", "address", "url") if key in body
        }
    elif kind == "contacts":
        payload["contacts"] = message.get("contacts") or []
    elif kind == "interactive":
        reply_type = body.get("type")
        reply = as_object(body, reply_type) if isinstance(reply_type, str) else {}
        payload["text"] = reply.get("title")
        payload["interactive"] = {"type": reply_type, **reply}
    elif kind == "button":
        payload["text"] = body.get("text")
        payload["button"] = {key: body[key] for key in ("text", "payload") if key in body}
    elif kind == "reaction":
        payload["reaction"] = {key: body[key] for key in ("message_id", "emoji") if key in body}
    else:
        # order, system, unsupported, request_welcome …: kept as Meta sent them.
        payload["raw"] = body
    errors = message.get("errors")
    if isinstance(errors, list) and errors:
        payload["errors"] = [
            {"code": e.code, "title": e.title, "details": e.details}
            for e in (parse_status_error(x) for x in errors if isinstance(x, dict))
        ]
    context = message.get("context")
    if isinstance(context, dict) and context.get("id"):
        payload["context"] = {"message_id": context["id"], "from": context.get("from")}
    if name:
        payload["profile_name"] = name
    if identities.username:
        payload["username"] = identities.username
    return InboundEvent(
        provider_id=str(provider_id),
        identities=identities,
        type=stored_type,
        payload=payload,
        timestamp=_timestamp(message.get("timestamp")),
        media=media,
    )


def parse_identity_change(message: dict[str, Any]) -> IdentityChange | None:
    """A ``system`` message that says a user's BSUID (and maybe phone) changed."""
    system = as_object(message, "system")
    if system.get("type") not in ("user_changed_user_id", "user_changed_number", "customer_changed_number"):
        return None
    new_phone = system.get("wa_id") or system.get("new_wa_id")
    ids = clean_identities(
        phone=new_phone if new_phone else None,
        user_id=system.get("user_id"),
        parent_user_id=system.get("parent_user_id"),
    )
    previous = clean_identities(user_id=system.get("previous_user_id"), phone=message.get("from"))
    if not ids.user_id and not ids.phone:
        return None
    return IdentityChange(previous_user_id=previous.user_id, identities=ids, previous_phone=previous.phone)


def _user_id_update(item: dict[str, Any]) -> IdentityChange | None:
    """One ``user_id_update[]`` item: ``user_id``/``parent_user_id`` as ``{previous, current}``
    (or flat ``previous_user_id``/``user_id``), with ``wa_id`` when the phone is shared."""

    def pair(name: str) -> tuple[Any, Any]:
        value = item.get(name)
        if isinstance(value, dict):
            return value.get("previous"), value.get("current")
        return item.get(f"previous_{name}"), value

    previous, current = pair("user_id")
    _parent_previous, parent = pair("parent_user_id")
    ids = clean_identities(phone=item.get("wa_id"), user_id=current, parent_user_id=parent)
    old = clean_identities(user_id=previous)
    if not ids.user_id or not old.user_id:
        return None
    return IdentityChange(previous_user_id=old.user_id, identities=ids)


def _state_sync(item: dict[str, Any]) -> SyncedContact | None:
    contact = as_object(item, "contact")
    phone = _phone(contact.get("phone_number"))
    if item.get("type", "contact") != "contact" or phone is None:
        return None
    name = contact.get("full_name") or contact.get("first_name")
    action = "remove" if item.get("action") == "remove" else "add"
    return SyncedContact(phone=phone, name=str(name) if name else None, action=action)


def parse_status(status: dict[str, Any], contacts: list[dict[str, Any]] | None = None) -> StatusEvent | None:
    provider_id = status.get("id")
    value = status.get("status")
    if not provider_id or not isinstance(value, str):
        return None
    errors = tuple(parse_status_error(e) for e in status.get("errors") or [] if isinstance(e, dict))
    identities, _name = _sender(status, contacts or [], "recipient_id", "recipient_user_id")
    return StatusEvent(
        provider_id=str(provider_id),
        status=value,
        recipient=_phone(status.get("recipient_id")),
        timestamp=_timestamp(status.get("timestamp")),
        errors=errors,
        identities=identities,
        pricing=normalize_pricing(status.get("pricing")),
    )


def parse_envelope(body: Any) -> list[ChangeBatch]:
    """Every change of a webhook body wagate handles; other fields and malformed parts are skipped."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        return []
    batches: list[ChangeBatch] = []
    for entry in body.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            field_name = change.get("field", "messages") if isinstance(change, dict) else None
            if field_name not in FIELDS:
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = as_object(value, "metadata")
            batch = ChangeBatch(
                waba_id=str(entry["id"]) if entry.get("id") is not None else None,
                phone_number_id=str(metadata["phone_number_id"]) if metadata.get("phone_number_id") else None,
                change_field=str(field_name),
            )
            contacts = [c for c in value.get("contacts") or [] if isinstance(c, dict)]
            _parse_change(batch, value, contacts)
            batch.errors.extend(parse_status_error(e) for e in value.get("errors") or [] if isinstance(e, dict))
            batches.append(batch)
    return batches


def _parse_change(batch: ChangeBatch, value: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
    if batch.change_field == "smb_message_echoes":
        for echo in value.get("message_echoes") or []:
            event = (
                parse_message(echo, contacts, phone_key="to", user_key="to_user_id") if isinstance(echo, dict) else None
            )
            if event is None:
                batch.skipped.append("echo without id or recipient")
            else:
                batch.echoes.append(event)
        return
    if batch.change_field == "history":
        _parse_history(batch, value, contacts)
        return
    if batch.change_field == "smb_app_state_sync":
        for item in value.get("state_sync") or []:
            synced = _state_sync(item) if isinstance(item, dict) else None
            if synced is None:
                batch.skipped.append("state sync item without a phone number")
            else:
                batch.state_sync.append(synced)
        return
    if batch.change_field == "user_id_update":
        for item in value.get("user_id_update") or []:
            update = _user_id_update(item) if isinstance(item, dict) else None
            if update is None:
                batch.skipped.append("user_id_update without previous and current user ids")
            else:
                batch.identity_changes.append(update)
        return
    for message in value.get("messages") or []:
        if isinstance(message, dict) and message.get("type") == "system":
            update = parse_identity_change(message)
            if update is None:
                batch.skipped.append("system message without an identity change")
            else:
                batch.identity_changes.append(update)
            continue
        event = parse_message(message, contacts) if isinstance(message, dict) else None
        if event is None:
            batch.skipped.append("message without id or sender")
        else:
            batch.inbound.append(event)
    for status in value.get("statuses") or []:
        parsed = parse_status(status, contacts) if isinstance(status, dict) else None
        if parsed is None:
            batch.skipped.append("status without id or value")
        else:
            batch.statuses.append(parsed)


def _parse_history(batch: ChangeBatch, value: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
    """``history[].threads[].messages[]``: each message says who wrote it (``from``) and, for the
    business's own, ``to``; ``history_context.from_me`` marks the business's messages."""
    business = str(as_object(value, "metadata").get("display_phone_number") or "")
    for chunk in value.get("history") or []:
        for thread in as_object({"t": chunk}, "t").get("threads") or []:
            if not isinstance(thread, dict):
                continue
            for message in thread.get("messages") or []:
                if not isinstance(message, dict):
                    continue
                context = as_object(message, "history_context")
                from_me = bool(context.get("from_me")) or (bool(business) and message.get("from") == business)
                thread_id = thread.get("id")
                customer = {"from": thread_id or message.get("to"), "from_user_id": thread.get("user_id")}
                event = parse_message({**message, **customer}, contacts)
                if event is None:
                    batch.skipped.append("history message without id or chat")
                    continue
                batch.history.append(
                    InboundEvent(
                        provider_id=event.provider_id,
                        identities=event.identities,
                        type=event.type,
                        payload=event.payload,
                        timestamp=event.timestamp,
                        media=None,
                        direction="out" if from_me else "in",
                    )
                )


TEMPLATE_FIELDS = ("message_template_status_update", "template_category_update", "message_template_quality_update")


@dataclass(frozen=True, slots=True)
class TemplateEvent:
    """One of Meta's template webhooks (WhatsApp Business Account fields):

    * ``message_template_status_update``: ``event`` (APPROVED, REJECTED, PAUSED, DISABLED,
      PENDING_DELETION, IN_APPEAL, FLAGGED, REINSTATED …) with ``reason``;
    * ``template_category_update``: done (``previous_category`` → ``new_category``) or
      impending (``correct_category`` from ``category_update_timestamp``);
    * ``message_template_quality_update``: ``previous_quality_score`` → ``new_quality_score``.
    """

    field: str
    waba_id: str | None
    template_id: str | None
    name: str | None
    language: str | None
    status: str | None = None
    reason: str | None = None
    new_category: str | None = None
    previous_category: str | None = None
    correct_category: str | None = None
    category_update_at: datetime | None = None
    quality: str | None = None
    previous_quality: str | None = None
    at: datetime | None = None

    @property
    def impending(self) -> bool:
        return self.field == "template_category_update" and self.correct_category is not None


def _upper(value: Any) -> str | None:
    return str(value).upper() if isinstance(value, str) and value else None


def parse_template_events(body: Any) -> list[TemplateEvent]:
    """The template changes of a webhook body, in order; other fields are left to ``parse_envelope``."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        return []
    out: list[TemplateEvent] = []
    for entry in body.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        waba_id = str(entry["id"]) if entry.get("id") is not None else None
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field") not in TEMPLATE_FIELDS:
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            template_id = value.get("message_template_id")
            reason = value.get("reason")
            out.append(
                TemplateEvent(
                    field=str(change["field"]),
                    waba_id=waba_id,
                    template_id=str(template_id) if template_id is not None else None,
                    name=str(value["message_template_name"]) if value.get("message_template_name") else None,
                    language=str(value["message_template_language"])
                    if value.get("message_template_language")
                    else None,
                    status=_upper(value.get("event")),
                    reason=str(reason) if reason not in (None, "", "NONE") else None,
                    new_category=_upper(value.get("new_category")),
                    previous_category=_upper(value.get("previous_category")),
                    correct_category=_upper(value.get("correct_category")),
                    category_update_at=_timestamp(value.get("category_update_timestamp")),
                    quality=_upper(value.get("new_quality_score")),
                    previous_quality=_upper(value.get("previous_quality_score")),
                    at=_timestamp(entry.get("time")),
                )
            )
    return out


LIMIT_FIELDS = ("phone_number_quality_update", "account_update")


def parse_limit_updates(body: Any) -> list[dict[str, Any]]:
    """The ``value`` of every ``phone_number_quality_update`` / ``account_update`` change, in order."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        return []
    out: list[dict[str, Any]] = []
    for entry in body.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            if (
                isinstance(change, dict)
                and change.get("field") in LIMIT_FIELDS
                and isinstance(change.get("value"), dict)
            ):
                out.append({"field": change["field"], **change["value"]})
    return out
