"""Facts for the policy decisions, and what the decisions leave behind.

Read inside the accept transaction, so what a batch sees is what it commits against:
the last inbound message per (channel, phone), recent outbound messages for the duplicate
guard, the tenant's daily counter and the tier counts. On PostgreSQL the counters are
locked for the transaction (row lock, advisory lock) so two concurrent requests cannot
both take the last unit of a cap; SQLite's single writer serialises them anyway.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from wagate.domain.limits import TIER_WINDOW, UNCAPPED_ORIGINS, content_key
from wagate.domain.messages import Direction
from wagate.domain.policy import TierState
from wagate.domain.statuses import Status
from wagate.store.policy_tables import policy_daily_counts, policy_refusals, tier_reach
from wagate.store.tables import messages, tenants

CHUNK = 500
#: Outbound messages that never reached the client do not make a later one a duplicate.
NOT_DELIVERED = (Status.FAILED.value, Status.CANCELLED.value, Status.EXPIRED.value)


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(items))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _aware(value: Any) -> datetime | None:
    """Aggregates lose the column type on SQLite: accept text or naive values back."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _insert(conn: Connection, table: sa.Table) -> Any:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


# ---------------------------------------------------------------- the service window


def last_inbound(conn: Connection, tenant_id: int, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], datetime]:
    """The time of the newest inbound message per ``(channel_id, phone)``."""
    out: dict[tuple[int, str], datetime] = {}
    if not pairs:
        return out
    channel_ids = sorted({c for c, _ in pairs})
    for phones in _chunks(p for _, p in pairs):
        rows = conn.execute(
            sa.select(messages.c.channel_id, messages.c.phone, sa.func.max(messages.c.created_at))
            .where(
                messages.c.tenant_id == tenant_id,
                messages.c.phone.in_(phones),
                messages.c.direction == Direction.IN.value,
                messages.c.channel_id.in_(channel_ids),
            )
            .group_by(messages.c.channel_id, messages.c.phone)
        )
        for channel_id, phone, at in rows:
            when = _aware(at)
            if when is not None and (channel_id, phone) in pairs:
                out[(channel_id, phone)] = when
    return out


def last_inbound_one(conn: Connection, tenant_id: int, channel_id: int, phone: str) -> datetime | None:
    return last_inbound(conn, tenant_id, {(channel_id, phone)}).get((channel_id, phone))


# ---------------------------------------------------------------- duplicates


def recent_outbound(
    conn: Connection, tenant_id: int, phones: Iterable[str], since: datetime
) -> dict[str, list[tuple[str, datetime]]]:
    """Content keys of the outbound messages per phone since ``since`` (not failed/cancelled/expired)."""
    out: dict[str, list[tuple[str, datetime]]] = {}
    for chunk in _chunks(phones):
        rows = conn.execute(
            sa.select(messages.c.phone, messages.c.type, messages.c.payload, messages.c.created_at).where(
                messages.c.tenant_id == tenant_id,
                messages.c.phone.in_(chunk),
                messages.c.direction == Direction.OUT.value,
                messages.c.created_at > since,
                messages.c.status.not_in(NOT_DELIVERED),
            )
        )
        for r in rows:
            out.setdefault(r.phone, []).append((content_key(r.type, r.payload or {}), r.created_at))
    return out


# ---------------------------------------------------------------- the daily cap


def daily_used(
    conn: Connection, tenant_id: int, day: str, start: datetime, end: datetime, now: datetime, *, lock: bool = True
) -> int:
    """Messages counted toward today's cap, locked for this transaction on PostgreSQL.

    The counter exists only while a cap is set; its first use of the day counts the
    messages already accepted today, so setting a cap mid-day starts from the truth.
    """
    query = sa.select(policy_daily_counts.c.count).where(
        policy_daily_counts.c.tenant_id == tenant_id, policy_daily_counts.c.day == day
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    value = conn.execute(query).scalar()
    if value is not None:
        return int(value)
    initial = conn.execute(
        sa.select(sa.func.count())
        .select_from(messages)
        .where(
            messages.c.tenant_id == tenant_id,
            messages.c.direction == Direction.OUT.value,
            messages.c.created_at >= start,
            messages.c.created_at < end,
            messages.c.origin.not_in(sorted(UNCAPPED_ORIGINS)),
        )
    ).scalar_one()
    if not lock:  # a preview: count, write nothing
        return int(initial)
    conn.execute(
        _insert(conn, policy_daily_counts)
        .values(tenant_id=tenant_id, day=day, count=int(initial), updated_at=now)
        .on_conflict_do_nothing()
    )
    again = conn.execute(query).scalar()
    return int(again if again is not None else initial)


def add_daily(conn: Connection, tenant_id: int, day: str, amount: int, now: datetime) -> None:
    if amount:
        conn.execute(
            policy_daily_counts.update()
            .where(policy_daily_counts.c.tenant_id == tenant_id, policy_daily_counts.c.day == day)
            .values(count=policy_daily_counts.c.count + amount, updated_at=now)
        )


def forget_daily(conn: Connection, tenant_id: int) -> None:
    """Drop the tenant's counters (the cap was removed: a later cap recounts from the messages)."""
    conn.execute(policy_daily_counts.delete().where(policy_daily_counts.c.tenant_id == tenant_id))


# ---------------------------------------------------------------- messaging tiers


def tier_state(
    conn: Connection, tenant_id: int, group: str, limit: int, phones: Iterable[str], now: datetime, *, lock: bool = True
) -> TierState:
    """Unique clients reached in the rolling 24 h of ``group``, and which of ``phones`` are among them."""
    if lock and conn.dialect.name == "postgresql":
        key = zlib.crc32(f"wagate-tier:{tenant_id}:{group}".encode())
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    where = (
        tier_reach.c.tenant_id == tenant_id,
        tier_reach.c.limit_group == group,
        tier_reach.c.reached_at > now - TIER_WINDOW,
    )
    count = int(conn.execute(sa.select(sa.func.count()).select_from(tier_reach).where(*where)).scalar_one())
    reached: set[str] = set()
    for chunk in _chunks(phones):
        found = conn.execute(sa.select(tier_reach.c.phone).where(*where, tier_reach.c.phone.in_(chunk)))
        reached.update(r.phone for r in found)
    return TierState(limit=limit, count=count, reached=reached)


def record_reach(conn: Connection, tenant_id: int, group: str, phones: Iterable[str], now: datetime) -> None:
    """Remember that these clients were reached now; forget those reached more than 24 h ago."""
    conn.execute(
        tier_reach.delete().where(
            tier_reach.c.tenant_id == tenant_id,
            tier_reach.c.limit_group == group,
            tier_reach.c.reached_at <= now - TIER_WINDOW,
        )
    )
    rows = [{"tenant_id": tenant_id, "limit_group": group, "phone": p, "reached_at": now} for p in sorted(set(phones))]
    if not rows:
        return
    stmt = _insert(conn, tier_reach)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "limit_group", "phone"], set_={"reached_at": stmt.excluded.reached_at}
        ),
        rows,
    )


def tier_usage(conn: Connection, tenant_id: int, group: str, now: datetime) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(tier_reach)
            .where(
                tier_reach.c.tenant_id == tenant_id,
                tier_reach.c.limit_group == group,
                tier_reach.c.reached_at > now - TIER_WINDOW,
            )
        ).scalar_one()
    )


# ---------------------------------------------------------------- refusals and warnings


def record_refusals(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(policy_refusals.insert(), rows)


def list_refusals(
    conn: Connection,
    tenant_id: int,
    *,
    code: str | None = None,
    phone: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Any]:
    query = (
        sa.select(policy_refusals)
        .where(policy_refusals.c.tenant_id == tenant_id)
        .order_by(policy_refusals.c.id.desc())
        .limit(limit)
    )
    if code:
        query = query.where(policy_refusals.c.code == code)
    if phone:
        query = query.where(policy_refusals.c.phone == phone)
    if outcome:
        query = query.where(policy_refusals.c.outcome == outcome)
    if since:
        query = query.where(policy_refusals.c.at >= since)
    if before_id is not None:
        query = query.where(policy_refusals.c.id < before_id)
    return list(conn.execute(query))


# ---------------------------------------------------------------- tenant settings


def tenant_settings(conn: Connection, tenant_id: int) -> dict[str, Any]:
    value = conn.execute(sa.select(tenants.c.settings).where(tenants.c.id == tenant_id)).scalar()
    return dict(value or {})


def set_tenant_policy(conn: Connection, tenant_id: int, policy: dict[str, Any]) -> dict[str, Any]:
    settings = tenant_settings(conn, tenant_id)
    settings["policy"] = policy
    conn.execute(tenants.update().where(tenants.c.id == tenant_id).values(settings=settings))
    return settings
