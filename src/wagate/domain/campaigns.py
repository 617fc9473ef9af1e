"""Campaigns: one approved template sent to a list of recipients, slowly and carefully.

Pure rules, no I/O: what a campaign's settings are, which state changes are allowed, when its
sending window is open, when ban protection must pause it, and how the dry-run report and
the live statistics are put together (docs/campaigns.md).

States::

    importing ──▶ draft ──start──▶ running ◀──resume── paused
                    │                 │  └──pause / auto-pause──▶┘
                    └────cancel───────┴──────────cancel─────────────▶ cancelled
                                      └─(every recipient handled)──▶ completed

Recipients: ``pending`` (waiting for its turn) → ``enqueued`` (its message is in the queue,
``message_id`` set, in the transaction that created the message) or ``refused`` (the policy or
an opt-out said no at send time); ``invalid`` (bad phone or parameters) and ``duplicate`` are
decided at import and never sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wagate.domain.limits import validate_timezone
from wagate.domain.policy import tenant_timezone
from wagate.errors import ConflictError, ValidationError

IMPORTING = "importing"
DRAFT = "draft"
RUNNING = "running"
PAUSED = "paused"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATES = (IMPORTING, DRAFT, RUNNING, PAUSED, COMPLETED, CANCELLED)

PENDING = "pending"
ENQUEUED = "enqueued"
REFUSED = "refused"
INVALID = "invalid"
DUPLICATE = "duplicate"
RECIPIENT_STATES = (PENDING, ENQUEUED, REFUSED, INVALID, DUPLICATE)

#: Where each action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": ((DRAFT,), RUNNING),
    "pause": ((RUNNING,), PAUSED),
    "resume": ((PAUSED,), RUNNING),
    "cancel": ((DRAFT, RUNNING, PAUSED), CANCELLED),
}

DEFAULT_MAX_IN_FLIGHT = 50
MAX_IN_FLIGHT_LIMIT = 1000
MAX_NAME = 200
#: Refusals that only mean "not now": the recipient stays pending and the campaign waits.
TRANSIENT_REFUSALS = frozenset({"daily_cap_exceeded", "tier_limit_exceeded"})
#: How long a campaign waits after the tier limit refused a message (the tier is a rolling 24 h).
TIER_WAIT = timedelta(hours=1)
#: Line numbers kept per category in the dry-run report (counts are always complete).
REPORT_LINES = 1000
#: A reply counts for a campaign message when it comes within this time after the send.
REPLY_WINDOW = timedelta(days=7)


def transition(state: str, action: str) -> str:
    """The state ``action`` leads to from ``state``, or ``ConflictError`` (409) naming both."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        allowed = " or ".join(sources)
        raise ConflictError(
            f"cannot {action} a campaign that is {state}; only when {allowed}", field="state", code="invalid_state"
        )
    return target


# ---------------------------------------------------------------- the sending window

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _clock_time(value: object, field: str) -> time:
    if not isinstance(value, str) or not _HHMM.match(value.strip()):
        raise ValidationError("a time of day is HH:MM, e.g. 10:00", field=field)
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class SendingWindow:
    """Local times of day between which messages may be handed to the queue: ``start`` ≤ t < ``end``.

    ``end`` before ``start`` spans midnight (22:00–06:00). ``None`` as a whole means any time.
    """

    start: time
    end: time
    timezone: str

    @classmethod
    def parse(cls, value: object, timezone: str, field: str = "window") -> SendingWindow | None:
        """``"10:00-20:00"`` (also with ``–``), ``{"start": "10:00", "end": "20:00"}`` or null."""
        if value is None or value == "":
            return None
        if isinstance(value, str):
            parts = re.split(r"\s*[-–—]\s*", value.strip())
            if len(parts) != 2:
                raise ValidationError("window is HH:MM-HH:MM, e.g. 10:00-20:00", field=field)
            start, end = (_clock_time(p, field) for p in parts)
        elif isinstance(value, Mapping):
            start = _clock_time(value.get("start"), f"{field}.start")
            end = _clock_time(value.get("end"), f"{field}.end")
        else:
            raise ValidationError("window is HH:MM-HH:MM or {start, end}", field=field)
        if start == end:
            raise ValidationError("window start and end must differ", field=field)
        return cls(start, end, timezone)

    def _contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        return self._contains(local)

    def next_open(self, now: datetime) -> datetime:
        """When the window next opens (``now`` itself when it is open), as an aware UTC time."""
        if self.is_open(now):
            return now
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        for days in (0, 1, 2):
            day = (local + timedelta(days=days)).date()
            candidate = datetime.combine(day, self.start, tzinfo=zone)
            if candidate > local:
                return candidate.astimezone(UTC)
        raise AssertionError("a daily window opens within two days")  # pragma: no cover

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M"), "timezone": self.timezone}


# ---------------------------------------------------------------- ban protection


@dataclass(frozen=True, slots=True)
class Protection:
    """Auto-pause thresholds, judged over the last ``window`` messages whose send has an outcome.

    Nothing is judged before ``min_sample`` such messages exist (3 failures of the first 4
    messages is noise, not a signal). A rate of ``None`` switches that check off.
    """

    window: int = 100
    min_sample: int = 20
    max_optout_rate: float | None = 0.05
    max_failure_rate: float | None = 0.25

    @classmethod
    def of(cls, value: object, field: str = "protection") -> Protection:
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise ValidationError("protection is an object", field=field)
        defaults = cls()
        for key in value:
            if key not in ("window", "min_sample", "max_optout_rate", "max_failure_rate"):
                raise ValidationError(f"unknown field {key!r}", field=f"{field}.{key}")
        window = _int_in(value.get("window", defaults.window), 5, 10_000, f"{field}.window")
        min_sample = _int_in(value.get("min_sample", defaults.min_sample), 1, window, f"{field}.min_sample")
        return cls(
            window=window,
            min_sample=min_sample,
            max_optout_rate=_rate(value.get("max_optout_rate", defaults.max_optout_rate), f"{field}.max_optout_rate"),
            max_failure_rate=_rate(
                value.get("max_failure_rate", defaults.max_failure_rate), f"{field}.max_failure_rate"
            ),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "min_sample": self.min_sample,
            "max_optout_rate": self.max_optout_rate,
            "max_failure_rate": self.max_failure_rate,
        }


def _int_in(value: object, low: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"must be a whole number from {low} to {high}", field=field)
    return value


def _rate(value: object, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) <= 1:
        raise ValidationError("a rate is a number above 0 and at most 1 (0.05 = 5%), or null for off", field=field)
    return float(value)


@dataclass(frozen=True, slots=True)
class Sample:
    """The last messages of a campaign whose send has an outcome (sent or beyond, or failed)."""

    settled: int
    failed: int
    opted_out: int


@dataclass(frozen=True, slots=True)
class Trip:
    """Why ban protection pauses a campaign: a stable ``code`` and a sentence for people."""

    code: str
    reason: str


def check_protection(protection: Protection, sample: Sample) -> Trip | None:
    """The first threshold ``sample`` passes (opt-outs first: they hurt a number's quality most)."""
    if sample.settled < protection.min_sample or sample.settled == 0:
        return None
    checks = (
        ("optout_rate", "opt-out", sample.opted_out, protection.max_optout_rate),
        ("failure_rate", "failure", sample.failed, protection.max_failure_rate),
    )
    for code, label, count, limit in checks:
        if limit is not None and count / sample.settled > limit:
            return Trip(
                code,
                f"{label} rate {count / sample.settled:.0%} ({count} of the last {sample.settled} messages) "
                f"passed the {limit:.0%} limit",
            )
    return None


# ---------------------------------------------------------------- what a campaign is asked to be


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """A validated request to create a campaign (the CSV itself is read separately)."""

    name: str | None
    template: str
    language: str | None
    channel: str | None
    start_at: datetime | None
    window: object
    timezone: str | None
    max_in_flight: int
    protection: Protection


SPEC_FIELDS = (
    "name",
    "template",
    "language",
    "channel",
    "start_at",
    "window",
    "timezone",
    "max_in_flight",
    "protection",
    "csv",
    "rows",
)


def _optional_text(data: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(f"{key} must be a string of at most {limit} characters", field=key)
    return value.strip()


def parse_time(value: object, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError("a time is ISO 8601 with a zone, e.g. 2026-03-01T10:00:00+03:00", field=field)
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError("a time is ISO 8601 with a zone, e.g. 2026-03-01T10:00:00+03:00", field=field) from exc
    if when.tzinfo is None:
        raise ValidationError("the time needs a zone (e.g. Z or +03:00)", field=field)
    return when.astimezone(UTC)


def validate_spec(data: Mapping[str, Any]) -> CampaignSpec:
    """The settings of ``POST /v1/campaigns`` (from JSON or from multipart form fields)."""
    for key in data:
        if key not in SPEC_FIELDS and key != "file":
            raise ValidationError(f"unknown field {key!r}", field=key)
    template = data.get("template")
    if isinstance(template, Mapping):  # {"name", "language"} like a message's template
        data = {**data, "template": template.get("name"), "language": data.get("language") or template.get("language")}
        template = data["template"]
    if not isinstance(template, str) or not template.strip():
        raise ValidationError("template (the template's name) is required", field="template", code="required")
    max_in_flight = data.get("max_in_flight", DEFAULT_MAX_IN_FLIGHT)
    if isinstance(max_in_flight, str) and max_in_flight.strip().isdigit():
        max_in_flight = int(max_in_flight)
    timezone = data.get("timezone")
    return CampaignSpec(
        name=_optional_text(data, "name", MAX_NAME),
        template=template.strip(),
        language=_optional_text(data, "language", 16),
        channel=_optional_text(data, "channel", 64),
        start_at=parse_time(data.get("start_at"), "start_at"),
        window=data.get("window"),
        timezone=validate_timezone(timezone) if timezone not in (None, "") else None,
        max_in_flight=_int_in(max_in_flight, 1, MAX_IN_FLIGHT_LIMIT, "max_in_flight"),
        protection=Protection.of(data.get("protection")),
    )


def resolve_timezone(spec_timezone: str | None, tenant_settings: Mapping[str, Any]) -> str:
    """The campaign's zone: its own, else the tenant's (``PATCH /v1/policy``), else UTC. Stored with
    the campaign, so it never shifts later."""
    for candidate in (spec_timezone, tenant_timezone(tenant_settings)):
        if isinstance(candidate, str) and candidate:
            return validate_timezone(candidate)
    return "UTC"


# ---------------------------------------------------------------- the dry-run report


@dataclass(slots=True)
class Bucket:
    count: int = 0
    lines: list[int] = field(default_factory=list)

    def add(self, line: int) -> None:
        self.count += 1
        if len(self.lines) < REPORT_LINES:
            self.lines.append(line)

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "lines": list(self.lines), "truncated": self.count > len(self.lines)}


@dataclass(slots=True)
class DryRun:
    """What a campaign would do if started now, built row by row as the file is read.

    ``valid`` recipients are stored and will be judged again when their turn comes;
    ``sendable`` is how many of them the policy would let through right now.
    """

    rows: int = 0
    valid: int = 0
    sendable: int = 0
    invalid_phone: Bucket = field(default_factory=Bucket)
    duplicate: Bucket = field(default_factory=Bucket)
    invalid_params: Bucket = field(default_factory=Bucket)
    no_consent: Bucket = field(default_factory=Bucket)
    opted_out: Bucket = field(default_factory=Bucket)
    refused: dict[str, Bucket] = field(default_factory=dict)

    def refuse(self, code: str, line: int) -> None:
        self.refused.setdefault(code, Bucket()).add(line)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "sendable": self.sendable,
            "invalid_phone": self.invalid_phone.as_json(),
            "duplicate": self.duplicate.as_json(),
            "invalid_params": self.invalid_params.as_json(),
            "no_consent": self.no_consent.as_json(),
            "opted_out": self.opted_out.as_json(),
            "refused": {code: bucket.as_json() for code, bucket in sorted(self.refused.items())},
        }


# ---------------------------------------------------------------- live statistics

SENT_OR_BEYOND = ("sent", "delivered", "read")
IN_QUEUE = ("queued", "sending")
FAILED_STATUSES = ("failed", "expired", "unknown")


@dataclass(frozen=True, slots=True)
class StatsRow:
    """One group of the statistics query: recipients in one state whose message has one status."""

    state: str
    status: str | None
    error_code: str | None
    count: int
    replied: int
    opted_out: int


def build_stats(rows: list[StatsRow]) -> dict[str, Any]:
    """The live numbers of a campaign (docs/campaigns.md, "Live statistics").

    ``sent``, ``delivered`` and ``read`` are cumulative (a read message was also delivered and
    sent); conversions are shares of the messages sent.
    """
    by_state: dict[str, int] = {}
    refused: dict[str, int] = {}
    failed: dict[str, int] = {}
    queued = sent = delivered = read = replied = opted_out = 0
    for row in rows:
        by_state[row.state] = by_state.get(row.state, 0) + row.count
        if row.state == REFUSED:
            refused[row.error_code or "refused"] = refused.get(row.error_code or "refused", 0) + row.count
        if row.state != ENQUEUED:
            continue
        if row.status in IN_QUEUE:
            queued += row.count
        elif row.status in SENT_OR_BEYOND:
            # Replies and opt-outs count only after a message that left: nothing else can have caused them.
            replied += row.replied
            opted_out += row.opted_out
            sent += row.count
            if row.status in ("delivered", "read"):
                delivered += row.count
            if row.status == "read":
                read += row.count
        elif row.status in FAILED_STATUSES:
            reason = row.error_code or row.status
            failed[reason] = failed.get(reason, 0) + row.count

    def share(part: int) -> float | None:
        return round(part / sent, 4) if sent else None

    return {
        "recipients": sum(by_state.get(s, 0) for s in (PENDING, ENQUEUED, REFUSED)),
        "pending": by_state.get(PENDING, 0),
        "enqueued": by_state.get(ENQUEUED, 0),
        "refused": {"count": sum(refused.values()), "by_reason": dict(sorted(refused.items()))},
        "queued": queued,
        "sent": sent,
        "delivered": delivered,
        "read": read,
        "failed": {"count": sum(failed.values()), "by_reason": dict(sorted(failed.items()))},
        "replied": replied,
        "opted_out": opted_out,
        "conversion": {"delivered": share(delivered), "read": share(read), "replied": share(replied)},
    }
