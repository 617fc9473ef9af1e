"""Recurring campaign schedules: every N days at HH:MM and cron, in the tenant's zone, until a date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from wagate.domain.recurrence import Recurrence
from wagate.errors import ValidationError

MSK = ZoneInfo("Europe/Moscow")
TODAY = date(2027, 1, 13)  # a Wednesday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MSK)


def parse(body: dict[str, object]) -> Recurrence:
    return Recurrence.parse(body, default_timezone="Europe/Moscow", today=TODAY)


def test_every_n_days_at_a_time() -> None:
    rule = parse({"every_days": 3, "at": "10:00"})
    assert rule.next_after(at("2027-01-13 09:00")) == at("2027-01-13 10:00")
    assert rule.next_after(at("2027-01-13 10:00")) == at("2027-01-16 10:00")
    assert rule.next_after(at("2027-01-17 12:00")) == at("2027-01-19 10:00")


def test_the_end_date_stops_the_runs() -> None:
    rule = parse({"every_days": 7, "at": "10:00", "until": "2027-01-25"})
    assert rule.next_after(at("2027-01-13 11:00")) == at("2027-01-20 10:00")
    assert rule.next_after(at("2027-01-20 11:00")) is None


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("0 10 * * 1-5", "2027-01-15 11:00", "2027-01-18 10:00"),  # Friday after the run → Monday
        ("*/15 9-18 * * *", "2027-01-13 09:07", "2027-01-13 09:15"),
        ("30 8 1 * *", "2027-01-13 00:00", "2027-02-01 08:30"),
        ("0 12 13 * 5", "2027-01-13 13:00", "2027-01-15 12:00"),  # both day fields: either matches
        ("0 9 29 2 *", "2027-03-01 00:00", "2028-02-29 09:00"),
        ("0 10 * * 0", "2027-01-13 00:00", "2027-01-17 10:00"),  # Sunday is 0 …
        ("0 10 * * 7", "2027-01-13 00:00", "2027-01-17 10:00"),  # … and 7
    ],
)
def test_cron(cron: str, after: str, expected: str) -> None:
    assert parse({"cron": cron}).next_after(at(after)) == at(expected)


def test_wall_clock_across_daylight_saving() -> None:
    rule = Recurrence.parse({"every_days": 1, "at": "10:00"}, default_timezone="Europe/Berlin", today=date(2027, 3, 27))
    run = rule.next_after(datetime(2027, 3, 28, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    assert run is not None and run.hour == 10 and run.utcoffset() is not None
    assert run.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"every_days": 0, "at": "10:00"}, "every_days"),
        ({"every_days": 2, "at": "25:00"}, "at"),
        ({"cron": "0 10 * *"}, "cron"),
        ({"cron": "61 10 * * *"}, "cron"),
        ({"cron": "0 10 * * *", "every_days": 1}, "cron"),
        ({"every_days": 1, "at": "10:00", "until": "2026-12-31"}, "until"),
        ({"every_days": 1, "at": "10:00", "timezone": "Nowhere/City"}, "timezone"),
        ({"every_days": 1, "at": "10:00", "weekly": True}, "weekly"),
    ],
)
def test_validation_names_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(body)
    assert caught.value.field == field
