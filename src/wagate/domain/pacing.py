"""Pacing: *when* a channel may hand its next message to the provider. Pure decisions, no I/O.

The store gathers the facts (the channel's durable pacing state, today's send counts, the last
send to each recipient, who is a new contact, who answered); this module decides. Time and
randomness come in as arguments, so every rule is testable with a fake clock and a seeded RNG,
and the same decision holds across restarts and several processes because the facts are
recorded in the database, not kept in memory.

Rules, in the order they are checked (keys of the channel's ``pacing`` JSON):

* ``daily_cap`` and the warm-up schedule ``warmup_daily_caps`` — at most this many sends per
  UTC day; the effective cap is the smaller of the two while the warm-up lasts.
* ``per_second`` with ``burst`` — a token bucket, implemented as GCRA: one timestamp (the
  *theoretical arrival time*) is the whole state, so it is cheap to store and to share.
* ``min_interval_s``/``max_interval_s`` — after each send a pause drawn uniformly from
  ``[min, max]``; the drawn moment is stored, not re-drawn at each look.
* ``recipient_interval_s`` — at most one message per this many seconds to one recipient.
* ``new_contacts_daily_cap`` — at most this many first messages to new contacts per day.
* ``unanswered_threshold`` — the guard: when the share of business-initiated messages left
  unanswered passes it (over a sample of at least ``unanswered_min_sample``), pause the channel.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

#: Keys beyond the contract's four, with their defaults. ``None`` means the rule is off.
EXTRA_DEFAULTS: dict[str, Any] = {
    "burst": None,
    "recipient_interval_s": 6.0,
    "new_contacts_daily_cap": None,
    "warmup_daily_caps": None,
    "warmup_start": None,
    "unanswered_threshold": None,
    "unanswered_min_sample": 50,
    "unanswered_window_hours": 72.0,
    "unanswered_grace_minutes": 60.0,
}

#: The anti-ban rules switched on for unofficial routes (a phone, WhatsApp Web).
ANTI_BAN_DEFAULTS: dict[str, Any] = {
    "new_contacts_daily_cap": 50,
    "warmup_daily_caps": [50, 100, 200, 400, 800],
    "unanswered_threshold": 0.9,
}

#: Default pacing profiles a channel kind picks from (``wagate.channels.kind.ChannelKind.pacing``).
#: A provider that enforces its own throughput: Meta's default is 80 messages/s per number.
PROVIDER_PACING: dict[str, Any] = {
    "per_second": 80.0,
    "min_interval_s": 0.0,
    "max_interval_s": 0.0,
    "daily_cap": None,
    **EXTRA_DEFAULTS,
}
#: An unofficial route: the random 5–12 s pause of the hosted services, and the anti-ban rules.
UNOFFICIAL_PACING: dict[str, Any] = {
    "per_second": 1.0,
    "min_interval_s": 5.0,
    "max_interval_s": 12.0,
    "daily_cap": None,
    **EXTRA_DEFAULTS,
    **ANTI_BAN_DEFAULTS,
}

#: How often the unanswered-share guard is evaluated per channel (it reads a window of sends).
GUARD_CHECK_EVERY = timedelta(seconds=60)
#: A client who wrote within this long before a send makes it a reply, not business-initiated.
SERVICE_WINDOW = timedelta(hours=24)


def day_start(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day: caps count per UTC day."""
    return datetime.combine(moment.astimezone(UTC).date(), time(0), tzinfo=UTC)


def next_day_start(moment: datetime) -> datetime:
    return day_start(moment) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PacingRules:
    """A channel's pacing, parsed once per claim from its ``pacing`` JSON."""

    per_second: float = 80.0
    burst: int = 1
    min_interval_s: float = 0.0
    max_interval_s: float = 0.0
    daily_cap: int | None = None
    recipient_interval_s: float = 6.0
    new_contacts_daily_cap: int | None = None
    warmup_daily_caps: tuple[int, ...] = ()
    warmup_start: date | None = None
    unanswered_threshold: float | None = None
    unanswered_min_sample: int = 50
    unanswered_window: timedelta = timedelta(hours=72)
    unanswered_grace: timedelta = timedelta(minutes=60)

    @classmethod
    def from_json(cls, pacing: Mapping[str, Any], defaults: Mapping[str, Any] = PROVIDER_PACING) -> PacingRules:
        """Rules from a stored pacing object.

        A channel's stored pacing is complete (its kind's defaults were merged in when it was
        created, ``domain.channels.merge_pacing``); ``defaults`` only fills keys a caller left out.
        """
        merged = {**defaults, **pacing}
        per_second = float(merged["per_second"])
        burst = merged.get("burst")
        start = merged.get("warmup_start")
        return cls(
            per_second=per_second,
            burst=int(burst) if burst else default_burst(per_second),
            min_interval_s=float(merged["min_interval_s"]),
            max_interval_s=float(merged["max_interval_s"]),
            daily_cap=merged.get("daily_cap"),
            recipient_interval_s=float(merged["recipient_interval_s"] or 0.0),
            new_contacts_daily_cap=merged.get("new_contacts_daily_cap"),
            warmup_daily_caps=tuple(merged.get("warmup_daily_caps") or ()),
            warmup_start=date.fromisoformat(start) if isinstance(start, str) else None,
            unanswered_threshold=merged.get("unanswered_threshold"),
            unanswered_min_sample=int(merged["unanswered_min_sample"]),
            unanswered_window=timedelta(hours=float(merged["unanswered_window_hours"])),
            unanswered_grace=timedelta(minutes=float(merged["unanswered_grace_minutes"])),
        )

    @property
    def emission_interval(self) -> float:
        """Seconds per token of the bucket."""
        return 1.0 / self.per_second

    @property
    def guard_enabled(self) -> bool:
        return self.unanswered_threshold is not None


def default_burst(per_second: float) -> int:
    """A tenth of a second's worth of messages, at least one: smooth, yet cheap to claim in batches."""
    return max(1, math.floor(per_second / 10))


@dataclass(frozen=True, slots=True)
class PacingState:
    """The durable per-channel state (one row): what was decided at the last send."""

    #: Token bucket (GCRA) theoretical arrival time; ``None`` before the first send.
    tat: datetime | None = None
    #: The earliest next send after the random pause drawn at the last send.
    next_at: datetime | None = None
    #: The first send ever recorded: day 0 of the warm-up when ``warmup_start`` is unset.
    first_sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DayFacts:
    """Counts of today's (UTC) sends, read from the send log."""

    sent_today: int = 0
    new_contacts_today: int = 0


class Hold(StrEnum):
    """Why a channel or a message has to wait."""

    DAILY_CAP = "daily cap reached"
    RATE = "rate limit"
    INTERVAL = "pause between sends"
    RECIPIENT = "recipient spacing"
    NEW_CONTACTS = "daily cap on new contacts reached"


def effective_daily_cap(rules: PacingRules, state: PacingState, now: datetime) -> int | None:
    """``daily_cap``, lowered by the warm-up schedule while it lasts (day 0 = start day)."""
    cap = rules.daily_cap
    if rules.warmup_daily_caps:
        start = rules.warmup_start or (state.first_sent_at.astimezone(UTC).date() if state.first_sent_at else None)
        index = (now.astimezone(UTC).date() - start).days if start else 0
        if 0 <= index < len(rules.warmup_daily_caps):
            warm = rules.warmup_daily_caps[index]
            cap = warm if cap is None else min(cap, warm)
    return cap


def warmup_day(rules: PacingRules, state: PacingState, now: datetime) -> int | None:
    """Which warm-up day ``now`` is (0-based), or ``None`` once the schedule is over or off."""
    if not rules.warmup_daily_caps:
        return None
    start = rules.warmup_start or (state.first_sent_at.astimezone(UTC).date() if state.first_sent_at else None)
    index = (now.astimezone(UTC).date() - start).days if start else 0
    return index if 0 <= index < len(rules.warmup_daily_caps) else None


@dataclass(frozen=True, slots=True)
class Slot:
    """When the channel may send next, and what holds it until then."""

    at: datetime
    hold: Hold | None


def channel_slot(rules: PacingRules, state: PacingState, facts: DayFacts, now: datetime) -> Slot:
    """The earliest moment the channel may hand over its next message (``now`` if it may now)."""
    cap = effective_daily_cap(rules, state, now)
    if cap is not None and facts.sent_today >= cap:
        return Slot(next_day_start(now), Hold.DAILY_CAP)
    at, hold = now, None
    if state.tat is not None:
        tolerance = timedelta(seconds=(rules.burst - 1) * rules.emission_interval)
        bucket = state.tat - tolerance
        if bucket > at:
            at, hold = bucket, Hold.RATE
    if state.next_at is not None and state.next_at > at:
        at, hold = state.next_at, Hold.INTERVAL
    return Slot(at, hold)


def batch_slot(rules: PacingRules, state: PacingState, facts: DayFacts, now: datetime, want: int) -> Slot:
    """When ``want`` tokens (at most half the bucket) will be available at once.

    A push dispatcher that woke at the single-token slot would claim one message at a time at
    high rates; waiting for a batch's worth keeps the same average rate with far fewer claims.
    Waiting for a *full* bucket would lose every moment of wake-up latency (a full bucket stops
    filling), so the batch is capped at half the bucket: latency is absorbed by the other half.
    """
    slot = channel_slot(rules, state, facts, now)
    if slot.hold is not Hold.RATE:
        return slot
    extra = (min(want, max(1, rules.burst // 2)) - 1) * rules.emission_interval
    return Slot(slot.at + timedelta(seconds=max(0.0, extra)), slot.hold)


def after_send(rules: PacingRules, state: PacingState, now: datetime, rng: random.Random) -> PacingState:
    """The state once a message is handed over at ``now``: one token spent, the next pause drawn."""
    base = state.tat if state.tat is not None and state.tat > now else now
    tat = base + timedelta(seconds=rules.emission_interval)
    next_at = None
    if rules.max_interval_s > 0:
        next_at = now + timedelta(seconds=rng.uniform(rules.min_interval_s, rules.max_interval_s))
    return PacingState(tat=tat, next_at=next_at, first_sent_at=state.first_sent_at or now)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A due message as the planner sees it."""

    message_id: int
    phone: str
    #: The last send to this recipient on this channel (from the send log), if recent.
    last_sent_to_phone: datetime | None = None
    #: True when nobody on this phone ever wrote to or got a message from this channel.
    new_contact: bool = False


@dataclass(frozen=True, slots=True)
class Admit:
    pass


@dataclass(frozen=True, slots=True)
class Defer:
    """Not this message, not yet: move its due time to ``until`` (no status change)."""

    until: datetime
    hold: Hold


@dataclass
class BatchPlanner:
    """Decides, message by message, which due messages one claim may take now.

    It keeps the state and today's counts up to date as it admits messages, so a batch
    never exceeds what single claims would have allowed.
    """

    rules: PacingRules
    state: PacingState
    facts: DayFacts
    now: datetime
    rng: random.Random
    _recipients: dict[str, datetime] = field(default_factory=dict)

    def slot(self) -> Slot:
        return channel_slot(self.rules, self.state, self.facts, self.now)

    def can_send_now(self) -> bool:
        return self.slot().at <= self.now

    def consider(self, candidate: Candidate) -> Admit | Defer:
        """Whether ``candidate`` may go in this claim; the channel-wide slot is checked by the caller."""
        rules = self.rules
        last = max(
            (t for t in (candidate.last_sent_to_phone, self._recipients.get(candidate.phone)) if t is not None),
            default=None,
        )
        if last is not None and rules.recipient_interval_s > 0:
            ready = last + timedelta(seconds=rules.recipient_interval_s)
            if ready > self.now:
                return Defer(ready, Hold.RECIPIENT)
        cap = rules.new_contacts_daily_cap
        if candidate.new_contact and cap is not None and self.facts.new_contacts_today >= cap:
            return Defer(next_day_start(self.now), Hold.NEW_CONTACTS)
        return Admit()

    def record(self, candidate: Candidate) -> None:
        """``candidate`` was claimed at ``now``."""
        self.state = after_send(self.rules, self.state, self.now, self.rng)
        self.facts = replace(
            self.facts,
            sent_today=self.facts.sent_today + 1,
            new_contacts_today=self.facts.new_contacts_today + (1 if candidate.new_contact else 0),
        )
        self._recipients[candidate.phone] = self.now


@dataclass(frozen=True, slots=True)
class SentRecord:
    """A business-initiated send in the guard's window."""

    phone: str
    at: datetime


@dataclass(frozen=True, slots=True)
class GuardReading:
    sample: int
    unanswered: int

    @property
    def share(self) -> float:
        return self.unanswered / self.sample if self.sample else 0.0


def guard_window(rules: PacingRules, now: datetime, since: datetime | None) -> tuple[datetime, datetime]:
    """The sends the guard looks at: old enough to have had a chance of an answer (``grace``),
    young enough to matter (``window``), and not before the operator last resumed the channel."""
    start = now - rules.unanswered_window
    if since is not None and since > start:
        start = since
    return start, now - rules.unanswered_grace


def read_guard(sends: list[SentRecord], last_inbound: dict[str, datetime]) -> GuardReading:
    """How many of ``sends`` got no inbound message from their recipient afterwards."""
    unanswered = sum(1 for s in sends if not (s.phone in last_inbound and last_inbound[s.phone] > s.at))
    return GuardReading(sample=len(sends), unanswered=unanswered)


def guard_trips(rules: PacingRules, reading: GuardReading) -> bool:
    """True when the channel must be paused to protect the number."""
    threshold = rules.unanswered_threshold
    if threshold is None or reading.sample < rules.unanswered_min_sample:
        return False
    return reading.share > threshold


def guard_reason(rules: PacingRules, reading: GuardReading) -> str:
    return (
        f"{reading.unanswered} of {reading.sample} business-initiated messages unanswered "
        f"({reading.share:.0%} > {rules.unanswered_threshold:.0%}); paused to protect the number"
    )
