"""Working hours: a week schedule with breaks, holidays and a time zone; open or closed at an instant.

Pure Python over ``zoneinfo``: the caller passes ``now`` (from the injected clock), so every
rule is testable at any instant — midnight, a holiday, a daylight-saving change.

A day is a list of ``[start, end]`` intervals in local time (``"09:00"``, ``"13:00"``); a break is
the gap between two intervals. ``"24:00"`` ends a day at midnight. A holiday (a local date) is
closed all day whatever its weekday says.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wagate.errors import ValidationError

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_HOLIDAYS = 400
#: How far ahead ``next_open`` looks; a schedule closed for longer is "closed until further notice".
HORIZON_DAYS = 400

Interval = tuple[int, int]  # minutes since local midnight, end exclusive, end <= 1440


def _minutes(value: object, field: str) -> int:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValidationError("a time is written HH:MM, e.g. 09:00", field=field)
    try:
        hours, minutes = int(value[:2]), int(value[3:])
    except ValueError as exc:
        raise ValidationError("a time is written HH:MM, e.g. 09:00", field=field) from exc
    if not (0 <= minutes < 60 and (0 <= hours < 24 or (hours == 24 and minutes == 0))):
        raise ValidationError(f"{value!r} is not a time of day", field=field)
    return hours * 60 + minutes


def _date(value: object, field: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError("a holiday is a date YYYY-MM-DD", field=field)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class WorkingHours:
    timezone: str = "UTC"
    #: Weekday (0 = Monday) → sorted, non-overlapping intervals.
    week: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def parse(cls, body: object, field: str = "working_hours") -> WorkingHours:
        """Validate the API shape ``{"timezone", "week": {"mon": [["09:00","18:00"]], …}, "holidays"}``."""
        if not isinstance(body, Mapping):
            raise ValidationError("working_hours must be an object", field=field)
        unknown = set(body) - {"timezone", "week", "holidays"}
        if unknown:
            raise ValidationError(f"unknown field {sorted(unknown)[0]!r}", field=f"{field}.{sorted(unknown)[0]}")
        zone = body.get("timezone", "UTC")
        if not isinstance(zone, str) or not zone:
            raise ValidationError("timezone must be an IANA name such as Europe/Moscow", field=f"{field}.timezone")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"unknown time zone {zone!r}", field=f"{field}.timezone") from exc
        week_body = body.get("week") or {}
        if not isinstance(week_body, Mapping):
            raise ValidationError("week must map mon…sun to lists of [start, end]", field=f"{field}.week")
        week: dict[int, tuple[Interval, ...]] = {}
        for name, intervals in week_body.items():
            where = f"{field}.week.{name}"
            if name not in DAYS:
                raise ValidationError(f"unknown day {name!r}; days are {', '.join(DAYS)}", field=where)
            if not isinstance(intervals, list):
                raise ValidationError("a day is a list of [start, end] pairs", field=where)
            parsed: list[Interval] = []
            for index, pair in enumerate(intervals):
                spot = f"{where}[{index}]"
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValidationError("an interval is a pair [start, end]", field=spot)
                start, end = _minutes(pair[0], spot), _minutes(pair[1], spot)
                if start >= end:
                    raise ValidationError("an interval ends after it starts", field=spot)
                parsed.append((start, end))
            parsed.sort()
            for index, (previous, current) in enumerate(itertools.pairwise(parsed)):
                if current[0] < previous[1]:
                    raise ValidationError("intervals of a day overlap", field=f"{where}[{index + 1}]")
            week[DAYS.index(name)] = tuple(parsed)
        holidays_body = body.get("holidays") or []
        if not isinstance(holidays_body, list) or len(holidays_body) > MAX_HOLIDAYS:
            raise ValidationError(f"holidays is a list of at most {MAX_HOLIDAYS} dates", field=f"{field}.holidays")
        holidays: set[date] = set()
        for index, value in enumerate(holidays_body):
            holidays.add(_date(value, f"{field}.holidays[{index}]"))
        return cls(timezone=zone, week=week, holidays=frozenset(holidays))

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "week": {
                DAYS[day]: [[_clock(a), _clock(b)] for a, b in intervals]
                for day, intervals in sorted(self.week.items())
            },
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    def _intervals(self, day: date) -> tuple[Interval, ...]:
        if day in self.holidays:
            return ()
        return self.week.get(day.weekday(), ())

    def _at(self, day: date, minutes: int) -> datetime:
        """The aware local instant ``minutes`` after midnight of ``day`` (DST gaps resolve forward)."""
        # Wall-clock arithmetic on a naive value, then the zone: 09:00 stays 09:00 across a DST change.
        return (datetime.combine(day, time(0)) + timedelta(minutes=minutes)).replace(tzinfo=self.zone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(a <= minute < b for a, b in self._intervals(local.date()))

    def next_open(self, now: datetime) -> datetime | None:
        """When the team is next at work after ``now`` (``now`` itself if open); ``None`` beyond the horizon."""
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        day = local.date()
        for offset in range(HORIZON_DAYS):
            current = day + timedelta(days=offset)
            for start, end in self._intervals(current):
                if offset == 0 and minute >= end:
                    continue
                if offset == 0 and start <= minute:
                    return now
                return self._at(current, start)
        return None

    @property
    def always_open(self) -> bool:
        """No schedule at all means no working hours are set: never "closed"."""
        return not self.week and not self.holidays
