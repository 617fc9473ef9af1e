"""Facts for the policy decisions, and what the decisions leave behind.

Read inside the accept transaction, so what a batch sees is what it commits against:
the last inbound message per (channel, phone), recent outbound messages for the duplicate
guard, the tenant's daily counter and the tier counts. On PostgreSQL the counters are
locked for the transaction (``FOR UPDATE`` on the counter rows) so two concurrent requests
cannot both take the last unit of a cap, and the duplicate guard takes a transaction-level
advisory lock per (tenant, phone) before it reads (``lock_phones``), so two identical requests
racing in separate transactions cannot both find "no earlier copy". SQLite's single writer
serialises all of this anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.limits import TIER_WINDOW, UNCAPPED_ORIGINS, content_key
from wagate.domain.messages import Direction
from wagate.domain.policy import TierState
from wagate.domain.statuses import Status
from wagate.store import dialect
from wagate.store.policy_tables import policy_daily_counts, policy_refusals, tier_counts, tier_reach
from wagate.store.repos import tenants as tenant_repo
from wagate.store.tables import messages

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
    return dialect.insert(conn, table)


# Statements on the accept path are built once with bind parameters: building and keying a
# Core statement per call costs more than running it on SQLite (see docs/performance.md).
_b = sa.bindparam
_ACTIVITY = sa.select(
    messages.c.channel_id,
    messages.c.phone,
    messages.c.direction,
    messages.c.type,
    messages.c.payload,
    messages.c.status,
    messages.c.created_at,
).where(
    messages.c.tenant_id == _b("b_tenant_id"),
    messages.c.phone.in_(_b("b_phones", expanding=True)),
    messages.c.created_at > _b("b_since", type_=messages.c.created_at.type),
)
_DAY = (policy_daily_counts.c.tenant_id == _b("b_tenant_id"), policy_daily_counts.c.day == _b("b_day"))
_DAILY_COUNT = sa.select(policy_daily_counts.c.count).where(*_DAY)
_DAILY_COUNT_LOCKED = _DAILY_COUNT.with_for_update()
_DAILY_ADD = (
    policy_daily_counts.update()
    .where(*_DAY)
    .values(
        count=policy_daily_counts.c.count + _b("b_amount"),
        updated_at=_b("b_now", type_=policy_daily_counts.c.updated_at.type),
    )
)
_GROUP_COUNTER = (tier_counts.c.tenant_id == _b("b_tenant_id"), tier_counts.c.limit_group == _b("b_group"))
_TIER_COUNT = sa.select(tier_counts.c.reached).where(*_GROUP_COUNTER)
_TIER_COUNT_LOCKED = _TIER_COUNT.with_for_update()
_TIER_ADD = (
    tier_counts.update()
    .where(*_GROUP_COUNTER)
    .values(reached=tier_counts.c.reached + _b("b_amount"), updated_at=_b("b_now", type_=tier_counts.c.updated_at.type))
)
_GROUP = (tier_reach.c.tenant_id == _b("b_tenant_id"), tier_reach.c.limit_group == _b("b_group"))
_CUTOFF = _b("b_cutoff", type_=tier_reach.c.reached_at.type)
_TIER_PRUNE = tier_reach.delete().where(*_GROUP, tier_reach.c.reached_at <= _CUTOFF)
_TIER_EXPIRED = sa.select(sa.func.count()).select_from(tier_reach).where(*_GROUP, tier_reach.c.reached_at <= _CUTOFF)
_TIER_REACHED = sa.select(tier_reach.c.phone).where(
    *_GROUP, tier_reach.c.phone.in_(_b("b_phones", expanding=True)), tier_reach.c.reached_at > _CUTOFF
)
_REACH_UPSERT: dict[str, Any] = {}


def _reach_upsert(conn: Connection) -> Any:
    stmt = _REACH_UPSERT.get(conn.dialect.name)
    if stmt is None:
        insert = _insert(conn, tier_reach)
        stmt = insert.on_conflict_do_update(
            index_elements=["tenant_id", "limit_group", "phone"], set_={"reached_at": insert.excluded.reached_at}
        )
        _REACH_UPSERT[conn.dialect.name] = stmt
    return stmt


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


# ---------------------------------------------------------------- window and duplicates in one read


_LOCK_PHONES = sa.text(
    "SELECT pg_advisory_xact_lock(k) FROM "
    "(SELECT DISTINCT hashtextextended(:tenant || ':' || p, 7) AS k FROM unnest(CAST(:phones AS text[])) AS p) AS keys "
    "ORDER BY k"
)


def lock_phones(conn: Connection, tenant_id: int, phones: Iterable[str]) -> None:
    """Serialise concurrent acceptances for the same clients until this transaction ends (PostgreSQL).

    Locks are taken in key order, so two batches with overlapping phones cannot deadlock. The
    reads that follow (READ COMMITTED: each statement sees what committed before it) then see
    the other transaction's messages.
    """
    if not dialect.is_postgres(conn):
        return
    ordered = sorted(set(phones))
    if ordered:
        conn.execute(_LOCK_PHONES, {"tenant": str(tenant_id), "phones": ordered}).all()


def activity(
    conn: Connection,
    tenant_id: int,
    *,
    window_pairs: set[tuple[int, str]],
    window_since: datetime | None,
    duplicate_phones: set[str],
    duplicate_since: datetime | None,
) -> tuple[dict[tuple[int, str], datetime], dict[str, list[tuple[str, datetime]]]]:
    """One pass over the recent messages of a batch's phones, for both the window and the duplicate guard.

    Returns the newest inbound time per ``(channel_id, phone)`` (only within ``window_since``:
    an older one means a closed window anyway) and the content keys of outbound messages per
    phone since ``duplicate_since`` (failed, cancelled and expired ones excluded).
    """
    last: dict[tuple[int, str], datetime] = {}
    recent: dict[str, list[tuple[str, datetime]]] = {}
    bounds = [b for b in (window_since, duplicate_since) if b is not None]
    phones = {p for _, p in window_pairs} | duplicate_phones
    if not bounds or not phones:
        return last, recent
    for chunk in _chunks(phones):
        rows = conn.execute(_ACTIVITY, {"b_tenant_id": tenant_id, "b_phones": chunk, "b_since": min(bounds)})
        for r in rows:
            if r.direction == Direction.IN.value:
                key = (r.channel_id, r.phone)
                fresh = window_since is not None and key in window_pairs and r.created_at > window_since
                if fresh and (key not in last or r.created_at > last[key]):
                    last[key] = r.created_at
            elif (
                duplicate_since is not None
                and r.phone in duplicate_phones
                and r.created_at > duplicate_since
                and r.status not in NOT_DELIVERED
            ):
                recent.setdefault(r.phone, []).append((content_key(r.type, r.payload or {}), r.created_at))
    return last, recent


# ---------------------------------------------------------------- the daily cap


def daily_used(
    conn: Connection, tenant_id: int, day: str, start: datetime, end: datetime, now: datetime, *, lock: bool = True
) -> int:
    """Messages counted toward today's cap, locked for this transaction on PostgreSQL.

    The counter exists only while a cap is set; its first use of the day counts the
    messages already accepted today, so setting a cap mid-day starts from the truth.
    """
    query = _DAILY_COUNT_LOCKED if lock and dialect.is_postgres(conn) else _DAILY_COUNT
    key = {"b_tenant_id": tenant_id, "b_day": day}
    value = conn.execute(query, key).scalar()
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
    again = conn.execute(query, key).scalar()
    return int(again if again is not None else initial)


def add_daily(conn: Connection, tenant_id: int, day: str, amount: int, now: datetime) -> None:
    if amount:
        conn.execute(_DAILY_ADD, {"b_tenant_id": tenant_id, "b_day": day, "b_amount": amount, "b_now": now})


def forget_daily(conn: Connection, tenant_id: int) -> None:
    """Drop the tenant's counters (the cap was removed: a later cap recounts from the messages)."""
    conn.execute(policy_daily_counts.delete().where(policy_daily_counts.c.tenant_id == tenant_id))


# ---------------------------------------------------------------- messaging tiers


def _tier_count(conn: Connection, key: dict[str, Any], lock: bool) -> int | None:
    query = _TIER_COUNT_LOCKED if lock and dialect.is_postgres(conn) else _TIER_COUNT
    value = conn.execute(query, key).scalar()
    return None if value is None else int(value)


def tier_state(
    conn: Connection, tenant_id: int, group: str, limit: int, phones: Iterable[str], now: datetime, *, lock: bool = True
) -> TierState:
    """Unique clients reached in the rolling 24 h of ``group``, and which of ``phones`` are among them.

    With ``lock`` (a real acceptance) the group's counter row is locked for the transaction on
    PostgreSQL and clients that left the window are pruned from it; without (a preview) nothing
    is written. The counter makes the check O(1) in the size of the tier.
    """
    key: dict[str, Any] = {"b_tenant_id": tenant_id, "b_group": group}
    cutoff = now - TIER_WINDOW
    count = _tier_count(conn, key, lock)
    if lock:
        if count is None:
            conn.execute(
                _insert(conn, tier_counts)
                .values(tenant_id=tenant_id, limit_group=group, reached=0, updated_at=now)
                .on_conflict_do_nothing()
            )
            count = _tier_count(conn, key, lock) or 0
        expired = int(conn.execute(_TIER_PRUNE, {**key, "b_cutoff": cutoff}).rowcount)
        if expired:
            conn.execute(_TIER_ADD, {**key, "b_amount": -expired, "b_now": now})
            count -= expired
    else:
        count = (count or 0) - int(conn.execute(_TIER_EXPIRED, {**key, "b_cutoff": cutoff}).scalar_one())
    reached: set[str] = set()
    for chunk in _chunks(phones):
        found = conn.execute(_TIER_REACHED, {**key, "b_phones": chunk, "b_cutoff": cutoff})
        reached.update(r.phone for r in found)
    return TierState(limit=limit, count=count, reached=reached)


def record_reach(
    conn: Connection, tenant_id: int, group: str, phones: Iterable[str], added: int, now: datetime
) -> None:
    """Remember that these clients were reached now; ``added`` of them are new to the group's count."""
    rows = [{"tenant_id": tenant_id, "limit_group": group, "phone": p, "reached_at": now} for p in sorted(set(phones))]
    if not rows:
        return
    conn.execute(_reach_upsert(conn), rows)
    if added:
        conn.execute(_TIER_ADD, {"b_tenant_id": tenant_id, "b_group": group, "b_amount": added, "b_now": now})


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


tenant_settings = tenant_repo.tenant_settings


def set_tenant_policy(conn: Connection, tenant_id: int, policy: dict[str, Any]) -> dict[str, Any]:
    return tenant_repo.set_tenant_setting(conn, tenant_id, "policy", policy)
