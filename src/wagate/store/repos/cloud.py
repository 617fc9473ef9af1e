"""Status webhooks waiting for their message (see ``store.cloud_tables``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.store.cloud_tables import cloud_pending_statuses
from wagate.store.tables import messages


def add_pending(
    conn: Connection,
    *,
    channel_id: int,
    provider_id: str,
    status: str,
    error_code: str | None,
    error_message: str | None,
    provider_code: str | None,
    now: datetime,
    pricing: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        cloud_pending_statuses.insert().values(
            channel_id=channel_id,
            provider_id=provider_id,
            status=status,
            error_code=error_code,
            error_message=error_message,
            provider_code=provider_code,
            pricing=pricing,
            received_at=now,
        )
    )


def has_pending(conn: Connection, channel_id: int, provider_id: str) -> bool:
    row = conn.execute(
        sa.select(cloud_pending_statuses.c.id)
        .where(cloud_pending_statuses.c.channel_id == channel_id, cloud_pending_statuses.c.provider_id == provider_id)
        .limit(1)
    ).first()
    return row is not None


def list_pending(conn: Connection, limit: int = 500) -> list[Any]:
    """Oldest first, so statuses of one message are applied in the order Meta sent them."""
    return list(conn.execute(sa.select(cloud_pending_statuses).order_by(cloud_pending_statuses.c.id).limit(limit)))


def delete_pending(conn: Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(cloud_pending_statuses.delete().where(cloud_pending_statuses.c.id.in_(ids)))


def delete_older_than(conn: Connection, before: datetime) -> int:
    result = conn.execute(cloud_pending_statuses.delete().where(cloud_pending_statuses.c.received_at < before))
    return int(result.rowcount or 0)


def known_provider_ids(conn: Connection, channel_ids: set[int], provider_ids: set[str]) -> set[tuple[int, str]]:
    """Which (channel, wamid) pairs now have a message: one query for a whole sweep."""
    if not provider_ids:
        return set()
    rows = conn.execute(
        sa.select(messages.c.channel_id, messages.c.provider_id).where(
            messages.c.channel_id.in_(channel_ids), messages.c.provider_id.in_(provider_ids)
        )
    )
    return {(int(r.channel_id), str(r.provider_id)) for r in rows}
