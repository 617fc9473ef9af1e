"""The events outbox: appended in the same transaction as the state change it describes.

The id is the cursor: consumers (webhook sender, ``GET /v1/events``, the dashboard)
read forward from the last id they saw, so a restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.store.tables import events


def append_event(
    conn: Connection,
    *,
    tenant_id: int,
    type: str,
    payload: dict[str, Any],
    now: datetime,
    message_id: int | None = None,
) -> int:
    result = conn.execute(
        events.insert().values(tenant_id=tenant_id, type=type, message_id=message_id, payload=payload, created_at=now)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def events_after(
    conn: Connection,
    *,
    after_id: int,
    limit: int,
    tenant_id: int | None = None,
    types: list[str] | None = None,
) -> list[dict[str, Any]]:
    query = sa.select(events).where(events.c.id > after_id).order_by(events.c.id).limit(limit)
    if tenant_id is not None:
        query = query.where(events.c.tenant_id == tenant_id)
    if types:
        query = query.where(events.c.type.in_(types))
    return [dict(r._mapping) for r in conn.execute(query)]


def append_channel_status(
    conn: Connection, channel: Any, *, status: str, previous: str, reason: str, now: datetime
) -> int:
    """A ``channel.status`` event for a channel row that changed status (paused, resumed)."""
    return append_event(
        conn,
        tenant_id=channel.tenant_id,
        type="channel.status",
        now=now,
        payload={
            "channel": channel.name,
            "kind": channel.kind,
            "status": status,
            "previous_status": previous,
            "reason": reason,
            "at": now.isoformat(),
        },
    )
