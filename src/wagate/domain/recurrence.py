"""When a recurring campaign runs: "every N days at HH:MM" or a cron expression, in a time zone, until a date.

Pure Python over ``zoneinfo``; ``next_after(moment)`` is the whole contract. Times are wall-clock
in the schedule's zone (a 10:00 run stays at 10:00 across a daylight-saving change; a time that
does not exist that day resolves forward, as ``zoneinfo`` does).

Cron: five fields ``minute hour day-of-month month day-of-week`` with ``*``, numbers, lists
(``1,15``), ranges (``1-5``) and steps (``*/15``, ``8-18/2``); day of week 0–6 from Sunday (7 is
Sunday too). As in cron, when both day fields are restricted a day matching either runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wagate.errors import ValidationError

#: How far ahead a cron expression is searched (a 29 February schedule still finds its day).
HORIZON_DAYS = 366 * 4 + 1
MAX_EVERY_DAYS = 366

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))


def _cron_field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValidationError(f"bad step in the {name} field", field="cron")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, _, last = part.partition("-")
            if not (first.isdigit() and last.isdigit()):
                raise ValidationError(f"bad range in the {name} field", field="cron")
            start, end = int(first), int(last)
        elif part.isdigit():
            start = end = int(part)
            if step != 1:
                end = high
        else:
            raise ValidationError(f"bad value {part!r} in the {name} field", field="cron")
        if not (low <= start <= end <= high):
            raise ValidationError(f"the {name} field takes {low}–{high}", field="cron")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: object) -> Cron:
        if not isinstance(text, str) or len(text) > 100 or len(text.split()) != 5:
            raise ValidationError("cron is five fields: minute hour day month weekday", field="cron")
        parts = text.split()
        sets = [_cron_field(p, name, low, high) for p, (name, low, high) in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        return cls(" ".join(parts), sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")

    def runs_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday


@dataclass(frozen=True, slots=True)
class Recurrence:
    timezone: str
    starts_on: date
    until: date | None = None
    every_days: int | None = None
    at: time | None = None
    cron: Cron | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def parse(cls, body: object, *, default_timezone: str, today: date) -> Recurrence:
        """``{"every_days": 7, "at": "10:00"}`` or ``{"cron": "0 10 * * 1-5"}``, with ``timezone``, ``until``."""
        if not isinstance(body, Mapping):
            raise ValidationError("recurrence is an object", field="recurrence")
        unknown = sorted(set(body) - {"every_days", "at", "cron", "timezone", "until", "starts_on"})
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
        zone = body.get("timezone") or default_timezone
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"unknown time zone {zone!r}", field="timezone") from exc
        until = _date(body.get("until"), "until") if body.get("until") is not None else None
        starts_on = _date(body.get("starts_on"), "starts_on") if body.get("starts_on") is not None else today
        if until is not None and until < starts_on:
            raise ValidationError("until is before the first run", field="until")
        if body.get("cron") is not None:
            if body.get("every_days") is not None or body.get("at") is not None:
                raise ValidationError("give either cron, or every_days with at", field="cron")
            return cls(str(zone), starts_on, until, cron=Cron.parse(body["cron"]))
        every = body.get("every_days")
        if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= MAX_EVERY_DAYS:
            raise ValidationError(f"every_days is 1 to {MAX_EVERY_DAYS} (or give cron)", field="every_days")
        at = body.get("at")
        try:
            moment = time.fromisoformat(at) if isinstance(at, str) and len(at) == 5 else None
        except ValueError:
            moment = None
        if moment is None:
            raise ValidationError("at is HH:MM", field="at")
        return cls(str(zone), starts_on, until, every_days=every, at=moment)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"timezone": self.timezone, "starts_on": self.starts_on.isoformat()}
        out["until"] = self.until.isoformat() if self.until else None
        if self.cron is not None:
            out["cron"] = self.cron.text
        else:
            assert self.at is not None
            out.update(every_days=self.every_days, at=self.at.strftime("%H:%M"))
        return out

    def _local(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment).replace(tzinfo=self.zone)

    def next_after(self, after: datetime) -> datetime | None:
        """The first run strictly after ``after`` (aware, in the schedule's zone), or ``None`` once ended."""
        local = after.astimezone(self.zone)
        first_day = max(local.date(), self.starts_on)
        found = self._next_cron(local, first_day) if self.cron is not None else self._next_every(local, first_day)
        if found is None or (self.until is not None and found.date() > self.until):
            return None
        return found

    def _next_every(self, local: datetime, first_day: date) -> datetime | None:
        assert self.every_days is not None and self.at is not None
        offset = (first_day - self.starts_on).days
        day = self.starts_on + timedelta(days=-(-offset // self.every_days) * self.every_days)
        candidate = self._local(day, self.at)
        if candidate <= local:
            candidate = self._local(day + timedelta(days=self.every_days), self.at)
        return candidate

    def _next_cron(self, local: datetime, first_day: date) -> datetime | None:
        cron = self.cron
        assert cron is not None
        for offset in range(HORIZON_DAYS):
            day = first_day + timedelta(days=offset)
            if self.until is not None and day > self.until:
                return None
            if not cron.runs_on(day):
                continue
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    candidate = self._local(day, time(hour, minute))
                    if candidate > local:
                        return candidate
        return None


def _date(value: object, field: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError("a date YYYY-MM-DD", field=field)
