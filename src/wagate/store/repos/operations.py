"""What the operations page shows: per-channel queue depth, recent sends and failures, devices,
and the messages left in ``unknown`` state.

Devices belong to the device channel (another package): this module reads the ``devices``
table only if the schema has one (``metadata.tables``), so the page works with or without it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.statuses import Status
from wagate.store.schema import metadata  # every table module of the node, the device channel's too
from wagate.store.tables import channels, message_status_history, messages

#: docs/device.md: a device silent for 2 minutes shows as offline.
DEVICE_SILENCE = timedelta(minutes=2)


def channel_stats(conn: Connection, tenant_id: int, now: datetime) -> dict[int, dict[str, int]]:
    """Per channel id: ``queued``, ``sending``, ``sent_1h`` (messages that reached ``sent`` in the
    last hour) and ``failed_24h``."""
    m = messages.c
    out: dict[int, dict[str, int]] = {}

    def slot(channel_id: int) -> dict[str, int]:
        return out.setdefault(channel_id, {"queued": 0, "sending": 0, "sent_1h": 0, "failed_24h": 0})

    rows = conn.execute(
        sa.select(m.channel_id, m.status, sa.func.count())
        .where(m.tenant_id == tenant_id, m.status.in_([Status.QUEUED.value, Status.SENDING.value]))
        .group_by(m.channel_id, m.status)
    )
    for channel_id, status, count in rows:
        slot(channel_id)[status] = int(count)
    h = message_status_history.c
    for key, status, since in (
        ("sent_1h", Status.SENT.value, now - timedelta(hours=1)),
        ("failed_24h", Status.FAILED.value, now - timedelta(hours=24)),
    ):
        rows = conn.execute(
            sa.select(m.channel_id, sa.func.count())
            .select_from(message_status_history.join(messages, messages.c.id == h.message_id))
            .where(m.tenant_id == tenant_id, h.status == status, h.applied.is_(True), h.at >= since)
            .group_by(m.channel_id)
        )
        for channel_id, count in rows:
            slot(channel_id)[key] = int(count)
    return out


def unknown_messages(conn: Connection, tenant_id: int, limit: int = 100) -> list[Any]:
    m = messages.c
    return list(
        conn.execute(
            sa.select(messages, channels.c.name.label("channel_name"))
            .join(channels, channels.c.id == m.channel_id)
            .where(m.tenant_id == tenant_id, m.status == Status.UNKNOWN.value)
            .order_by(m.id.desc())
            .limit(limit)
        )
    )


def devices(conn: Connection, tenant_id: int, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """Per channel id, its devices: name, online (per the table's status and the 2-minute rule), battery."""
    table = metadata.tables.get("devices")
    if table is None:
        return {}
    columns = table.c
    query = sa.select(table).where(columns.tenant_id == tenant_id)
    if "revoked_at" in columns:
        query = query.where(columns.revoked_at.is_(None))
    out: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(query.order_by(columns.id)):
        data = row._mapping
        seen = data.get("last_seen_at")
        online = data.get("status") == "online" and seen is not None and now - seen < DEVICE_SILENCE
        out.setdefault(int(data["channel_id"]), []).append(
            {
                "name": data.get("name") or data.get("serial") or f"#{data['id']}",
                "online": online,
                "last_seen_at": seen,
                "battery": data.get("battery"),
                "charging": data.get("charging"),
            }
        )
    return out
