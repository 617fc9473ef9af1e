"""The Devino dialect (docs/webhooks.md and docs/compatibility.md).

* Status callbacks: a JSON **array** of ``{"messageId", "ts", "status", "errorCode", "options"}``
  — ``messageId`` the wagate message id (a long), ``ts`` milliseconds since the epoch of the
  status change, ``options`` the ``callbackData`` given when sending (``null`` if none). The
  original's ``ip``/``browser``/``os``/``userAgent`` describe a person clicking a link; WhatsApp has
  no such thing, so they are not sent.
* Incoming messages: one object ``{"incomingMessageId", "to", "from", "ts", ...optional}`` with
  ``text``, ``contentUrl``, ``contentType``, ``contentName``, ``profileName``,
  ``whatsAppGeoLocation``, ``whatsAppContacts`` present only when the message has them.

Statuses (the original service's description shows ``DELIVERED``; the rest follow Devino's upper-case status vocabulary):

========== ============ ==========
wagate     Devino       errorCode
========== ============ ==========
queued     (not sent)   —
sending    (not sent)   —
sent       SENT         0
delivered  DELIVERED    0
read       READ         0
failed     UNDELIVERED  2000–2313, from the error (``wagate.domain.error_codes``)
expired    EXPIRED      2010
cancelled  REJECTED     2313
unknown    UNKNOWN      2313
========== ============ ==========
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from wagate.domain import error_codes
from wagate.webhooks.formats.base import Event, Rendered

STATUS_NAMES: dict[str, str] = {
    "sent": "SENT",
    "delivered": "DELIVERED",
    "read": "READ",
    "failed": "UNDELIVERED",
    "expired": "EXPIRED",
    "cancelled": "REJECTED",
    "unknown": "UNKNOWN",
}
UNKNOWN_ERROR = 2313

#: The one table of failure meanings (``wagate.domain.error_codes``), by wagate code and by
#: Cloud API code; kept under these names for readers of this module.
ERROR_CODES: dict[str, int] = {code: m.devino for code, m in error_codes.ERRORS.items()}
CLOUD_CODES: dict[int, int] = error_codes.CLOUD_STATUS_CODES


def error_code(status: str, code: str | None, message: str | None = None) -> int:
    """The original service's numeric error code for a wagate status and error (0 when nothing failed)."""
    if status in ("sent", "delivered", "read"):
        return 0
    if status == "expired":
        return 2010
    if status != "failed" or not (code or message):
        return UNKNOWN_ERROR
    return error_codes.devino_status_code(code, message)


def wants(event_type: str, payload: dict[str, Any]) -> bool:
    if event_type == "message.status":
        return payload.get("status") in STATUS_NAMES
    return event_type == "message.received"


def _ms(value: Any, fallback: datetime) -> int:
    when = fallback
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            when = fallback
    return int(when.timestamp() * 1000)


def status_item(event: Event) -> dict[str, Any]:
    data = event.payload
    status = str(data.get("status"))
    error = data.get("error") or {}
    return {
        "messageId": int(data.get("message_id") or event.message_id or 0),
        "ts": _ms(data.get("at"), event.created_at),
        "status": STATUS_NAMES.get(status, "UNKNOWN"),
        "errorCode": error_code(
            status,
            error.get("code") if isinstance(error, dict) else None,
            error.get("message") if isinstance(error, dict) else None,
        ),
        "options": data.get("callback_data"),
    }


def _geolocation(location: Any) -> dict[str, Any] | None:
    if not isinstance(location, dict) or location.get("latitude") is None:
        return None
    out: dict[str, Any] = {"latitude": float(location["latitude"]), "longitude": float(location["longitude"])}
    for source, target in (("address", "address"), ("name", "addressName"), ("url", "addressurl")):
        if location.get(source) is not None:
            out[target] = str(location[source])
    return out


def _pick(items: Any, mapping: dict[str, str]) -> list[dict[str, str]]:
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            converted = {target: str(item[src]) for src, target in mapping.items() if item.get(src) is not None}
            if converted:
                out.append(converted)
    return out


def _contact(card: Any) -> dict[str, Any]:
    """A Cloud API contact card (``name``, ``org``, ``phones`` …) in the original service's WhatsAppContact shape."""
    if not isinstance(card, dict):
        return {}
    out: dict[str, Any] = {}
    addresses = _pick(
        card.get("addresses"),
        {
            "street": "street",
            "city": "city",
            "state": "state",
            "zip": "zip",
            "country": "country",
            "country_code": "countryCode",
            "type": "type",
        },
    )
    if addresses:
        out["addresses"] = addresses
    if card.get("birthday"):
        out["birthday"] = str(card["birthday"])
    emails = _pick(card.get("emails"), {"email": "email", "type": "type"})
    if emails:
        out["emails"] = emails
    name = card.get("name")
    if isinstance(name, str):
        name = {"formatted_name": name}
    names = _pick(
        [name],
        {
            "first_name": "firstName",
            "middle_name": "middleName",
            "last_name": "lastName",
            "formatted_name": "formattedName",
            "prefix": "namePrefix",
            "suffix": "nameSuffix",
        },
    )
    if names:
        out["contactName"] = names
    companies = _pick([card.get("org")], {"company": "company", "department": "department", "title": "title"})
    if companies:
        out["contactCompany"] = companies
    phones = _pick(card.get("phones"), {"phone": "phone", "wa_id": "waId", "type": "type"})
    if phones:
        out["phones"] = phones
    urls = _pick(card.get("urls"), {"url": "url", "type": "type"})
    if urls:
        out["urls"] = urls
    return out


def incoming_item(event: Event, channel_address: str | None) -> dict[str, Any]:
    data = event.payload
    raw_content = data.get("content")
    content: dict[str, Any] = raw_content if isinstance(raw_content, dict) else {}
    item: dict[str, Any] = {
        "incomingMessageId": int(data.get("message_id") or event.message_id or 0),
        "to": channel_address or str(data.get("channel") or ""),
        "from": str(data.get("phone") or ""),
        "ts": _ms(data.get("at"), event.created_at),
    }
    raw_media = content.get("media")
    media: dict[str, Any] = raw_media if isinstance(raw_media, dict) else {}
    text = content.get("text") or media.get("caption")
    optional: dict[str, Any] = {
        "text": text,
        "contentUrl": media.get("url"),
        "contentType": media.get("mime_type"),
        "contentName": media.get("filename"),
        "profileName": content.get("profile_name") or content.get("contact_name"),
        "whatsAppGeoLocation": _geolocation(content.get("location")),
    }
    contacts = [_contact(card) for card in content.get("contacts") or [] if isinstance(card, dict)]
    if contacts:
        optional["whatsAppContacts"] = contacts
    item.update({key: value for key, value in optional.items() if value is not None})
    return item


def render(event: Event, channel_address: str | None = None) -> Rendered:
    if event.type == "message.received":
        return Rendered(orjson.dumps(incoming_item(event, channel_address)).decode())
    return Rendered(orjson.dumps([status_item(event)]).decode())
