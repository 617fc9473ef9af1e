"""Claiming queued messages under a lease, and recovering leases that expired.

PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so concurrent dispatchers never wait on or take the
same row. SQLite: the single writer serialises claims, and ``UPDATE … WHERE status='queued'``
makes each claim atomic. Either way a cancel racing a claim loses or wins cleanly, because
both only move a row that is still ``queued``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.statuses import Status
from wagate.store import dialect
from wagate.store.repos.messages import apply_status, record_applied
from wagate.store.tables import messages


def expire_overdue(conn: Connection, now: datetime, limit: int = 500, channel_id: int | None = None) -> list[int]:
    """Queued messages whose validity passed become ``expired``: never sent late."""
    query = (
        sa.select(messages.c.id)
        .where(
            messages.c.status == Status.QUEUED.value,
            messages.c.expires_at.is_not(None),
            messages.c.expires_at <= now,
        )
        .limit(limit)
    )
    if channel_id is not None:
        query = query.where(messages.c.channel_id == channel_id)
    ids = [r.id for r in conn.execute(query)]
    expired = []
    for message_id in ids:
        change = apply_status(
            conn,
            message_id,
            Status.EXPIRED,
            now=now,
            reason="validity passed before sending",
            error_code="expired",
            error_message="validity passed before sending",
            record_ignored=False,
        )
        if change and change.applied:
            expired.append(message_id)
    return expired


def claim_due(
    conn: Connection,
    *,
    channel_ids: list[int],
    owner: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
) -> list[Any]:
    """Move up to ``limit`` due messages of the given channels from ``queued`` to ``sending``."""
    if not channel_ids or limit <= 0:
        return []
    candidates = (
        sa.select(messages.c.id)
        .where(
            messages.c.status == Status.QUEUED.value,
            messages.c.channel_id.in_(channel_ids),
            messages.c.due_at <= now,
            sa.or_(messages.c.expires_at.is_(None), messages.c.expires_at > now),
        )
        .order_by(messages.c.due_at, messages.c.id)
        .limit(limit)
    )
    candidates = dialect.for_update(candidates, conn, skip_locked=True)
    ids = [r.id for r in conn.execute(candidates)]
    if not ids:
        return []
    lease_until = now + timedelta(seconds=lease_seconds)
    claimed = list(
        conn.execute(
            messages.update()
            .where(messages.c.id.in_(ids), messages.c.status == Status.QUEUED.value)
            .values(
                status=Status.SENDING.value,
                lease_owner=owner,
                lease_expires_at=lease_until,
                attempts=messages.c.attempts + 1,
                updated_at=now,
            )
            .returning(*messages.c)
        )
    )
    for row in claimed:
        record_applied(conn, row.id, Status.QUEUED, Status.SENDING, now=now, reason=f"claimed by {owner}")
    claimed.sort(key=lambda r: (r.due_at, r.id))
    return claimed


def next_due_at(conn: Connection, channel_ids: list[int]) -> datetime | None:
    if not channel_ids:
        return None
    value = conn.execute(
        sa.select(sa.func.min(messages.c.due_at)).where(
            messages.c.status == Status.QUEUED.value, messages.c.channel_id.in_(channel_ids)
        )
    ).scalar()
    if value is None:
        return None
    if isinstance(value, str):  # SQLite aggregate loses the column type
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


def requeue(
    conn: Connection,
    message_id: int,
    *,
    now: datetime,
    due_at: datetime,
    reason: str,
    error_code: str | None,
    error_message: str | None,
) -> bool:
    change = apply_status(
        conn,
        message_id,
        Status.QUEUED,
        now=now,
        reason=reason,
        error_code=error_code,
        error_message=error_message,
        extra={"due_at": due_at},
    )
    return bool(change and change.applied)


def recover_expired_leases(
    conn: Connection,
    *,
    now: datetime,
    resend_safe_channels: set[int],
    limit: int = 1000,
) -> tuple[list[int], list[int]]:
    """Leases that ran out (a crashed process): re-offer when safe, otherwise ``unknown``.

    Returns ``(requeued, unknown)``.
    """
    rows = list(
        conn.execute(
            sa.select(messages.c.id, messages.c.channel_id)
            .where(
                messages.c.status == Status.SENDING.value,
                messages.c.lease_expires_at.is_not(None),
                messages.c.lease_expires_at <= now,
            )
            .order_by(messages.c.id)
            .limit(limit)
        )
    )
    requeued, unknown = [], []
    for row in rows:
        if row.channel_id in resend_safe_channels:
            if requeue(
                conn,
                row.id,
                now=now,
                due_at=now,
                reason="lease expired; re-offered (resend-safe channel)",
                error_code=None,
                error_message=None,
            ):
                requeued.append(row.id)
        else:
            change = apply_status(
                conn,
                row.id,
                Status.UNKNOWN,
                now=now,
                reason="lease expired while the channel held it; not resent",
                error_code="unknown_outcome",
                error_message="the process stopped while sending; check before resending",
            )
            if change and change.applied:
                unknown.append(row.id)
    return requeued, unknown
