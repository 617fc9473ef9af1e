"""Devices of ``device`` channels: tokens, presence (online/offline), heartbeats, forwarded notifications.

Presence is derived from one recorded fact, ``last_seen_at``: every call a device makes
touches it, and the offline sweep marks devices whose silence passed their channel's
threshold. Each change of presence appends a ``channel.status`` event in the same
transaction (invariant 2), so webhooks and the dashboard hear about it exactly when it is true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from wagate.domain.statuses import Status
from wagate.store.device_tables import device_notifications, devices
from wagate.store.repos.events import append_event
from wagate.store.tables import channels, contacts, message_status_history, messages, tenants

ONLINE = "online"
OFFLINE = "offline"
#: A device silent this long is offline, unless its channel's ``settings.offline_after_s`` says otherwise.
DEFAULT_OFFLINE_AFTER_S = 120.0
#: Heartbeat fields a device may report, with the column each one fills.
HEARTBEAT_FIELDS = ("battery", "charging", "screen_on", "whatsapp_version", "app_version", "serial")


@dataclass(frozen=True, slots=True)
class DeviceAuth:
    """A device as its token identifies it, with what the protocol needs of its channel and tenant."""

    id: int
    name: str
    tenant_id: int
    default_region: str
    channel_id: int
    channel_name: str
    channel_kind: str
    channel_settings: dict[str, Any]


def offline_after(settings: dict[str, Any] | None) -> float:
    """Seconds of silence after which a device of a channel with these settings is offline."""
    value = (settings or {}).get("offline_after_s")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_OFFLINE_AFTER_S


def insert_device(
    conn: Connection, *, tenant_id: int, channel_id: int, name: str, token_hash: str, serial: str | None, now: datetime
) -> Any:
    result = conn.execute(
        devices.insert().values(
            tenant_id=tenant_id,
            channel_id=channel_id,
            name=name,
            token_hash=token_hash,
            serial=serial,
            status=OFFLINE,
            created_at=now,
            updated_at=now,
        )
    )
    device_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return conn.execute(sa.select(devices).where(devices.c.id == device_id)).one()


def get_device_by_name(conn: Connection, channel_id: int, name: str) -> Any | None:
    return conn.execute(sa.select(devices).where(devices.c.channel_id == channel_id, devices.c.name == name)).first()


def get_device(conn: Connection, channel_id: int, device_id: int) -> Any | None:
    return conn.execute(sa.select(devices).where(devices.c.channel_id == channel_id, devices.c.id == device_id)).first()


def list_devices(conn: Connection, channel_id: int, include_revoked: bool = False) -> list[Any]:
    query = sa.select(devices).where(devices.c.channel_id == channel_id).order_by(devices.c.id)
    if not include_revoked:
        query = query.where(devices.c.revoked_at.is_(None))
    return list(conn.execute(query))


def revoke_device(conn: Connection, device_id: int, now: datetime) -> bool:
    result = conn.execute(
        devices.update()
        .where(devices.c.id == device_id, devices.c.revoked_at.is_(None))
        .values(revoked_at=now, updated_at=now, status=OFFLINE)
    )
    return bool(result.rowcount)


def lookup_device(conn: Connection, token_hash: str) -> DeviceAuth | None:
    """The live (not revoked) device holding the token with this hash."""
    row = conn.execute(
        sa.select(
            devices.c.id,
            devices.c.name,
            devices.c.tenant_id,
            devices.c.channel_id,
            tenants.c.default_region,
            channels.c.name.label("channel_name"),
            channels.c.kind.label("channel_kind"),
            channels.c.settings.label("channel_settings"),
        )
        .join(channels, channels.c.id == devices.c.channel_id)
        .join(tenants, tenants.c.id == devices.c.tenant_id)
        .where(devices.c.token_hash == token_hash, devices.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return DeviceAuth(
        id=int(row.id),
        name=row.name,
        tenant_id=int(row.tenant_id),
        default_region=row.default_region,
        channel_id=int(row.channel_id),
        channel_name=row.channel_name,
        channel_kind=row.channel_kind,
        channel_settings=row.channel_settings or {},
    )


def _presence_event(
    conn: Connection, device: Any, channel_name: str, status: str, previous: str, now: datetime
) -> None:
    append_event(
        conn,
        tenant_id=device.tenant_id,
        type="channel.status",
        now=now,
        payload={
            "channel": channel_name,
            "kind": "device",
            "device": device.name,
            "device_id": device.id,
            "status": status,
            "previous_status": previous,
            "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None,
            "at": now.isoformat(),
        },
    )


def touch(
    conn: Connection, device_id: int, channel_name: str, now: datetime, fields: dict[str, Any] | None = None
) -> tuple[Any, bool]:
    """Record that the device called now (and what its heartbeat said). Returns ``(row, came_online)``.

    A device that was ``offline`` becomes ``online`` here, with its ``channel.status`` event.
    """
    values: dict[str, Any] = {"last_seen_at": now, "status": ONLINE, "updated_at": now}
    values.update({k: v for k, v in (fields or {}).items() if k in HEARTBEAT_FIELDS})
    before = conn.execute(sa.select(devices.c.status).where(devices.c.id == device_id)).scalar_one()
    conn.execute(devices.update().where(devices.c.id == device_id).values(**values))
    row = conn.execute(sa.select(devices).where(devices.c.id == device_id)).one()
    came_online = before != ONLINE
    if came_online:
        _presence_event(conn, row, channel_name, ONLINE, before, now)
    return row, came_online


def _online_devices(conn: Connection) -> list[Any]:
    return list(
        conn.execute(
            sa.select(devices, channels.c.name.label("channel_name"), channels.c.settings.label("channel_settings"))
            .join(channels, channels.c.id == devices.c.channel_id)
            .where(devices.c.status == ONLINE, devices.c.revoked_at.is_(None))
        )
    )


def mark_silent_offline(conn: Connection, now: datetime) -> list[Any]:
    """Every online device silent past its channel's threshold becomes ``offline`` (with its event).

    The UPDATE is guarded by the ``last_seen_at`` that was read, so a device calling in at the
    same moment (another process) stays online.
    """
    marked = []
    for row in _online_devices(conn):
        limit = timedelta(seconds=offline_after(row.channel_settings))
        if row.last_seen_at is not None and row.last_seen_at + limit > now:
            continue
        guard = (
            devices.c.last_seen_at.is_(None) if row.last_seen_at is None else devices.c.last_seen_at == row.last_seen_at
        )
        result = conn.execute(
            devices.update()
            .where(devices.c.id == row.id, devices.c.status == ONLINE, guard)
            .values(status=OFFLINE, updated_at=now)
        )
        if result.rowcount:
            _presence_event(conn, row, row.channel_name, OFFLINE, ONLINE, now)
            marked.append(row)
    return marked


def next_offline_deadline(conn: Connection) -> datetime | None:
    """When the next online device would turn offline if it stays silent."""
    deadlines = [
        row.last_seen_at + timedelta(seconds=offline_after(row.channel_settings))
        for row in _online_devices(conn)
        if row.last_seen_at is not None
    ]
    return min(deadlines) if deadlines else None


def held_lease(conn: Connection, channel_id: int, owner: str, now: datetime) -> Any | None:
    """A message this device still holds under a live lease (it asked again, e.g. after a restart)."""
    return conn.execute(
        sa.select(messages)
        .where(
            messages.c.channel_id == channel_id,
            messages.c.status == Status.SENDING.value,
            messages.c.lease_owner == owner,
            messages.c.lease_expires_at > now,
        )
        .order_by(messages.c.id)
        .limit(1)
    ).first()


def leased_by(conn: Connection, message_id: int, owner: str) -> bool:
    """Whether ``owner`` holds or once held a lease on the message (a claim is recorded in its
    history as ``claimed by <owner>``; a lease that ran out leaves the message queued)."""
    row = conn.execute(sa.select(messages.c.status, messages.c.lease_owner).where(messages.c.id == message_id)).first()
    if row is not None and row.status == Status.SENDING.value and row.lease_owner == owner:
        return True
    found = conn.execute(
        sa.select(message_status_history.c.id)
        .where(
            message_status_history.c.message_id == message_id,
            message_status_history.c.status == Status.SENDING.value,
            message_status_history.c.reason == f"claimed by {owner}",
        )
        .limit(1)
    ).first()
    return found is not None


def channel_message(conn: Connection, channel_id: int, message_id: int) -> Any | None:
    """An outbound message of the channel, by id."""
    return conn.execute(
        sa.select(messages).where(
            messages.c.id == message_id, messages.c.channel_id == channel_id, messages.c.direction == "out"
        )
    ).first()


def phones_named(conn: Connection, tenant_id: int, name: str) -> list[str]:
    """Phones of the tenant's contacts saved under ``name`` (case-insensitive; PostgreSQL folds any
    script, SQLite only ASCII, so the usual spellings of the name are matched exactly as well)."""
    name = name.strip()
    variants = {name, name.lower(), name.upper(), name.title(), name.capitalize()}
    rows = conn.execute(
        sa.select(contacts.c.phone)
        .where(
            contacts.c.tenant_id == tenant_id,
            sa.or_(sa.func.lower(sa.func.trim(contacts.c.name)) == name.lower(), contacts.c.name.in_(variants)),
        )
        .order_by(contacts.c.phone)
        .limit(20)
    )
    return sorted({r.phone for r in rows})


def find_notification(conn: Connection, channel_id: int, key_hash: str) -> Any | None:
    return conn.execute(
        sa.select(device_notifications).where(
            device_notifications.c.channel_id == channel_id, device_notifications.c.key_hash == key_hash
        )
    ).first()


def record_notification(conn: Connection, values: dict[str, Any]) -> None:
    """Remember a forwarded notification; a second record of the same key is a no-op."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(device_notifications)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel_id", "key_hash"])
    )
