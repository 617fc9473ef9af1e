"""Forwarded WhatsApp notifications become inbound messages (``POST /device/v1/notifications``).

The reading of a notification (message, summary or noise; sender and group) is pure and
lives in ``notifications``; this module finds the sender's number, records the message
through ``services.inbound.record_inbound`` (deduplicated by the notification key) and
remembers every notification, so the same one posted twice gets the same answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wagate.channels.device.notifications import Kind, looks_like_phone, read_notification
from wagate.channels.device.service import channel_of, optional_text
from wagate.domain.phones import PhoneError, normalize_phone
from wagate.errors import ValidationError
from wagate.runtime import Runtime
from wagate.services.inbound import record_inbound
from wagate.store.repos import devices as repo
from wagate.store.repos.devices import DeviceAuth

#: The ``phone`` of an inbound message whose sender could not be matched to a number (see docs/device.md).
UNKNOWN_PHONE = "0"
#: A ``posted_at`` further than this from the server's clock is not trusted as the receive time.
POSTED_AT_SKEW = timedelta(days=2)


def _posted_at(value: object, now: datetime) -> datetime | None:
    """``posted_at`` as ISO 8601 or epoch seconds/milliseconds (what automation apps have at hand)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError("posted_at must be a time", field="posted_at")
    try:
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, now.tzinfo)
        if isinstance(value, str):
            if value.strip().isdigit():
                return _posted_at(int(value.strip()), now)
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=now.tzinfo)
    except (ValueError, OverflowError, OSError):
        pass
    raise ValidationError("posted_at must be ISO 8601 or epoch seconds/milliseconds", field="posted_at")


@dataclass(frozen=True, slots=True)
class Sender:
    phone: str
    match: str
    candidates: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.phone != UNKNOWN_PHONE


async def resolve_sender(
    rt: Runtime, device: DeviceAuth, name: str | None, jid_phone: str | None, explicit: str | None
) -> Sender:
    """The sender's number: told by the device, named by the notification key, shown as the title,
    or found among the tenant's contacts by the saved name. Ambiguous and unknown names are flagged."""
    region = device.default_region
    for raw, how in ((explicit, "device"), (jid_phone, "jid")):
        if raw:
            try:
                return Sender(normalize_phone(raw, region, "phone"), how)
            except PhoneError:
                if how == "device":
                    raise
    if not name:
        return Sender(UNKNOWN_PHONE, "unknown")
    if looks_like_phone(name):
        try:
            return Sender(normalize_phone(name, region, "title"), "number")
        except PhoneError:
            return Sender(UNKNOWN_PHONE, "unknown")
    phones = await rt.db.read(lambda c: repo.phones_named(c, device.tenant_id, name))
    if len(phones) == 1:
        return Sender(phones[0], "name")
    if len(phones) > 1:
        return Sender(UNKNOWN_PHONE, "ambiguous", tuple(phones))
    return Sender(UNKNOWN_PHONE, "unknown")


async def record_notification(rt: Runtime, device: DeviceAuth, body: dict[str, Any]) -> dict[str, Any]:
    """Turn a forwarded notification into an inbound message (or record why it is none), once per key."""
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise ValidationError("key is required", field="key", code="required")
    if len(key) > 2000:
        raise ValidationError("key is longer than 2000 characters", field="key", code="too_long")
    texts = {name: optional_text(body, name, limit) for name, limit in (("package", 128), ("group", 250))}
    title, text = body.get("title"), body.get("text")
    for name, value in (("title", title), ("text", text)):
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"{name} must be a string", field=name)
    if isinstance(text, str) and len(text) > 65536:
        raise ValidationError("text is too long", field="text", code="too_long")
    phone_field = body.get("phone")
    if phone_field is not None and not isinstance(phone_field, str | int):
        raise ValidationError("phone must be a phone number", field="phone")
    now = rt.clock.now()
    posted_at = _posted_at(body.get("posted_at"), now)
    channel = await channel_of(rt, device)
    key_hash = hashlib.sha256(key.encode()).hexdigest()

    existing = await rt.db.read(lambda c: repo.find_notification(c, channel.id, key_hash))
    if existing is not None:
        return {"status": existing.outcome, "message_id": existing.message_id, "duplicate": True}

    reading = read_notification(texts["package"], title, text, key)
    group = reading.group or texts["group"]
    record = {
        "channel_id": channel.id,
        "device_id": device.id,
        "key_hash": key_hash,
        "key": key,
        "package": texts["package"],
        "title": title,
        "text": text,
        "posted_at": posted_at,
        "received_at": now,
    }
    if reading.kind is not Kind.MESSAGE:
        await rt.db.write(lambda c: repo.record_notification(c, {**record, "outcome": reading.kind.value}))
        return {"status": reading.kind.value, "reason": reading.reason, "message_id": None, "duplicate": False}

    sender = await resolve_sender(
        rt, device, reading.sender, reading.jid_phone, str(phone_field) if phone_field is not None else None
    )
    payload: dict[str, Any] = {
        "text": reading.text,
        "sender": {
            "name": reading.sender,
            "match": sender.match,
            "resolved": sender.resolved,
            "candidates": list(sender.candidates),
        },
        "device": device.name,
        "notification": {
            "key": key,
            "package": texts["package"],
            "title": title,
            "posted_at": posted_at.isoformat() if posted_at else None,
        },
    }
    if group:
        payload["group"] = {"name": group}
    received_at = posted_at if posted_at and abs(posted_at - now) <= POSTED_AT_SKEW else None
    provider_id = f"ntf:{key_hash[:40]}"
    # The same key posted twice at once gets the first one's id back (insert_inbound).
    result = await record_inbound(
        rt,
        channel,
        phone=sender.phone,
        type="text",
        payload=payload,
        provider_id=provider_id,
        received_at=received_at,
    )
    await rt.db.write(
        lambda c: repo.record_notification(
            c, {**record, "outcome": Kind.MESSAGE.value, "message_id": result.message_id}
        )
    )
    return {
        "status": Kind.MESSAGE.value,
        "message_id": result.message_id,
        "duplicate": not result.created,
        "phone": sender.phone,
        "sender": payload["sender"],
    }
