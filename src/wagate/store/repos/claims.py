"""Claiming the next due messages of ONE channel with its pacing applied, in one transaction.

The transaction first takes the channel's ``channel_pacing`` row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's single writer serialises anyway), so every task and process that claims
for a channel sees the state the previous claim left: pacing is shared and survives restarts.
It then reads the facts the domain needs (today's counts, recent sends per recipient, who is
a new contact, the unanswered share), lets ``wagate.domain.pacing`` decide, and moves the
admitted messages ``queued → sending`` under a lease — with history rows, outbox events and
one ``channel_sends`` row each. Messages that must wait for their recipient or for tomorrow's
new-contact budget get a later ``due_at`` (no status change), so they never block the queue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from wagate.domain.pacing import (
    GUARD_CHECK_EVERY,
    SERVICE_WINDOW,
    Admit,
    BatchPlanner,
    Candidate,
    DayFacts,
    GuardReading,
    PacingRules,
    PacingState,
    SentRecord,
    Slot,
    batch_slot,
    channel_slot,
    day_start,
    effective_daily_cap,
    guard_reason,
    guard_trips,
    guard_window,
    read_guard,
)
from wagate.domain.statuses import Status, Verdict, decide
from wagate.domain.waits import MessageFacts, Wait, why_waiting
from wagate.store.dispatch_tables import channel_pacing, channel_sends
from wagate.store.repos.events import append_channel_status
from wagate.store.repos.messages import StatusChange, apply_status, status_event_payload
from wagate.store.repos.queue import expire_overdue
from wagate.store.tables import channels, events, message_status_history, messages
from wagate.store.types import UTCDateTime

#: Statuses that mean a message reached (or may have reached) the provider: its recipient is known.
CONTACTED = (Status.SENDING.value, Status.SENT.value, Status.DELIVERED.value, Status.READ.value, Status.UNKNOWN.value)
#: How many candidates to look at per admitted message (some may be deferred).
CANDIDATE_FACTOR = 4
IN_CHUNK = 500


@dataclass
class ClaimOutcome:
    """What one claim did, and when asking again can succeed."""

    rows: list[Any] = field(default_factory=list)
    #: When a claim can next take a message: ``None`` means nothing is queued (wait for a wake-up).
    retry_at: datetime | None = None
    #: What holds the channel back when nothing was claimed (pacing rule or pause).
    hold: str | None = None
    expired: list[int] = field(default_factory=list)
    deferred: int = 0
    #: Set when the channel is paused (by an operator, or by the guard in this very claim).
    paused: str | None = None
    #: True when this claim's guard check paused the channel.
    paused_now: bool = False
    channel_name: str = ""


def aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite aggregates lose the column type
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def lock_pacing_row(conn: Connection, channel_id: int, now: datetime) -> Any:
    """The channel's pacing row, created on first use and locked for this transaction."""
    values = {"channel_id": channel_id, "updated_at": now}
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(channel_pacing).values(values).on_conflict_do_nothing())
        query = sa.select(channel_pacing).where(channel_pacing.c.channel_id == channel_id).with_for_update()
    else:
        conn.execute(sqlite.insert(channel_pacing).values(values).on_conflict_do_nothing())
        query = sa.select(channel_pacing).where(channel_pacing.c.channel_id == channel_id)
    return conn.execute(query).one()


def hold_channel(conn: Connection, channel_id: int, until: datetime, now: datetime) -> None:
    """No send on the channel before ``until`` (a provider's throughput limit): a recorded fact the
    pacing planner already honours (``next_at``), so it holds across processes and restarts."""
    row = lock_pacing_row(conn, channel_id, now)
    current = aware(row.next_at)
    if current is None or current < until:
        conn.execute(
            channel_pacing.update()
            .where(channel_pacing.c.channel_id == channel_id)
            .values(next_at=until, updated_at=now)
        )


def read_pacing_row(conn: Connection, channel_id: int) -> Any | None:
    return conn.execute(sa.select(channel_pacing).where(channel_pacing.c.channel_id == channel_id)).first()


def state_of(row: Any | None) -> PacingState:
    if row is None:
        return PacingState()
    return PacingState(tat=row.tat, next_at=row.next_at, first_sent_at=row.first_sent_at)


def day_facts(
    conn: Connection, channel_id: int, rules: PacingRules, state: PacingState, now: datetime, every: bool = False
) -> DayFacts:
    """Today's counts from the send log — only those a rule of this channel needs (``every``: all)."""
    since = day_start(now)
    sent = 0
    if every or effective_daily_cap(rules, state, now) is not None:
        sent = conn.execute(
            sa.select(sa.func.count())
            .select_from(channel_sends)
            .where(channel_sends.c.channel_id == channel_id, channel_sends.c.at >= since)
        ).scalar_one()
    new = 0
    if every or rules.new_contacts_daily_cap is not None:
        new = conn.execute(
            sa.select(sa.func.count())
            .select_from(channel_sends)
            .where(
                channel_sends.c.channel_id == channel_id,
                channel_sends.c.at >= since,
                channel_sends.c.new_contact.is_(True),
            )
        ).scalar_one()
    return DayFacts(sent_today=int(sent), new_contacts_today=int(new))


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + IN_CHUNK] for i in range(0, len(items), IN_CHUNK)]


def recent_sends_to(conn: Connection, channel_id: int, phones: list[str], since: datetime) -> dict[str, datetime]:
    """The last send to each of ``phones`` after ``since``."""
    found: dict[str, datetime] = {}
    for chunk in _chunks(phones):
        rows = conn.execute(
            sa.select(channel_sends.c.phone, sa.func.max(channel_sends.c.at))
            .where(
                channel_sends.c.channel_id == channel_id,
                channel_sends.c.phone.in_(chunk),
                channel_sends.c.at > since,
            )
            .group_by(channel_sends.c.phone)
        )
        for phone, at in rows:
            value = aware(at)
            if value is not None:
                found[phone] = value
    return found


def known_contacts(conn: Connection, tenant_id: int, channel_id: int, phones: list[str]) -> set[str]:
    """Phones that wrote to this channel or were messaged through it before: not new contacts."""
    known: set[str] = set()
    for chunk in _chunks(phones):
        rows = conn.execute(
            sa.select(messages.c.phone)
            .where(
                messages.c.tenant_id == tenant_id,
                messages.c.phone.in_(chunk),
                messages.c.channel_id == channel_id,
                sa.or_(messages.c.direction == "in", messages.c.status.in_(CONTACTED)),
            )
            .distinct()
        )
        known.update(r.phone for r in rows)
    return known


def wrote_since(conn: Connection, tenant_id: int, channel_id: int, phones: list[str], since: datetime) -> set[str]:
    """Phones with an inbound message on this channel since ``since`` (a send to them is a reply)."""
    found: set[str] = set()
    for chunk in _chunks(phones):
        rows = conn.execute(
            sa.select(messages.c.phone)
            .where(
                messages.c.tenant_id == tenant_id,
                messages.c.phone.in_(chunk),
                messages.c.channel_id == channel_id,
                messages.c.direction == "in",
                messages.c.created_at >= since,
            )
            .distinct()
        )
        found.update(r.phone for r in rows)
    return found


def last_inbound(
    conn: Connection, tenant_id: int, channel_id: int, phones: list[str], since: datetime
) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for chunk in _chunks(phones):
        rows = conn.execute(
            sa.select(messages.c.phone, sa.func.max(messages.c.created_at))
            .where(
                messages.c.tenant_id == tenant_id,
                messages.c.phone.in_(chunk),
                messages.c.channel_id == channel_id,
                messages.c.direction == "in",
                messages.c.created_at >= since,
            )
            .group_by(messages.c.phone)
        )
        for phone, at in rows:
            value = aware(at)
            if value is not None:
                found[phone] = value
    return found


def guard_reading(
    conn: Connection, channel: Any, rules: PacingRules, now: datetime, since: datetime | None
) -> GuardReading:
    """The unanswered share of the channel's business-initiated sends in the guard's window."""
    start, end = guard_window(rules, now, since)
    if end <= start:
        return GuardReading(sample=0, unanswered=0)
    rows = conn.execute(
        sa.select(channel_sends.c.phone, channel_sends.c.at).where(
            channel_sends.c.channel_id == channel.id,
            channel_sends.c.business_initiated.is_(True),
            channel_sends.c.at >= start,
            channel_sends.c.at < end,
        )
    ).all()
    sends = [SentRecord(r.phone, r.at) for r in rows]
    replies = last_inbound(conn, channel.tenant_id, channel.id, sorted({s.phone for s in sends}), start)
    return read_guard(sends, replies)


def pause_channel(conn: Connection, channel: Any, reason: str, now: datetime) -> None:
    """``active → paused`` with a ``channel.status`` event, in the caller's transaction."""
    updated = conn.execute(
        channels.update()
        .where(channels.c.id == channel.id, channels.c.status == "active")
        .values(status="paused", updated_at=now)
    )
    if updated.rowcount == 0:
        return
    append_channel_status(conn, channel, status="paused", previous="active", reason=reason, now=now)


def next_queued_due(conn: Connection, channel_id: int) -> datetime | None:
    return aware(
        conn.execute(
            sa.select(sa.func.min(messages.c.due_at)).where(
                messages.c.status == Status.QUEUED.value, messages.c.channel_id == channel_id
            )
        ).scalar()
    )


def _candidates(conn: Connection, channel_id: int, now: datetime, limit: int) -> list[Any]:
    query = (
        sa.select(messages.c.id, messages.c.phone)
        .where(
            messages.c.status == Status.QUEUED.value,
            messages.c.channel_id == channel_id,
            messages.c.due_at <= now,
            sa.or_(messages.c.expires_at.is_(None), messages.c.expires_at > now),
        )
        .order_by(messages.c.due_at, messages.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(conn.execute(query))


#: The columns ``status_event_payload`` reads.
EVENT_COLUMNS = [
    messages.c[name]
    for name in (
        "id",
        "tenant_id",
        "direction",
        "phone",
        "status",
        "error_code",
        "error_message",
        "provider_id",
        "client_ref",
        "callback_url",
        "callback_data",
        "operator",
        "origin",
        "type",
        "updated_at",
    )
]

CLAIM = (
    messages.update()
    .where(messages.c.id == sa.bindparam("b_id"), messages.c.status == Status.QUEUED.value)
    .values(
        status=Status.SENDING.value,
        lease_owner=sa.bindparam("b_owner", type_=sa.String()),
        lease_expires_at=sa.bindparam("b_until", type_=UTCDateTime()),
        attempts=messages.c.attempts + 1,
        updated_at=sa.bindparam("b_now", type_=UTCDateTime()),
    )
)

DEFER = (
    messages.update()
    .where(messages.c.id == sa.bindparam("b_id"), messages.c.status == Status.QUEUED.value)
    .values(due_at=sa.bindparam("b_due", type_=UTCDateTime()))
)


def _mark_sending(
    conn: Connection,
    channel: Any,
    admitted: list[Candidate],
    business: set[str] | None,
    *,
    owner: str,
    now: datetime,
    lease_seconds: float,
) -> list[Any]:
    """Bulk ``queued → sending`` with history, events and send-log rows (same rows ``record_applied`` writes)."""
    if not admitted:
        return []
    by_id = {c.message_id: c for c in admitted}
    lease_until = now + timedelta(seconds=lease_seconds)
    # One UPDATE per id (executemany), guarded by the status: primary-key lookups. A single
    # ``id IN (…) AND status = 'queued'`` lets SQLite's planner walk the status index instead —
    # every queued row, on every claim.
    conn.execute(
        CLAIM,
        [{"b_id": mid, "b_owner": owner, "b_until": lease_until, "b_now": now} for mid in by_id],
    )
    rows = [
        r
        for r in conn.execute(sa.select(messages).where(messages.c.id.in_(list(by_id))))
        if r.status == Status.SENDING.value and r.lease_owner == owner and r.updated_at == now
    ]
    if not rows:
        return []
    rows.sort(key=lambda r: (r.due_at, r.id))
    reason = f"claimed by {owner}"
    conn.execute(
        message_status_history.insert(),
        [
            {"message_id": r.id, "status": Status.SENDING.value, "applied": True, "at": now, "reason": reason}
            for r in rows
        ],
    )
    conn.execute(
        events.insert(),
        [
            {
                "tenant_id": r.tenant_id,
                "type": "message.status",
                "message_id": r.id,
                "created_at": now,
                "payload": status_event_payload(r, channel.name, Status.QUEUED, reason),
            }
            for r in rows
        ],
    )
    conn.execute(
        channel_sends.insert(),
        [
            {
                "channel_id": channel.id,
                "message_id": r.id,
                "phone": r.phone,
                "at": now,
                "new_contact": by_id[r.id].new_contact,
                "business_initiated": None if business is None else r.phone not in business,
            }
            for r in rows
        ],
    )
    return rows


def claim_for_channel(
    conn: Connection,
    *,
    channel_id: int,
    owner: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    rng: random.Random,
) -> ClaimOutcome:
    """Claim up to ``limit`` due messages of one channel that its pacing allows now.

    Returns the claimed rows (now ``sending``, leased to ``owner``) and when to ask again.
    """
    channel = conn.execute(sa.select(channels).where(channels.c.id == channel_id)).first()
    if channel is None:
        return ClaimOutcome(hold="no such channel")
    pacing_row = lock_pacing_row(conn, channel_id, now)
    outcome = ClaimOutcome(channel_name=channel.name)
    outcome.expired = expire_overdue(conn, now, channel_id=channel_id)
    if channel.status != "active":
        outcome.paused = pacing_row.paused_reason or f"channel is {channel.status}"
        outcome.hold = outcome.paused
        return outcome
    rules = PacingRules.from_json(channel.kind, channel.pacing or {})
    state = state_of(pacing_row)
    updates: dict[str, Any] = {}
    guard_since = pacing_row.guard_since
    if pacing_row.paused_reason is not None:
        # Active again after a guard pause: an operator resumed it. Judge only what comes next.
        guard_since = now
        updates.update(paused_reason=None, paused_at=None, guard_since=now)
    if rules.guard_enabled and (
        pacing_row.guard_checked_at is None or now - pacing_row.guard_checked_at >= GUARD_CHECK_EVERY
    ):
        updates["guard_checked_at"] = now
        reading = guard_reading(conn, channel, rules, now, guard_since)
        if guard_trips(rules, reading):
            reason = guard_reason(rules, reading)
            pause_channel(conn, channel, reason, now)
            updates.update(paused_reason=reason, paused_at=now)
            _save(conn, channel_id, updates, now)
            outcome.paused = outcome.hold = reason
            outcome.paused_now = True
            return outcome
    planner = BatchPlanner(rules, state, day_facts(conn, channel_id, rules, state, now), now, rng)
    slot = planner.slot()
    if slot.at <= now and limit > 0:
        admitted, business = _admit(conn, channel, rules, planner, outcome, now, limit)
        outcome.rows = _mark_sending(
            conn, channel, admitted, business, owner=owner, now=now, lease_seconds=lease_seconds
        )
    if planner.state != state:
        updates.update(tat=planner.state.tat, next_at=planner.state.next_at, first_sent_at=planner.state.first_sent_at)
    _save(conn, channel_id, updates, now)
    after = batch_slot(rules, planner.state, planner.facts, now, limit) if limit > 1 else planner.slot()
    if outcome.rows:
        outcome.retry_at = after.at
        return outcome
    due = next_queued_due(conn, channel_id)
    if due is None:
        return outcome
    outcome.retry_at = max(due, after.at)
    outcome.hold = after.hold.value if after.at > now and after.hold else ("not due yet" if due > now else None)
    return outcome


def _admit(
    conn: Connection,
    channel: Any,
    rules: PacingRules,
    planner: BatchPlanner,
    outcome: ClaimOutcome,
    now: datetime,
    limit: int,
) -> tuple[list[Candidate], set[str] | None]:
    rows = _candidates(conn, channel.id, now, limit * CANDIDATE_FACTOR if _per_message_rules(rules) else limit)
    if not rows:
        return [], None
    phones = sorted({r.phone for r in rows})
    recent: dict[str, datetime] = {}
    if rules.recipient_interval_s > 0:
        recent = recent_sends_to(conn, channel.id, phones, now - timedelta(seconds=rules.recipient_interval_s))
    known: set[str] | None = None
    if rules.new_contacts_daily_cap is not None:
        known = known_contacts(conn, channel.tenant_id, channel.id, phones)
    business: set[str] | None = None
    if rules.guard_enabled:
        business = wrote_since(conn, channel.tenant_id, channel.id, phones, now - SERVICE_WINDOW)
    admitted: list[Candidate] = []
    deferrals: dict[datetime, list[int]] = {}
    for row in rows:
        if len(admitted) >= limit or not planner.can_send_now():
            break
        candidate = Candidate(
            message_id=row.id,
            phone=row.phone,
            last_sent_to_phone=recent.get(row.phone),
            new_contact=known is not None and row.phone not in known,
        )
        decision = planner.consider(candidate)
        if isinstance(decision, Admit):
            planner.record(candidate)
            admitted.append(candidate)
            if known is not None:
                known.add(row.phone)
        else:
            deferrals.setdefault(decision.until, []).append(row.id)
    if deferrals:
        conn.execute(DEFER, [{"b_id": mid, "b_due": until} for until, ids in deferrals.items() for mid in ids])
        outcome.deferred += sum(len(ids) for ids in deferrals.values())
    return admitted, business


def _per_message_rules(rules: PacingRules) -> bool:
    return rules.recipient_interval_s > 0 or rules.new_contacts_daily_cap is not None


def _save(conn: Connection, channel_id: int, updates: dict[str, Any], now: datetime) -> None:
    if updates:
        conn.execute(
            channel_pacing.update().where(channel_pacing.c.channel_id == channel_id).values(**updates, updated_at=now)
        )


@dataclass(frozen=True, slots=True)
class PacingView:
    """What ``GET /v1/channels/{name}/pacing`` shows: the live state behind the rules."""

    slot: Slot
    next_due: datetime | None
    facts: DayFacts
    daily_cap: int | None
    warmup_day: int | None
    guard: GuardReading | None
    paused_reason: str | None
    paused_at: datetime | None
    queued: int


def pacing_view(conn: Connection, channel_id: int, now: datetime) -> PacingView | None:
    """A read-only look at the channel's pacing (no lock, nothing written)."""
    from wagate.domain.pacing import warmup_day

    channel = conn.execute(sa.select(channels).where(channels.c.id == channel_id)).first()
    if channel is None:
        return None
    rules = PacingRules.from_json(channel.kind, channel.pacing or {})
    row = read_pacing_row(conn, channel_id)
    state = state_of(row)
    facts = day_facts(conn, channel_id, rules, state, now, every=True)
    guard = guard_reading(conn, channel, rules, now, row.guard_since if row else None) if rules.guard_enabled else None
    queued = conn.execute(
        sa.select(sa.func.count())
        .select_from(messages)
        .where(messages.c.status == Status.QUEUED.value, messages.c.channel_id == channel_id)
    ).scalar_one()
    return PacingView(
        slot=channel_slot(rules, state, facts, now),
        next_due=next_queued_due(conn, channel_id),
        facts=facts,
        daily_cap=effective_daily_cap(rules, state, now),
        warmup_day=warmup_day(rules, state, now),
        guard=guard,
        paused_reason=row.paused_reason if row else None,
        paused_at=row.paused_at if row else None,
        queued=int(queued),
    )


@dataclass(frozen=True, slots=True)
class Finish:
    """How one claimed message leaves ``sending``: its new status and what to record with it."""

    message_id: int
    new: Status
    reason: str
    error_code: str | None = None
    error_message: str | None = None
    provider_id: str | None = None
    due_at: datetime | None = None


def _finish_statement() -> Any:
    """One UPDATE for every finish, run as executemany: statuses leave ``sending`` in bulk."""
    return (
        messages.update()
        .where(messages.c.id == sa.bindparam("b_id"), messages.c.status == Status.SENDING.value)
        .values(
            status=sa.bindparam("b_status", type_=sa.String()),
            updated_at=sa.bindparam("b_now", type_=UTCDateTime()),
            lease_owner=None,
            lease_expires_at=None,
            error_code=sa.func.coalesce(sa.bindparam("b_error_code", type_=sa.String()), messages.c.error_code),
            error_message=sa.func.coalesce(sa.bindparam("b_error_message", type_=sa.Text()), messages.c.error_message),
            provider_id=sa.func.coalesce(sa.bindparam("b_provider_id", type_=sa.String()), messages.c.provider_id),
            due_at=sa.func.coalesce(sa.bindparam("b_due_at", type_=UTCDateTime()), messages.c.due_at),
        )
    )


FINISH = _finish_statement()


def finish_claimed(conn: Connection, channel_name: str, finishes: list[Finish], now: datetime) -> list[StatusChange]:
    """Move claimed messages out of ``sending`` — the same row, history and event ``apply_status`` writes.

    The common case (the rows are still ``sending``; they are locked first on PostgreSQL) costs
    a handful of statements per *batch* — one executemany UPDATE, one SELECT, two bulk inserts —
    which is what lets one node pace a channel at 1,000/s. A row that changed meanwhile
    (recovered by another process, resolved by an operator) goes through ``apply_status``
    itself, so the state machine decides exactly as everywhere else.
    """
    if not finishes:
        return []
    for item in finishes:
        if decide(Status.SENDING, item.new).verdict is not Verdict.APPLY:
            raise ValueError(f"sending → {item.new} is not a transition")
    ids = [f.message_id for f in finishes]
    # Rows are locked in id order, as recovery takes them, so the two never deadlock.
    current = sa.select(messages.c.id, messages.c.status).where(messages.c.id.in_(ids)).order_by(messages.c.id)
    if conn.dialect.name == "postgresql":
        current = current.with_for_update()
    sending = {r.id for r in conn.execute(current) if r.status == Status.SENDING.value}
    fast = [f for f in finishes if f.message_id in sending]
    changes: list[StatusChange] = []
    for item in finishes:
        if item.message_id in sending:
            continue
        change = apply_status(
            conn,
            item.message_id,
            item.new,
            now=now,
            reason=item.reason,
            error_code=item.error_code,
            error_message=item.error_message,
            provider_id=item.provider_id,
            extra={"due_at": item.due_at} if item.due_at is not None else None,
        )
        if change is not None:
            changes.append(change)
    if not fast:
        return changes
    conn.execute(
        FINISH,
        [
            {
                "b_id": f.message_id,
                "b_status": f.new.value,
                "b_now": now,
                "b_error_code": f.error_code,
                "b_error_message": f.error_message,
                "b_provider_id": f.provider_id,
                "b_due_at": f.due_at,
            }
            for f in fast
        ],
    )
    # Every column the event needs, but not the payload: no JSON to parse back per message.
    rows = {
        r.id: r for r in conn.execute(sa.select(*EVENT_COLUMNS).where(messages.c.id.in_([f.message_id for f in fast])))
    }
    conn.execute(
        message_status_history.insert(),
        [
            {
                "message_id": f.message_id,
                "status": f.new.value,
                "applied": True,
                "at": now,
                "reason": f.reason,
                "error_code": f.error_code,
            }
            for f in fast
        ],
    )
    conn.execute(
        events.insert(),
        [
            {
                "tenant_id": rows[f.message_id].tenant_id,
                "type": "message.status",
                "message_id": f.message_id,
                "created_at": now,
                "payload": status_event_payload(rows[f.message_id], channel_name, Status.SENDING, f.reason),
            }
            for f in fast
        ],
    )
    changes.extend(StatusChange(f.message_id, Status.SENDING, f.new, applied=True) for f in fast)
    return changes


def message_wait(conn: Connection, message: Any, now: datetime) -> Wait | None:
    """Why the queued outbound ``message`` (a messages row) waits, from the recorded pacing facts."""
    channel = conn.execute(sa.select(channels).where(channels.c.id == message.channel_id)).first()
    if channel is None:
        return None
    rules = PacingRules.from_json(channel.kind, channel.pacing or {})
    row = read_pacing_row(conn, channel.id)
    state = state_of(row)
    recent: dict[str, datetime] = {}
    if rules.recipient_interval_s > 0:
        since = now - timedelta(seconds=rules.recipient_interval_s)
        recent = recent_sends_to(conn, channel.id, [message.phone], since)
    new_contact = False
    if rules.new_contacts_daily_cap is not None:
        new_contact = message.phone not in known_contacts(conn, channel.tenant_id, channel.id, [message.phone])
    facts = MessageFacts(
        due_at=aware(message.due_at) or now,
        attempts=int(message.attempts or 0),
        last_sent_to_phone=recent.get(message.phone),
        new_contact=new_contact,
    )
    paused = None
    if channel.status == "paused":
        paused = (row.paused_reason if row is not None else None) or "paused by an operator"
    return why_waiting(rules, state, day_facts(conn, channel.id, rules, state, now), facts, now, channel_paused=paused)
