"""Subscriptions, the fan-out cursor, deliveries and their attempts (see ``store.webhooks_tables``).

Plain functions over a ``Connection``, run by ``rt.db.write``/``read``. The invariant kept here:
for one (subscription, ordering key) at most one delivery is ``pending`` or ``sending``; later
ones wait as ``blocked`` and are promoted, in id order, when it finishes. That is what keeps
``read`` from overtaking ``delivered`` while different messages and targets go concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from wagate.store.tables import events
from wagate.store.webhooks_tables import webhook_attempts, webhook_cursor, webhook_deliveries, webhook_subscriptions

FANOUT = "fanout"
OPEN = ("pending", "sending", "blocked")
KEEP_EVENT = ("pending", "sending", "blocked", "dead")

d = webhook_deliveries
s = webhook_subscriptions


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _ids_still(conn: Connection, ids: Sequence[int], status: str) -> Any:
    """``id IN ids`` and still in ``status``.

    On PostgreSQL the status guard is what settles a race between nodes. SQLite has a single
    writer and the rows were read in this very transaction, so the guard is left out there —
    with it, SQLite's planner walks the status index (every pending row) instead of the keys.
    """
    condition = d.c.id.in_(list(ids))
    return sa.and_(condition, d.c.status == status) if _is_pg(conn) else condition


# ---------------------------------------------------------------------------------------------
# Subscriptions


def max_event_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one())


def insert_subscription(
    conn: Connection,
    *,
    tenant_id: int,
    url: str | None,
    events_: list[str],
    fmt: str,
    description: str | None,
    secret: str,
    now: datetime,
    kind: str = "subscription",
) -> Any:
    """A new subscription starts after the newest event: it never receives what happened before it."""
    result = conn.execute(
        s.insert().values(
            tenant_id=tenant_id,
            kind=kind,
            url=url,
            events=events_,
            format=fmt,
            description=description,
            secret=secret,
            status="active",
            start_after_event_id=max_event_id(conn),
            created_at=now,
            updated_at=now,
        )
    )
    new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return conn.execute(sa.select(s).where(s.c.id == new_id)).one()


def list_subscriptions(conn: Connection, tenant_id: int) -> list[Any]:
    return list(
        conn.execute(sa.select(s).where(s.c.tenant_id == tenant_id, s.c.kind == "subscription").order_by(s.c.id))
    )


def get_subscription(conn: Connection, tenant_id: int, subscription_id: int) -> Any | None:
    return conn.execute(sa.select(s).where(s.c.id == subscription_id, s.c.tenant_id == tenant_id)).first()


def get_callbacks(conn: Connection, tenant_id: int) -> Any | None:
    return conn.execute(
        sa.select(s).where(s.c.tenant_id == tenant_id, s.c.kind == "callbacks").order_by(s.c.id).limit(1)
    ).first()


def delete_subscription(conn: Connection, tenant_id: int, subscription_id: int) -> bool:
    result = conn.execute(
        s.delete().where(s.c.id == subscription_id, s.c.tenant_id == tenant_id, s.c.kind == "subscription")
    )
    return bool(result.rowcount)


def update_subscription(conn: Connection, subscription_id: int, values: dict[str, Any], now: datetime) -> Any:
    conn.execute(s.update().where(s.c.id == subscription_id).values(**values, updated_at=now))
    return conn.execute(sa.select(s).where(s.c.id == subscription_id)).one()


def delivery_counts(conn: Connection, subscription_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(d.c.status, sa.func.count()).where(d.c.subscription_id == subscription_id).group_by(d.c.status)
    )
    return {str(status): int(count) for status, count in rows}


def disable_subscription(conn: Connection, subscription_id: int, reason: str, now: datetime) -> int:
    """Disable and dead-letter everything still open for it. Returns how many deliveries died."""
    conn.execute(
        s.update().where(s.c.id == subscription_id).values(status="disabled", disabled_reason=reason, updated_at=now)
    )
    result = conn.execute(
        d.update()
        .where(d.c.subscription_id == subscription_id, d.c.status.in_(("pending", "blocked", "sending")))
        .values(status="dead", last_error=reason, finished_at=now, updated_at=now, lease_owner=None)
    )
    return int(result.rowcount)


# ---------------------------------------------------------------------------------------------
# The fan-out cursor (also the pull feed's horizon)


def ensure_cursor(conn: Connection, now: datetime) -> None:
    insert = (postgresql.insert if _is_pg(conn) else sqlite.insert)(webhook_cursor)
    conn.execute(
        insert.values(name=FANOUT, last_event_id=0, updated_at=now).on_conflict_do_nothing(index_elements=["name"])
    )


def read_cursor(conn: Connection) -> int:
    value = conn.execute(sa.select(webhook_cursor.c.last_event_id).where(webhook_cursor.c.name == FANOUT)).scalar()
    return int(value or 0)


def lock_cursor(conn: Connection) -> int:
    """The cursor, locked for this transaction on PostgreSQL: one fan-out at a time across nodes."""
    query = sa.select(webhook_cursor.c.last_event_id).where(webhook_cursor.c.name == FANOUT)
    if _is_pg(conn):
        query = query.with_for_update()
    value = conn.execute(query).scalar()
    return int(value or 0)


def move_cursor(conn: Connection, last_event_id: int, now: datetime) -> None:
    conn.execute(
        webhook_cursor.update()
        .where(webhook_cursor.c.name == FANOUT)
        .values(last_event_id=last_event_id, updated_at=now)
    )


def pg_snapshot(conn: Connection) -> tuple[int, int]:
    """(xmin, xmax) of the current snapshot: every transaction below xmin has finished."""
    row = conn.execute(
        sa.text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text, pg_snapshot_xmax(pg_current_snapshot())::text")
    ).one()
    return int(row[0]), int(row[1])


_EVENT_HEADS = (
    sa.select(
        events.c.id,
        events.c.tenant_id,
        events.c.type,
        events.c.message_id,
        events.c.payload["callback_url"].as_string().label("callback_url"),
    )
    .where(events.c.id > sa.bindparam("after_id"))
    .order_by(events.c.id)
    .limit(sa.bindparam("limit"))
)


def event_heads_after(conn: Connection, after_id: int, limit: int) -> list[Any]:
    """What routing an event needs, without its payload: id, tenant, type, message and the
    ``callback_url`` read inside the database. Most events go to no target (a tenant without
    subscriptions, a message without a callback URL); the fan-out loads the payload only of
    those that do (``event_payloads``)."""
    return list(conn.execute(_EVENT_HEADS, {"after_id": after_id, "limit": limit}))


def event_payloads(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for row in conn.execute(sa.select(events.c.id, events.c.payload).where(events.c.id.in_(chunk))):
            out[int(row.id)] = row.payload or {}
    return out


def active_subscriptions(conn: Connection, tenant_ids: Iterable[int]) -> list[Any]:
    return list(
        conn.execute(
            sa.select(s).where(s.c.status == "active", s.c.tenant_id.in_(list(set(tenant_ids)))).order_by(s.c.id)
        )
    )


def _rows_of_keys(conn: Connection, names: Sequence[str], lock: bool = False) -> list[Any]:
    """The unfinished deliveries of these ordering keys: an index-only lookup on (key, status)."""
    rows: list[Any] = []
    for start in range(0, len(names), 500):
        query = sa.select(d.c.id, d.c.subscription_id, d.c.ordering_key, d.c.status).where(
            d.c.ordering_key.in_(names[start : start + 500]), d.c.status.in_(OPEN)
        )
        if lock and _is_pg(conn):
            query = query.with_for_update(read=True)
        rows.extend(conn.execute(query))
    return rows


def open_keys(conn: Connection, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (subscription, ordering key) pairs still have an unfinished delivery.

    On PostgreSQL the rows are locked ``FOR SHARE``: a sender finishing one of them concurrently
    either commits first (we see it finished) or waits for us and then promotes our new row.
    """
    if not keys:
        return set()
    wanted = set(keys)
    found: set[tuple[int, str]] = set()
    for row in _rows_of_keys(conn, sorted({key for _, key in keys}), lock=True):
        pair = (int(row.subscription_id), str(row.ordering_key))
        if row.status in OPEN and pair in wanted:
            found.add(pair)
    return found


def insert_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(d.insert(), rows)


def notify_deliveries(conn: Connection) -> None:
    """Wake the senders of other nodes (PostgreSQL delivers the notification at commit)."""
    if _is_pg(conn):
        conn.execute(sa.text("NOTIFY wagate_deliveries"))


# ---------------------------------------------------------------------------------------------
# Claiming and recording attempts


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery as the sender needs it, joined with its event and subscription."""

    id: int
    subscription_id: int
    tenant_id: int
    kind: str
    url: str
    format: str
    target: str
    ordering_key: str | None
    attempts: int
    subscription_status: str
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    event_id: int
    event_type: str
    message_id: int | None
    payload: dict[str, Any]
    event_created_at: datetime
    event_missing: bool = False


def claim_due(
    conn: Connection,
    *,
    now: datetime,
    owner: str,
    lease_until: datetime,
    limit: int,
    room: dict[str, int],
    default_room: int,
    full: Sequence[str],
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries, at most ``room[target]`` (else ``default_room``) per target.

    Targets in ``full`` are skipped in SQL, so a saturated slow receiver's backlog does not fill
    the window and starve everybody else. The ``UPDATE … WHERE status = 'pending'`` is the claim:
    of two nodes racing for a row, only one sees it still pending.
    """
    query = (
        sa.select(d.c.id, d.c.target)
        .where(d.c.status == "pending", d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at)
        .limit(limit)
    )
    if full:
        query = query.where(d.c.target.not_in(list(full)))
    taken: dict[str, int] = {}
    ids: list[int] = []
    for row in conn.execute(query):
        allowed = room.get(row.target, default_room)
        if taken.get(row.target, 0) < allowed:
            taken[row.target] = taken.get(row.target, 0) + 1
            ids.append(int(row.id))
    if not ids:
        return []
    got = [
        int(r[0])
        for r in conn.execute(
            d.update()
            .where(_ids_still(conn, ids, "pending"))
            .values(status="sending", lease_owner=owner, lease_expires_at=lease_until, updated_at=now)
            .returning(d.c.id)
        )
    ]
    if not got:
        return []
    rows = conn.execute(
        sa.select(
            d.c.id,
            d.c.subscription_id,
            d.c.tenant_id,
            d.c.url,
            d.c.format,
            d.c.target,
            d.c.ordering_key,
            d.c.attempts,
            d.c.event_id,
            d.c.event_type,
            s.c.kind,
            s.c.url.label("subscription_url"),
            s.c.status.label("subscription_status"),
            s.c.secret,
            s.c.previous_secret,
            s.c.previous_secret_until,
            events.c.message_id,
            events.c.payload,
            events.c.created_at.label("event_created_at"),
        )
        .join(s, s.c.id == d.c.subscription_id)
        .join(events, events.c.id == d.c.event_id, isouter=True)
        .where(d.c.id.in_(got))
        .order_by(d.c.id)
    )
    return [
        Claimed(
            id=int(r.id),
            subscription_id=int(r.subscription_id),
            tenant_id=int(r.tenant_id),
            kind=r.kind,
            url=r.url or r.subscription_url or "",
            format=r.format,
            target=r.target,
            ordering_key=r.ordering_key,
            attempts=int(r.attempts),
            subscription_status=r.subscription_status,
            secret=r.secret,
            previous_secret=r.previous_secret,
            previous_secret_until=r.previous_secret_until,
            event_id=int(r.event_id),
            event_type=r.event_type,
            message_id=int(r.message_id) if r.message_id is not None else None,
            payload=r.payload if r.payload is not None else {},
            event_created_at=r.event_created_at or now,
            event_missing=r.event_created_at is None,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to. ``result``: ``delivered``, ``retry`` (at ``next_at``), ``dead``, ``gone``."""

    delivery_id: int
    subscription_id: int
    kind: str
    ordering_key: str | None
    attempt: int
    result: str
    at: datetime
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    response: str | None = None
    next_at: datetime | None = None


def _finish_statement(status: str, *, next_at: bool = False, finished: bool = False) -> Any:
    """One UPDATE for many outcomes of a kind (executemany), guarded by our lease."""
    values: dict[str, Any] = {
        "status": status,
        "attempts": sa.bindparam("b_attempts"),
        "last_status_code": sa.bindparam("b_code"),
        "last_error": sa.bindparam("b_error"),
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": sa.bindparam("b_now"),
    }
    if next_at:
        values["next_attempt_at"] = sa.bindparam("b_next")
    if finished:
        values["finished_at"] = sa.bindparam("b_now")
    # Only while we still hold the lease: a claim that expired and went elsewhere is not ours.
    return (
        d.update()
        .where(d.c.id == sa.bindparam("b_id"), d.c.status == "sending", d.c.lease_owner == sa.bindparam("b_owner"))
        .values(**values)
    )


_DELIVERED = _finish_statement("delivered", finished=True)
_DEAD = _finish_statement("dead", finished=True)
_RETRY = _finish_statement("pending", next_at=True)


def record_outcomes(conn: Connection, outcomes: Sequence[Outcome], now: datetime, owner: str) -> int:
    """Write attempts and their consequences in one transaction. Returns how many rows became due.

    A finished delivery (delivered or dead) promotes the next blocked one of its ordering key;
    a 410 from a subscription disables it and dead-letters everything it still had open.
    A handful of set-based statements per batch, whatever its size: this is the hot path.
    """
    if not outcomes:
        return 0
    conn.execute(
        webhook_attempts.insert(),
        [
            {
                "delivery_id": o.delivery_id,
                "attempt": o.attempt,
                "at": o.at,
                "status_code": o.status_code,
                "latency_ms": o.latency_ms,
                "error": o.error,
                "response": o.response,
            }
            for o in outcomes
        ],
    )
    groups: dict[str, list[dict[str, Any]]] = {"delivered": [], "dead": [], "retry": []}
    finished: list[Outcome] = []
    for o in outcomes:
        params = {
            "b_id": o.delivery_id,
            "b_attempts": o.attempt,
            "b_code": o.status_code,
            "b_error": o.error,
            "b_now": now,
            "b_owner": owner,
        }
        if o.result == "gone" and o.kind == "subscription":
            conn.execute(_DEAD, [params])
            disable_subscription(conn, o.subscription_id, f"the endpoint answered 410 Gone at {o.at.isoformat()}", now)
        elif o.result == "retry":
            groups["retry"].append({**params, "b_next": o.next_at})
        elif o.result == "delivered":
            groups["delivered"].append(params)
            finished.append(o)
        else:  # dead: retries exhausted, or a per-message callback URL that is gone
            groups["dead"].append(params)
            finished.append(o)
    for statement, rows in ((_DELIVERED, groups["delivered"]), (_DEAD, groups["dead"]), (_RETRY, groups["retry"])):
        if rows:
            conn.execute(statement, rows)
    return promote_many(conn, [(o.subscription_id, o.ordering_key) for o in finished if o.ordering_key], now)


def promote_many(conn: Connection, pairs: Sequence[tuple[int, str | None]], now: datetime) -> int:
    """For each (subscription, key) with nothing pending or sending, let its oldest blocked row go."""
    wanted = {(int(sub), str(key)) for sub, key in pairs if key is not None}
    if not wanted:
        return 0
    busy: set[tuple[int, str]] = set()
    heads: dict[tuple[int, str], int] = {}
    for row in _rows_of_keys(conn, sorted({key for _, key in wanted})):
        pair = (int(row.subscription_id), str(row.ordering_key))
        if row.status in ("pending", "sending"):
            busy.add(pair)
        elif row.status == "blocked" and (pair not in heads or int(row.id) < heads[pair]):
            heads[pair] = int(row.id)
    ids = [head for pair, head in heads.items() if pair in wanted and pair not in busy]
    promoted = 0
    for start in range(0, len(ids), 500):
        result = conn.execute(
            d.update()
            .where(_ids_still(conn, ids[start : start + 500], "blocked"))
            .values(status="pending", next_attempt_at=now, updated_at=now)
        )
        promoted += int(result.rowcount)
    return promoted


def promote_next(conn: Connection, subscription_id: int, ordering_key: str | None, now: datetime) -> int:
    """Let the oldest blocked delivery of a key go, if nothing of that key is pending or sending."""
    return promote_many(conn, [(subscription_id, ordering_key)], now)


def release_leases(conn: Connection, owner: str, now: datetime) -> int:
    """A stopping sender hands its claims back untouched (the attempt never completed)."""
    result = conn.execute(
        d.update()
        .where(d.c.status == "sending", d.c.lease_owner == owner)
        .values(status="pending", lease_owner=None, lease_expires_at=None, next_attempt_at=now, updated_at=now)
    )
    return int(result.rowcount)


def renew_leases(conn: Connection, owner: str, lease_until: datetime) -> int:
    """A live sender extends the leases of everything it still holds (one statement)."""
    result = conn.execute(
        d.update().where(d.c.status == "sending", d.c.lease_owner == owner).values(lease_expires_at=lease_until)
    )
    return int(result.rowcount)


def recover_expired(conn: Connection, now: datetime) -> int:
    """Claims whose owner died: due again now (at least once — the receiver dedupes on webhook-id)."""
    result = conn.execute(
        d.update()
        .where(d.c.status == "sending", d.c.lease_expires_at < now)
        .values(status="pending", lease_owner=None, lease_expires_at=None, next_attempt_at=now, updated_at=now)
    )
    return int(result.rowcount)


def next_due(conn: Connection, exclude_targets: Sequence[str] = ()) -> datetime | None:
    query = sa.select(sa.func.min(d.c.next_attempt_at)).where(d.c.status == "pending")
    if exclude_targets:
        query = query.where(d.c.target.not_in(list(exclude_targets)))
    value: datetime | None = conn.execute(query).scalar()
    return value


def promote_orphans(conn: Connection, now: datetime, limit: int = 500) -> int:
    """Safety net: blocked rows whose key has nothing pending or sending (should not happen)."""
    rows = conn.execute(
        sa.select(d.c.subscription_id, d.c.ordering_key)
        .where(d.c.status == "blocked")
        .group_by(d.c.subscription_id, d.c.ordering_key)
        .limit(limit)
    ).all()
    return promote_many(conn, [(int(r.subscription_id), r.ordering_key) for r in rows], now)


# ---------------------------------------------------------------------------------------------
# Deliveries log, replay


def list_deliveries(
    conn: Connection, subscription_id: int, *, status: str | None, before_id: int | None, limit: int
) -> list[tuple[Any, list[Any]]]:
    query = sa.select(d).where(d.c.subscription_id == subscription_id).order_by(d.c.id.desc()).limit(limit)
    if status:
        query = query.where(d.c.status == status)
    if before_id is not None:
        query = query.where(d.c.id < before_id)
    rows = list(conn.execute(query))
    attempts: dict[int, list[Any]] = {int(r.id): [] for r in rows}
    if rows:
        for a in conn.execute(
            sa.select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(list(attempts)))
            .order_by(webhook_attempts.c.id)
        ):
            attempts[int(a.delivery_id)].append(a)
    return [(r, attempts[int(r.id)]) for r in rows]


def enqueue(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert deliveries, each ``blocked`` behind unfinished ones of its key, else ``pending``."""
    keys = [(r["subscription_id"], r["ordering_key"]) for r in rows if r["ordering_key"] is not None]
    busy = open_keys(conn, keys)
    for row in rows:
        pair = (row["subscription_id"], row["ordering_key"])
        if row["ordering_key"] is not None and pair in busy:
            row["status"] = "blocked"
        else:
            row["status"] = "pending"
            if row["ordering_key"] is not None:
                busy.add(pair)
    insert_deliveries(conn, rows)
    return len(rows)


def delivery_row(
    *,
    tenant_id: int,
    subscription_id: int,
    event_id: int,
    event_type: str,
    url: str | None,
    fmt: str,
    ordering_key: str | None,
    target: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "subscription_id": subscription_id,
        "event_id": event_id,
        "event_type": event_type,
        "url": url,
        "format": fmt,
        "ordering_key": ordering_key,
        "target": target,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }


def dead_deliveries(conn: Connection, subscription_id: int, ids: Sequence[int] | None) -> list[Any]:
    query = sa.select(d).where(d.c.subscription_id == subscription_id, d.c.status == "dead").order_by(d.c.id)
    if ids is not None:
        query = query.where(d.c.id.in_(list(ids)))
    return list(conn.execute(query))


def mark_replayed(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(
            d.update().where(d.c.id.in_(list(ids)), d.c.status == "dead").values(status="replayed", updated_at=now)
        )


def tenant_events(conn: Connection, tenant_id: int, ids: Sequence[int]) -> list[Any]:
    return list(
        conn.execute(
            sa.select(events).where(events.c.tenant_id == tenant_id, events.c.id.in_(list(ids))).order_by(events.c.id)
        )
    )


# ---------------------------------------------------------------------------------------------
# The pull feed and retention


def feed(
    conn: Connection, *, tenant_id: int, after_id: int, horizon: int, types: Sequence[str] | None, limit: int
) -> list[Any]:
    """The tenant's events after ``after_id`` up to the fan-out horizon, oldest first.

    Only events at or below the horizon are shown: below it every id is settled (committed or
    never to be), so a client's cursor can never step over an event that commits later.
    """
    query = (
        sa.select(events)
        .where(events.c.tenant_id == tenant_id, events.c.id > after_id, events.c.id <= horizon)
        .order_by(events.c.id)
        .limit(limit)
    )
    if types:
        query = query.where(events.c.type.in_(list(types)))
    return list(conn.execute(query))


def purge(
    conn: Connection,
    *,
    events_before: datetime,
    delivered_before: datetime,
    dead_before: datetime,
    horizon: int,
    chunk: int = 2000,
) -> tuple[int, int]:
    """Delete one chunk of expired events and finished deliveries. Returns (events, deliveries).

    An event is kept while a delivery still needs it (open or dead-lettered) and until the fan-out
    has passed it; delivered and replayed deliveries go with the event retention, dead letters
    after their own (longer) retention.
    """
    old_deliveries = [
        int(r[0])
        for r in conn.execute(
            sa.select(d.c.id)
            .where(
                sa.or_(
                    sa.and_(d.c.status.in_(("delivered", "replayed")), d.c.updated_at < delivered_before),
                    sa.and_(d.c.status == "dead", d.c.updated_at < dead_before),
                )
            )
            .limit(chunk)
        )
    ]
    if old_deliveries:
        conn.execute(webhook_attempts.delete().where(webhook_attempts.c.delivery_id.in_(old_deliveries)))
        conn.execute(d.delete().where(d.c.id.in_(old_deliveries)))
    needed = sa.exists().where(d.c.event_id == events.c.id, d.c.status.in_(KEEP_EVENT))
    old_events = [
        int(r[0])
        for r in conn.execute(
            sa.select(events.c.id)
            .where(events.c.created_at < events_before, events.c.id <= horizon, ~needed)
            .order_by(events.c.id)
            .limit(chunk)
        )
    ]
    if old_events:
        conn.execute(events.delete().where(events.c.id.in_(old_events)))
    return len(old_events), len(old_deliveries)


def cutoffs(now: datetime, retention_days: float, dead_days: float) -> tuple[datetime, datetime]:
    return now - timedelta(days=retention_days), now - timedelta(days=dead_days)
