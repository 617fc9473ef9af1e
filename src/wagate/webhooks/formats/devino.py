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
failed     UNDELIVERED  2000–2313, from the error (table below, docs/webhooks.md)
expired    EXPIRED      2010
cancelled  REJECTED     2313
unknown    UNKNOWN      2313
========== ============ ==========
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

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

#: wagate error codes (``error.code`` of a failed message) → the original service's status error codes.
ERROR_CODES: dict[str, int] = {
    "no_route": 2000,
    "unknown_operator": 2000,
    "spam": 2302,
    "billing": 2002,
    "payment_required": 2002,
    "insufficient_funds": 2005,
    "duplicate": 2009,
    "expired": 2010,
    "validity_expired": 2010,
    "text_too_long": 2300,
    "too_long": 2300,
    "rate_limited": 2301,
    "too_many_messages": 2301,
    "media_unsupported": 2303,
    "media_too_large": 2303,
    "caption_too_long": 2304,
    "not_on_whatsapp": 2305,
    "recipient_not_on_whatsapp": 2305,
    "recipient_is_sender": 2307,
    "template_params": 2308,
    "template_param_count": 2308,
    "template_not_found": 2309,
    "template_language": 2310,
    "template_param_too_long": 2311,
    "service_window": 2312,
    "outside_window": 2312,
    "window_closed": 2312,
}

#: WhatsApp Cloud API error codes (carried as ``error.code`` like ``131026`` or ``cloud_131026``).
CLOUD_CODES: dict[int, int] = {
    131042: 2002,  # business eligibility — payment issue
    130429: 2301,  # rate limit hit
    131056: 2301,  # (business, consumer) pair rate limit
    80007: 2301,  # WABA rate limit
    131048: 2302,  # spam rate limit
    131049: 2302,  # not delivered to keep the ecosystem healthy
    131052: 2303,  # media download error
    131053: 2303,  # media upload error
    131026: 2305,  # message undeliverable: not a WhatsApp user
    131021: 2307,  # recipient cannot be the sender
    132000: 2308,  # template param count mismatch
    132001: 2309,  # template does not exist (in this language)
    132005: 2311,  # translated text too long
    131047: 2312,  # re-engagement: more than 24 h since the customer last wrote
}
_DIGITS = re.compile(r"(\d{5,6})")


def error_code(status: str, code: str | None) -> int:
    """The hosted services' numeric error code for a wagate status and error code (0 when nothing failed)."""
    if status in ("sent", "delivered", "read"):
        return 0
    if status == "expired":
        return 2010
    if status != "failed" or not code:
        return UNKNOWN_ERROR
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    match = _DIGITS.search(code)
    if match and int(match.group(1)) in CLOUD_CODES:
        return CLOUD_CODES[int(match.group(1))]
    return UNKNOWN_ERROR


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
        "errorCode": error_code(status, error.get("code") if isinstance(error, dict) else None),
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
