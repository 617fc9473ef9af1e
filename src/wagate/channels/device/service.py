"""The use cases of the device protocol (CONTRACT §8) and of device management.

* ``next_message`` — lease the channel's next due message to a device through
  ``dispatch.claim.claim_next`` (pacing, caps and rules applied server-side).
* ``record_result`` — a device's ``sent`` / ``failed`` / ``not_on_whatsapp``, idempotent,
  recorded through ``dispatch.claim.complete``; the phone's WhatsApp presence is remembered.
* notifications are read in ``inbound`` (``record_notification``).
* ``seen`` / ``heartbeat`` / ``sweep_offline`` — presence: online on every call, offline after
  the channel's silence threshold, a ``channel.status`` event each time it changes.

Everything commits before the API answers the device (invariant 1).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from wagate.channels.base import SendResult
from wagate.channels.device.channel import DEFAULT_LEASE_SECONDS, DEFAULT_POLL_SECONDS, setting_seconds
from wagate.dispatch.claim import AttemptResult, claim_next, complete, next_slot
from wagate.domain.messages import MEDIA_TYPES, MessageType
from wagate.domain.statuses import Status
from wagate.errors import ConflictError, NotFoundError, SendError, ValidationError
from wagate.runtime import Runtime
from wagate.store.repos import contacts as contact_repo
from wagate.store.repos import devices as repo
from wagate.store.repos import messages as message_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.devices import DeviceAuth
from wagate.store.repos.tenants import Tenant, hash_token, new_token

TOKEN_PREFIX = "wgd"
AUTH_CACHE_SECONDS = 5.0
#: How long a device's word on a number ("none" after not_on_whatsapp, "exists" after a send) is kept.
PHONE_CHECK_TTL = timedelta(days=7)
#: Undeliverable messages (e.g. media known only by id) failed per ``GET /next`` before answering 204.
MAX_UNDELIVERABLE_PER_CALL = 5
RESULT_STATUSES = ("sent", "failed", "not_on_whatsapp")
MAX_NAME = 100


def owner_of(device: DeviceAuth) -> str:
    """The lease owner a device's claims carry."""
    return f"device:{device.id}"


# -- management (the native API) ------------------------------------------------------------------


async def _device_channel(rt: Runtime, tenant: Tenant, channel_name: str) -> ChannelRow:
    channel = (await rt.channels_of(tenant.id, fresh=True)).get(channel_name)
    if channel is None:
        raise NotFoundError(f"channel {channel_name!r} not found", field="name")
    if channel.kind != "device":
        raise ValidationError(
            f"channel {channel_name!r} is of kind {channel.kind!r}; devices belong to device channels",
            field="name",
            code="not_a_device_channel",
        )
    return channel


def optional_text(body: dict[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(f"{key} must be a string of at most {limit} characters", field=key)
    return value.strip() or None


async def create_device(rt: Runtime, tenant: Tenant, channel_name: str, body: dict[str, Any]) -> tuple[Any, str]:
    """A new device token for a device channel. The token is returned once and stored hashed."""
    channel = await _device_channel(rt, tenant, channel_name)
    name = optional_text(body, "name", MAX_NAME)
    serial = optional_text(body, "serial", 128)
    token = new_token(TOKEN_PREFIX)
    now = rt.clock.now()

    def job(conn: Any) -> Any:
        chosen = name or f"device-{len(repo.list_devices(conn, channel.id, include_revoked=True)) + 1}"
        if repo.get_device_by_name(conn, channel.id, chosen) is not None:
            raise ConflictError(f"device {chosen!r} exists on channel {channel.name!r}", field="name", code="exists")
        return repo.insert_device(
            conn,
            tenant_id=tenant.id,
            channel_id=channel.id,
            name=chosen,
            token_hash=hash_token(token),
            serial=serial,
            now=now,
        )

    return await rt.db.write(job), token


async def list_devices(rt: Runtime, tenant: Tenant, channel_name: str) -> list[Any]:
    channel = await _device_channel(rt, tenant, channel_name)
    return await rt.db.read(lambda c: repo.list_devices(c, channel.id))


async def revoke_device(rt: Runtime, tenant: Tenant, channel_name: str, device_id: int) -> None:
    """The device's token stops working (within ``AUTH_CACHE_SECONDS`` on other processes)."""
    channel = await _device_channel(rt, tenant, channel_name)
    now = rt.clock.now()

    def job(conn: Any) -> Any:
        row = repo.get_device(conn, channel.id, device_id)
        if row is None or row.revoked_at is not None:
            raise NotFoundError(f"device {device_id} not found", field="device_id")
        repo.revoke_device(conn, device_id, now)
        return row

    row = await rt.db.write(job)
    _auth_cache(rt).pop(row.token_hash, None)


# -- authentication and presence ---------------------------------------------------------------------


def _auth_cache(rt: Runtime) -> dict[str, tuple[float, DeviceAuth | None]]:
    cache: dict[str, tuple[float, DeviceAuth | None]] = rt.extras.setdefault("device_auth_cache", {})
    return cache


async def authenticate(rt: Runtime, token: str) -> DeviceAuth | None:
    """Device token → device, cached briefly (a device polls every few seconds). Never logs the token."""
    digest = hash_token(token)
    cache = _auth_cache(rt)
    hit = cache.get(digest)
    if hit is not None and time.monotonic() - hit[0] < AUTH_CACHE_SECONDS:
        return hit[1]
    device = await rt.db.read(lambda c: repo.lookup_device(c, digest))
    if len(cache) > 10000:
        cache.clear()
    cache[digest] = (time.monotonic(), device)
    return device


def presence_changed(rt: Runtime) -> asyncio.Event:
    """Set when a device comes online: the presence monitor recomputes its next deadline."""
    event: asyncio.Event = rt.extras.setdefault("device_presence_changed", asyncio.Event())
    return event


async def seen(rt: Runtime, device: DeviceAuth, fields: dict[str, Any] | None = None) -> Any:
    """The device called: it is online now (an event if it was offline), with its heartbeat fields."""
    now = rt.clock.now()
    row, came_online = await rt.db.write(lambda c: repo.touch(c, device.id, device.channel_name, now, fields))
    if came_online:
        presence_changed(rt).set()
    return row


def heartbeat_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a heartbeat body into device columns (unknown keys are ignored)."""
    fields: dict[str, Any] = {}
    battery = body.get("battery")
    if battery is not None:
        if isinstance(battery, bool) or not isinstance(battery, int | float) or not 0 <= battery <= 100:
            raise ValidationError("battery must be a number from 0 to 100", field="battery")
        fields["battery"] = round(battery)
    for key in ("charging", "screen_on"):
        value = body.get(key)
        if value is not None:
            if not isinstance(value, bool):
                raise ValidationError(f"{key} must be true or false", field=key)
            fields[key] = value
    screen = body.get("screen")
    if screen is not None and "screen_on" not in fields:
        if isinstance(screen, bool):
            fields["screen_on"] = screen
        elif screen in ("on", "off"):
            fields["screen_on"] = screen == "on"
        else:
            raise ValidationError('screen must be "on", "off", true or false', field="screen")
    for key, limit in (("whatsapp_version", 64), ("app_version", 64), ("serial", 128)):
        value = optional_text(body, key, limit)
        if value is not None:
            fields[key] = value
    return fields


async def sweep_offline(rt: Runtime) -> list[Any]:
    """Mark devices silent past their threshold ``offline`` (one event each)."""
    now = rt.clock.now()
    return await rt.db.write(lambda c: repo.mark_silent_offline(c, now))


# -- sending -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    """What ``GET /next`` answers: a leased message, or when to ask again."""

    message: dict[str, Any] | None
    #: Seconds until a claim could succeed; ``None`` when nothing is queued.
    retry_after: float | None = None


async def channel_of(rt: Runtime, device: DeviceAuth) -> ChannelRow:
    channel = (await rt.channels_of(device.tenant_id)).get(device.channel_name)
    if channel is None:
        channel = (await rt.channels_of(device.tenant_id, fresh=True)).get(device.channel_name)
    if channel is None:
        raise NotFoundError("the device's channel no longer exists", field="Authorization")
    return channel


def message_text(mtype: str, payload: dict[str, Any]) -> str:
    """What goes into WhatsApp's input field: the text, a media caption, or a rendering of the rest."""
    if mtype == MessageType.TEXT:
        return str(payload.get("text") or "")
    if mtype in MEDIA_TYPES:
        return str((payload.get("media") or {}).get("caption") or "")
    if mtype == MessageType.LOCATION:
        loc = payload.get("location") or {}
        lines = [str(loc[k]) for k in ("name", "address") if loc.get(k)]
        lines.append(f"https://maps.google.com/?q={loc.get('latitude')},{loc.get('longitude')}")
        return "\n".join(lines)
    if mtype == MessageType.CONTACTS:
        lines = []
        for card in payload.get("contacts") or []:
            name = card.get("name")
            if isinstance(name, dict):
                name = name.get("formatted_name") or " ".join(
                    str(name[k]) for k in ("first_name", "last_name") if name.get(k)
                )
            phones = [str(p.get("phone")) for p in card.get("phones") or [] if isinstance(p, dict) and p.get("phone")]
            lines.append(" ".join([str(name), *phones]).strip())
        return "\n".join(lines)
    if mtype == MessageType.TEMPLATE:
        return str((payload.get("template") or {}).get("body") or "")
    return ""


def undeliverable(row: Any) -> SendError | None:
    """Why a device cannot send this message at all (it is failed at once instead of being offered)."""
    payload = row.payload or {}
    if row.type in MEDIA_TYPES and not (payload.get("media") or {}).get("url"):
        return SendError(
            "a device downloads media by URL; this message only has a media id",
            code="media_unavailable",
            retryable=False,
        )
    if row.type == MessageType.TEMPLATE and not (payload.get("template") or {}).get("body"):
        return SendError(
            "a device sends what a person could type; this template has no rendered body",
            code="template_unsupported",
            retryable=False,
        )
    return None


def wa_me_link(phone: str, text: str) -> str:
    """The click-to-chat link: opens the chat with ``text`` pre-filled in the input field."""
    return f"https://wa.me/{phone}" + (f"?text={quote(text, safe='')}" if text else "")


def offer_json(row: Any) -> dict[str, Any]:
    """A leased message as the agent needs it (CONTRACT §8 ``GET /device/v1/next``)."""
    payload = row.payload or {}
    text = message_text(row.type, payload)
    media = payload.get("media")
    return {
        "id": row.id,
        "phone": row.phone,
        "type": row.type,
        "text": text,
        "media": (
            {k: media.get(k) for k in ("url", "filename", "caption", "mime_type")} if isinstance(media, dict) else None
        ),
        "link": wa_me_link(row.phone, text),
        "attempt": row.attempts,
        "lease_expires_at": row.lease_expires_at.isoformat() if row.lease_expires_at else None,
        "client_ref": row.client_ref,
    }


async def next_message(rt: Runtime, device: DeviceAuth) -> Offer:
    """Lease the next due message of the device's channel, or say when to ask again.

    A device asking again while it still holds a live lease (its agent restarted) gets that
    message back first, with the lease unchanged, so a restart does not wait for the lease to
    run out; the agent's own record of what it already sent keeps this from sending twice.
    """
    channel = await channel_of(rt, device)
    owner = owner_of(device)
    now = rt.clock.now()
    held = await rt.db.read(lambda c: repo.held_lease(c, channel.id, owner, now))
    if held is not None:
        return Offer(offer_json(held))
    lease = setting_seconds(channel.settings, "lease_seconds", DEFAULT_LEASE_SECONDS)
    for _ in range(MAX_UNDELIVERABLE_PER_CALL):
        row = await claim_next(rt, channel, owner, lease)
        if row is None:
            break
        problem = undeliverable(row)
        if problem is None:
            rt.wakeup.notify()  # the dispatcher's housekeeping now has a lease deadline to watch
            return Offer(offer_json(row))
        await complete(rt, channel, [AttemptResult(row.id, row.attempts, problem)], resend_safe=True)
    slot = await next_slot(rt, channel)
    if slot is None:
        return Offer(None, None)
    return Offer(None, max(0.0, (slot - rt.clock.now()).total_seconds()))


def poll_seconds(device: DeviceAuth) -> float:
    return setting_seconds(device.channel_settings, "poll_interval_s", DEFAULT_POLL_SECONDS)


def _result_answer(status: str, body: dict[str, Any]) -> SendResult | SendError:
    error = body.get("error")
    if error is not None and not isinstance(error, str):
        raise ValidationError("error must be a string", field="error")
    detail = (error or "").strip()[:1000]
    if status == "sent":
        return SendResult(provider_id=None)
    if status == "not_on_whatsapp":
        return SendError(detail or "the number is not on WhatsApp", code="not_on_whatsapp", retryable=False)
    retry = body.get("retry", False)
    if not isinstance(retry, bool):
        raise ValidationError("retry must be true or false", field="retry")
    return SendError(detail or "the device could not send the message", code="device_failed", retryable=retry)


_DONE_FOR = {
    "sent": {Status.SENT, Status.DELIVERED, Status.READ},
    "failed": {Status.FAILED},
    "not_on_whatsapp": {Status.FAILED},
}


async def record_result(rt: Runtime, device: DeviceAuth, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Record what the device did with a message; the same report twice changes nothing.

    A report for a message whose lease already ran out (it went back to the queue) still
    counts — the phone knows best — so it is taken back under this device's lease first and
    not offered again.
    """
    status = body.get("status")
    if status not in RESULT_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(RESULT_STATUSES)}", field="status")
    answer = _result_answer(status, body)
    channel = await channel_of(rt, device)
    row = await rt.db.read(lambda c: repo.channel_message(c, channel.id, message_id))
    if row is None:
        raise NotFoundError(f"message {message_id} not found on this channel", field="id")
    current = Status(row.status)
    now = rt.clock.now()
    presence = {"sent": "exists", "not_on_whatsapp": "none"}.get(status)
    if current in _DONE_FOR[status]:
        return {"id": message_id, "status": current.value, "applied": False}
    owner = owner_of(device)
    if not await rt.db.read(lambda c: repo.leased_by(c, message_id, owner)):
        # Only the device that was handed the message can know its fate.
        raise ConflictError(
            f"message {message_id} was never leased to device {device.name}", field="id", code="not_leased"
        )
    if presence is not None:
        await rt.db.write(
            lambda c: contact_repo.record_phone_check(
                c, device.tenant_id, row.phone, presence, channel.name, now, now + PHONE_CHECK_TTL
            )
        )
    if current is Status.QUEUED:
        lease = setting_seconds(channel.settings, "lease_seconds", DEFAULT_LEASE_SECONDS)
        await rt.db.write(
            lambda c: message_repo.apply_status(
                c,
                message_id,
                Status.SENDING,
                now=now,
                reason=f"late result from device {device.name}",
                extra={"lease_owner": owner_of(device), "lease_expires_at": now + timedelta(seconds=lease)},
            )
        )
    changes = await complete(rt, channel, [AttemptResult(message_id, max(1, row.attempts), answer)], resend_safe=True)
    final = await rt.db.read(lambda c: repo.channel_message(c, channel.id, message_id))
    applied = any(ch.applied for ch in changes)
    return {"id": message_id, "status": final.status if final else current.value, "applied": applied}
