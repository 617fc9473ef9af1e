"""Queue-wide chores of the dispatcher: lease recovery, validity expiry, send-log pruning, deadlines,
and the retention of message bodies."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.statuses import Status
from wagate.store.dispatch_tables import channel_sends
from wagate.store.repos.claims import aware
from wagate.store.repos.queue import expire_overdue, recover_expired_leases
from wagate.store.tables import channels, messages, tenants

BATCH = 1000
#: What a message's ``payload`` becomes when its body is pruned by retention: the text, media
#: references, captions, locations and contact cards go; status, times, phone, type, operator,
#: channel, campaign, error and cost stay for analytics.
PRUNED_PAYLOAD: dict[str, bool] = {"pruned": True}
#: Messages still on their way are never pruned (their body is still needed to send them).
UNFINISHED = (Status.QUEUED.value, Status.SENDING.value)


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


def tenant_retentions(conn: Connection) -> dict[int, float | None]:
    """Each tenant's ``retention_days`` policy setting (absent: None, the deployment default)."""
    found: dict[int, float | None] = {}
    for tenant_id, settings in conn.execute(sa.select(tenants.c.id, tenants.c.settings)):
        days = ((settings or {}).get("policy") or {}).get("retention_days")
        found[int(tenant_id)] = float(days) if isinstance(days, int | float) else None
    return found


def prune_bodies(
    conn: Connection, tenant_id: int, *, before: datetime, after_id: int, limit: int = BATCH
) -> tuple[int, int, bool]:
    """Prune the bodies of one batch of the tenant's messages created before ``before``.

    Walks the tenant's messages by id from ``after_id`` (the ``(tenant_id, id)`` index), one
    short transaction per batch, so no lock is held for long. Stops at the first message that
    is young enough to keep or still queued or sending (looked at again on the next pass).
    Returns how many bodies were pruned, the id the walk has covered up to (the next pass starts
    after it) and whether there is more to walk now.
    """
    rows = conn.execute(
        sa.select(messages.c.id, messages.c.status, messages.c.payload, messages.c.created_at)
        .where(messages.c.tenant_id == tenant_id, messages.c.id > after_id)
        .order_by(messages.c.id)
        .limit(limit)
    ).all()
    ids: list[int] = []
    covered = after_id
    stopped = False
    for row in rows:
        created = aware(row.created_at)
        if created is None or created >= before or row.status in UNFINISHED:
            stopped = True
            break
        if row.payload != PRUNED_PAYLOAD:
            ids.append(int(row.id))
        covered = int(row.id)
    if ids:
        conn.execute(messages.update().where(messages.c.id.in_(ids)).values(payload=PRUNED_PAYLOAD))
    return len(ids), covered, not stopped and len(rows) == limit
