"""Cloud API webhooks: the signature check and the envelope, parsed into plain events.

Pure functions, no I/O: ``receiver`` does the storing. The envelope is Meta's::

    {"object": "whatsapp_business_account",
     "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number", "phone_number_id"},
         "contacts": [{"profile": {"name"}, "wa_id"}],
         "messages": [...], "statuses": [...], "errors": [...]}}]}]}

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
    """A customer's message. ``payload`` is wagate's stored shape (without the local media URL)."""

    provider_id: str
    phone: str
    type: str
    payload: dict[str, Any]
    timestamp: datetime | None
    media: MediaRef | None = None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    provider_id: str
    status: str
    recipient: str | None
    timestamp: datetime | None
    errors: tuple[GraphError, ...] = ()
    pricing: dict[str, Any] | None = None


@dataclass(slots=True)
class ChangeBatch:
    """One ``entry[].changes[]`` item of field ``messages``."""

    waba_id: str | None
    phone_number_id: str | None
    inbound: list[InboundEvent] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)
    errors: list[GraphError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


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


def parse_message(message: dict[str, Any], profiles: dict[str, str]) -> InboundEvent | None:
    """One ``messages[]`` item → an ``InboundEvent`` (``None`` when it has no id or no phone)."""
    provider_id = message.get("id")
    phone = _phone(message.get("from"))
    if not provider_id or phone is None:
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
    name = profiles.get(phone)
    if name:
        payload["profile_name"] = name
    return InboundEvent(
        provider_id=str(provider_id),
        phone=phone,
        type=stored_type,
        payload=payload,
        timestamp=_timestamp(message.get("timestamp")),
        media=media,
    )


def parse_status(status: dict[str, Any]) -> StatusEvent | None:
    provider_id = status.get("id")
    value = status.get("status")
    if not provider_id or not isinstance(value, str):
        return None
    errors = tuple(parse_status_error(e) for e in status.get("errors") or [] if isinstance(e, dict))
    return StatusEvent(
        provider_id=str(provider_id),
        status=value,
        recipient=_phone(status.get("recipient_id")),
        timestamp=_timestamp(status.get("timestamp")),
        errors=errors,
        pricing=normalize_pricing(status.get("pricing")),
    )


def parse_envelope(body: Any) -> list[ChangeBatch]:
    """Every ``messages`` change of a webhook body; other fields and malformed parts are skipped."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        return []
    batches: list[ChangeBatch] = []
    for entry in body.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field", "messages") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = as_object(value, "metadata")
            batch = ChangeBatch(
                waba_id=str(entry["id"]) if entry.get("id") is not None else None,
                phone_number_id=str(metadata["phone_number_id"]) if metadata.get("phone_number_id") else None,
            )
            profiles = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in value.get("contacts") or []
                if isinstance(c, dict)
            }
            for message in value.get("messages") or []:
                event = parse_message(message, profiles) if isinstance(message, dict) else None
                if event is None:
                    batch.skipped.append("message without id or phone number")
                else:
                    batch.inbound.append(event)
            for status in value.get("statuses") or []:
                parsed = parse_status(status) if isinstance(status, dict) else None
                if parsed is None:
                    batch.skipped.append("status without id or value")
                else:
                    batch.statuses.append(parsed)
            batch.errors.extend(parse_status_error(e) for e in value.get("errors") or [] if isinstance(e, dict))
            batches.append(batch)
    return batches


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
