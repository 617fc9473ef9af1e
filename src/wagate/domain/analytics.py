"""How fast operators answer clients: the definitions behind ``/v1/analytics/operators``.

Pure functions over threads of messages (one thread per channel × client phone); the store
gathers the threads, this module decides what they mean. The definitions (also in
``docs/dashboard.md``):

* A **client message** is an inbound message other than a reaction.
* An **operator reply** is an outbound message that names an operator (the dashboard always
  does; a CRM does with ``operator`` in ``POST /v1/messages``) and did not fail, expire or get
  cancelled. Outbound messages without an operator (notifications, campaigns, bots) neither
  answer the client nor count for anyone.
* **Response time** runs from the first client message nobody has answered yet to the next
  operator reply: several client messages in a row are one wait, measured from the first.
  The reply is the response of the operator who sent it; a second operator's reply right
  after it answers nothing (it is still a message sent and a conversation handled).
* A **first response** answers a client message that opens a dialogue: the client's first
  message in the thread, or one that follows ``dialogue_gap`` (24 h by default) of silence.
* With **working hours** configured, only time inside them counts: a message written at
  night starts the clock at the next opening.
* A response belongs to the period (and the day) in which the reply was sent. A thread is
  **left unanswered** in a period when a client message of that period has no reply by the
  period's end; it counts for the conversation's assignee (or for nobody, if unassigned).
* The **median** is the usual one (the mean of the two middle values for an even count);
  **p90** is the nearest-rank 90th percentile (the smallest value at least 90 % of the
  values do not exceed), so it is always one of the measured times.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wagate.errors import ValidationError

DEFAULT_SLA = timedelta(minutes=15)
DEFAULT_DIALOGUE_GAP = timedelta(hours=24)
#: Outbound statuses that never reached the client: such a message answers nothing.
NOT_DELIVERED = frozenset({"failed", "expired", "cancelled"})
#: Inbound types that are not a message to answer.
NOT_A_CLIENT_MESSAGE = frozenset({"reaction"})
ISO_DAYS = range(1, 8)


# ---------------------------------------------------------------- working hours


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Opening hours in one time zone: ISO weekdays (1 = Monday) from ``start`` to ``end``.

    ``start < end`` on the same day: a shift across midnight is two settings this does not
    model (documented in ``docs/dashboard.md``).
    """

    tz: ZoneInfo
    days: frozenset[int]
    start: time
    end: time

    def as_json(self) -> dict[str, Any]:
        return {
            "tz": self.tz.key,
            "days": sorted(self.days),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }

    def seconds_between(self, a: datetime, b: datetime) -> float:
        """Seconds of ``[a, b)`` inside working hours (0 when ``b <= a``). DST-safe: each day's
        opening and closing are local wall-clock times converted to instants."""
        # Instants in UTC: subtracting two datetimes of one zone would count wall-clock time.
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        if b <= a:
            return 0.0
        total = 0.0
        day = a.astimezone(self.tz).date()
        last = b.astimezone(self.tz).date()
        while day <= last:
            if day.isoweekday() in self.days:
                opens = datetime.combine(day, self.start, self.tz).astimezone(UTC)
                closes = datetime.combine(day, self.end, self.tz).astimezone(UTC)
                lo, hi = max(a, opens), min(b, closes)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total


def parse_zone(value: object, field: str) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise ValidationError("a time zone name such as Europe/Moscow is required", field=field)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown time zone {value!r}", field=field) from exc


def _parse_time(value: object, field: str) -> time:
    if isinstance(value, str):
        try:
            hours, minutes = value.split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            pass
    raise ValidationError("a time of day as HH:MM is required", field=field)


def parse_working_hours(data: object, field: str = "working_hours") -> WorkingHours | None:
    """``{"tz", "days", "start", "end"}`` → ``WorkingHours``; ``None``/``{}`` means round the clock."""
    if data is None or data == {}:
        return None
    if not isinstance(data, Mapping):
        raise ValidationError("working_hours must be an object {tz, days, start, end} or null", field=field)
    for key in data:
        if key not in ("tz", "days", "start", "end"):
            raise ValidationError(f"unknown field {key!r}", field=f"{field}.{key}")
    days = data.get("days", [1, 2, 3, 4, 5])
    if (
        not isinstance(days, list)
        or not days
        or any(not isinstance(d, int) or isinstance(d, bool) or d not in ISO_DAYS for d in days)
    ):
        raise ValidationError("days is a list of ISO weekdays, 1 (Monday) to 7 (Sunday)", field=f"{field}.days")
    start = _parse_time(data.get("start"), f"{field}.start")
    end = _parse_time(data.get("end"), f"{field}.end")
    if end <= start:
        raise ValidationError("end must be later than start on the same day", field=f"{field}.end")
    return WorkingHours(parse_zone(data.get("tz"), f"{field}.tz"), frozenset(days), start, end)


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    """A tenant's analytics settings (``tenants.settings["analytics"]``)."""

    sla: timedelta = DEFAULT_SLA
    working_hours: WorkingHours | None = None
    dialogue_gap: timedelta = DEFAULT_DIALOGUE_GAP
    #: The zone days are counted in (the working hours' zone when set).
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None, default_tz: str = "UTC") -> AnalyticsSettings:
        data = dict(stored or {})
        hours = parse_working_hours(data.get("working_hours"))
        tz = hours.tz if hours else _zone_or_utc(default_tz)
        return cls(
            sla=timedelta(minutes=float(data.get("sla_minutes", DEFAULT_SLA.total_seconds() / 60))),
            working_hours=hours,
            dialogue_gap=timedelta(hours=float(data.get("dialogue_gap_hours", 24))),
            tz=tz,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "sla_minutes": self.sla.total_seconds() / 60,
            "working_hours": self.working_hours.as_json() if self.working_hours else None,
            "dialogue_gap_hours": self.dialogue_gap.total_seconds() / 3600,
            "timezone": self.tz.key,
        }

    def duration(self, a: datetime, b: datetime) -> float:
        """Seconds from ``a`` to ``b`` as the clock of a response counts them."""
        if self.working_hours is not None:
            return self.working_hours.seconds_between(a, b)
        return max(0.0, (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds())


def _zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def validate_settings(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a PATCH into the stored analytics settings, checking every field."""
    stored = dict(current)
    for key, value in changes.items():
        if key == "sla_minutes":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 7 * 24 * 60:
                raise ValidationError("sla_minutes is a number of minutes above 0 (at most a week)", field=key)
            stored[key] = value
        elif key == "dialogue_gap_hours":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 24 * 30:
                raise ValidationError("dialogue_gap_hours is a number of hours above 0 (at most 30 days)", field=key)
            stored[key] = value
        elif key == "working_hours":
            hours = parse_working_hours(value)
            stored[key] = hours.as_json() if hours else None
        else:
            raise ValidationError(f"unknown field {key!r}", field=key)
    return stored


# ---------------------------------------------------------------- threads in, numbers out


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """One message of a thread as the analytics see it."""

    at: datetime
    inbound: bool
    #: The operator of an outbound message (``None``: automated, ignored).
    operator: str | None = None
    status: str = "sent"
    type: str = "text"

    @property
    def is_client_message(self) -> bool:
        return self.inbound and self.type not in NOT_A_CLIENT_MESSAGE

    @property
    def is_operator_message(self) -> bool:
        return not self.inbound and bool(self.operator) and self.status != "cancelled"

    @property
    def is_reply(self) -> bool:
        return not self.inbound and bool(self.operator) and self.status not in NOT_DELIVERED


@dataclass(frozen=True, slots=True)
class Prior:
    """Where a thread stood when the period began (condensed from the messages before it)."""

    #: The first client message before the period that no reply had answered yet.
    pending_since: datetime | None = None
    #: Whether that waiting message opened a dialogue (its reply would be a first response).
    pending_opens_dialogue: bool = False
    #: The last client message or operator reply before the period.
    last_activity: datetime | None = None


@dataclass(frozen=True, slots=True)
class Thread:
    key: str
    messages: list[ThreadMessage]
    prior: Prior = field(default_factory=Prior)
    #: The conversation's assignee: who an unanswered thread counts against.
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class Response:
    operator: str
    thread: str
    waited_from: datetime
    replied_at: datetime
    seconds: float
    first: bool


def prior_of(
    last_reply: datetime | None, first_unanswered: datetime | None, last_client: datetime | None, gap: timedelta
) -> Prior:
    """The state before a period from three facts the store can aggregate: the last operator
    reply, the first client message after it and the last client message (all before the period)."""
    activity = max((t for t in (last_reply, last_client) if t is not None), default=None)
    if first_unanswered is None:
        return Prior(None, False, activity)
    opens = last_reply is None or first_unanswered - last_reply >= gap
    return Prior(first_unanswered, opens, activity)


def responses_of(thread: Thread, settings: AnalyticsSettings) -> tuple[list[Response], list[datetime]]:
    """Every response of a thread (before and inside the period alike), and the times of client
    messages still unanswered at the end of the thread (the first of each wait)."""
    pending = thread.prior.pending_since
    opens = thread.prior.pending_opens_dialogue
    last = thread.prior.last_activity
    out: list[Response] = []
    for message in sorted(thread.messages, key=lambda m: m.at):
        if message.is_client_message:
            if pending is None:
                pending = message.at
                opens = last is None or message.at - last >= settings.dialogue_gap
            last = message.at
        elif message.is_reply:
            assert message.operator is not None
            if pending is not None:
                seconds = settings.duration(pending, message.at)
                out.append(Response(message.operator, thread.key, pending, message.at, seconds, opens))
                pending = None
            last = message.at
    return out, [pending] if pending is not None else []


@dataclass(frozen=True, slots=True)
class Summary:
    """Numbers for one operator (or the team) over the period or one day."""

    conversations: int = 0
    messages: int = 0
    client_messages: int = 0
    responses: int = 0
    response_median_s: float | None = None
    response_p90_s: float | None = None
    first_responses: int = 0
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    within_sla: int = 0
    sla_share: float | None = None
    unanswered: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "messages_sent": self.messages,
            "client_messages": self.client_messages,
            "responses": self.responses,
            "response_time": {"median_s": _round(self.response_median_s), "p90_s": _round(self.response_p90_s)},
            "first_responses": self.first_responses,
            "first_response_time": {
                "median_s": _round(self.first_response_median_s),
                "p90_s": _round(self.first_response_p90_s),
            },
            "within_sla": self.within_sla,
            "sla_share": None if self.sla_share is None else round(self.sla_share, 4),
            "unanswered": self.unanswered,
        }


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    until: datetime
    settings: AnalyticsSettings
    team: Summary
    operators: dict[str, Summary]
    #: Unanswered threads with no assignee.
    unassigned_unanswered: int
    days: list[date]
    team_daily: dict[date, Summary]
    operators_daily: dict[str, dict[date, Summary]]


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class _Tally:
    threads: set[str] = field(default_factory=set)
    messages: int = 0
    client_messages: int = 0
    responses: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    unanswered: int = 0

    def summary(self, sla_seconds: float) -> Summary:
        within = sum(1 for s in self.responses if s <= sla_seconds)
        return Summary(
            conversations=len(self.threads),
            messages=self.messages,
            client_messages=self.client_messages,
            responses=len(self.responses),
            response_median_s=median(self.responses),
            response_p90_s=p90(self.responses),
            first_responses=len(self.first),
            first_response_median_s=median(self.first),
            first_response_p90_s=p90(self.first),
            within_sla=within,
            sla_share=within / len(self.responses) if self.responses else None,
            unanswered=self.unanswered,
        )


def days_between(since: datetime, until: datetime, tz: ZoneInfo) -> list[date]:
    first = since.astimezone(tz).date()
    last = (until - timedelta(microseconds=1)).astimezone(tz).date()
    out = []
    while first <= last:
        out.append(first)
        first += timedelta(days=1)
    return out


def analyze(
    threads: Iterable[Thread], since: datetime, until: datetime, settings: AnalyticsSettings, now: datetime
) -> Report:
    """Per-operator and team numbers for ``[since, until)``, with a per-day breakdown.

    A period still running ends, for "left unanswered", at ``now``: a client who wrote a
    minute ago is not yet unanswered at the end of a period that has not ended.
    """
    end = min(until, now)
    tz = settings.tz
    team = _Tally()
    ops: dict[str, _Tally] = {}
    team_days: dict[date, _Tally] = {}
    op_days: dict[str, dict[date, _Tally]] = {}
    unassigned = 0

    def tallies(operator: str | None, at: datetime) -> list[_Tally]:
        day = at.astimezone(tz).date()
        out = [team, team_days.setdefault(day, _Tally())]
        if operator is not None:
            out.append(ops.setdefault(operator, _Tally()))
            out.append(op_days.setdefault(operator, {}).setdefault(day, _Tally()))
        return out

    for thread in threads:
        responses, waiting = responses_of(thread, settings)
        for message in thread.messages:
            if not since <= message.at < until:
                continue
            if message.is_operator_message:
                for tally in tallies(message.operator, message.at):
                    tally.messages += 1
                    tally.threads.add(thread.key)
            elif message.is_client_message:
                for tally in tallies(None, message.at):
                    tally.client_messages += 1
        for response in responses:
            if not since <= response.replied_at < until:
                continue
            for tally in tallies(response.operator, response.replied_at):
                tally.responses.append(response.seconds)
                if response.first:
                    tally.first.append(response.seconds)
        if _unanswered_at(thread, responses, waiting, since, end):
            team.unanswered += 1
            if thread.assignee:
                ops.setdefault(thread.assignee, _Tally()).unanswered += 1
            else:
                unassigned += 1
    sla = settings.sla.total_seconds()
    days = days_between(since, until, tz)
    return Report(
        since=since,
        until=until,
        settings=settings,
        team=team.summary(sla),
        operators={name: tally.summary(sla) for name, tally in sorted(ops.items())},
        unassigned_unanswered=unassigned,
        days=days,
        team_daily={day: team_days.get(day, _Tally()).summary(sla) for day in days},
        operators_daily={
            name: {day: by_day.get(day, _Tally()).summary(sla) for day in days}
            for name, by_day in sorted(op_days.items())
        },
    )


def _unanswered_at(
    thread: Thread, responses: list[Response], waiting: list[datetime], since: datetime, end: datetime
) -> bool:
    """Whether a client message written in ``[since, end)`` still waited for a reply at ``end``."""
    waits = [r.waited_from for r in responses if r.replied_at >= end] + waiting
    for start in (w for w in waits if w < end):
        # A wait open at ``end`` covers every client message from ``start`` until the reply;
        # the thread counts if one of them falls inside the period.
        if any(since <= m.at < end and m.at >= start and m.is_client_message for m in thread.messages):
            return True
    return False
