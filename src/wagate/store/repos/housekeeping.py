"""Queue-wide chores of the dispatcher: lease recovery, validity expiry, send-log pruning, deadlines."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.statuses import Status
from wagate.store.dispatch_tables import channel_sends
from wagate.store.repos.claims import aware
from wagate.store.repos.queue import expire_overdue, recover_expired_leases
from wagate.store.tables import channels, messages

BATCH = 1000


def recover_all(conn: Connection, *, now: datetime, resend_safe_channels: set[int]) -> tuple[list[int], list[int]]:
    """Every expired lease: re-offered on resend-safe channels, ``unknown`` elsewhere."""
    requeued: list[int] = []
    unknown: list[int] = []
    while True:
        again, lost = recover_expired_leases(conn, now=now, resend_safe_channels=resend_safe_channels, limit=BATCH)
        requeued += again
        unknown += lost
        if len(again) + len(lost) < BATCH:
            return requeued, unknown


def expire_all(conn: Connection, now: datetime) -> list[int]:
    """Every queued message whose validity passed, on every channel (paused and pull ones too)."""
    expired: list[int] = []
    while True:
        batch = expire_overdue(conn, now, limit=BATCH)
        expired += batch
        if len(batch) < BATCH:
            return expired


def prune_send_log(conn: Connection, before: datetime) -> int:
    result = conn.execute(channel_sends.delete().where(channel_sends.c.at < before))
    return int(result.rowcount or 0)


def next_deadline(conn: Connection) -> datetime | None:
    """The next moment housekeeping has work: a queued message's validity or a lease running out."""
    expiry = aware(
        conn.execute(
            sa.select(sa.func.min(messages.c.expires_at)).where(
                messages.c.status == Status.QUEUED.value, messages.c.expires_at.is_not(None)
            )
        ).scalar()
    )
    lease = aware(
        conn.execute(
            sa.select(sa.func.min(messages.c.lease_expires_at)).where(
                messages.c.status == Status.SENDING.value, messages.c.lease_expires_at.is_not(None)
            )
        ).scalar()
    )
    found = [t for t in (expiry, lease) if t is not None]
    return min(found) if found else None


def channel_names_of(conn: Connection, message_ids: list[int]) -> dict[str, int]:
    """How many of ``message_ids`` each channel has (for metrics labels)."""
    counts: dict[str, int] = {}
    for i in range(0, len(message_ids), 500):
        rows = conn.execute(
            sa.select(channels.c.name, sa.func.count())
            .join(messages, messages.c.channel_id == channels.c.id)
            .where(messages.c.id.in_(message_ids[i : i + 500]))
            .group_by(channels.c.name)
        )
        for name, n in rows:
            counts[name] = counts.get(name, 0) + int(n)
    return counts
