"""Working hours: open and closed across breaks, midnight, holidays, time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from wagate.domain.working_hours import WorkingHours
from wagate.errors import ValidationError

MSK = ZoneInfo("Europe/Moscow")
HOURS = WorkingHours.parse(
    {
        "timezone": "Europe/Moscow",
        "week": {d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        | {"sat": [["10:00", "15:00"]]},
        "holidays": ["2027-01-01", "2027-01-04"],
    }
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MSK)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2027-01-13 08:59", False),
        ("2027-01-13 09:00", True),
        ("2027-01-13 13:30", False),  # the lunch break
        ("2027-01-13 14:00", True),
        ("2027-01-13 18:00", False),
        ("2027-01-16 12:00", True),  # Saturday
        ("2027-01-17 12:00", False),  # Sunday
        ("2027-01-04 10:00", False),  # a Monday that is a holiday
    ],
)
def test_open_or_closed(moment: str, is_open: bool) -> None:
    assert HOURS.is_open(at(moment)) is is_open


def test_the_zone_is_the_tenants_not_utc() -> None:
    # 06:30 UTC is 09:30 in Moscow.
    assert HOURS.is_open(datetime(2027, 1, 13, 6, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("moment", "back"),
    [
        ("2027-01-13 23:10", "2027-01-14 09:00"),  # across midnight
        ("2027-01-14 00:30", "2027-01-14 09:00"),  # after midnight, the same morning
        ("2027-01-13 13:10", "2027-01-13 14:00"),  # lunch
        ("2027-01-15 19:00", "2027-01-16 10:00"),  # Friday evening → Saturday
        ("2027-01-16 16:00", "2027-01-18 09:00"),  # Saturday afternoon → Monday
        ("2026-12-31 19:00", "2027-01-02 10:00"),  # New Year's day is a holiday (a Friday)
        ("2027-01-03 12:00", "2027-01-05 09:00"),  # Sunday, then a holiday Monday
    ],
)
def test_next_open(moment: str, back: str) -> None:
    assert HOURS.next_open(at(moment)) == at(back)


def test_next_open_while_open_is_now() -> None:
    assert HOURS.next_open(at("2027-01-13 10:00")) == at("2027-01-13 10:00")


def test_a_day_ending_at_midnight() -> None:
    hours = WorkingHours.parse({"timezone": "UTC", "week": {"mon": [["20:00", "24:00"]]}})
    assert hours.is_open(datetime(2027, 1, 11, 23, 59, tzinfo=UTC))
    assert not hours.is_open(datetime(2027, 1, 12, 0, 0, tzinfo=UTC))


def test_opening_keeps_wall_clock_across_dst() -> None:
    hours = WorkingHours.parse({"timezone": "Europe/Berlin", "week": {"mon": [["09:00", "17:00"]]}})
    # Saturday before the spring change (28 March 2027): the next opening is Monday 09:00 CEST.
    back = hours.next_open(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    assert back is not None and back.strftime("%H:%M") == "09:00" and back.utcoffset() is not None
    assert back.astimezone(UTC).hour == 7


def test_no_schedule_is_always_open() -> None:
    assert WorkingHours.parse({"timezone": "UTC"}).always_open


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Base"}, "working_hours.timezone"),
        ({"week": {"mon": [["9:00", "18:00"]]}}, "working_hours.week.mon[0]"),
        ({"week": {"mon": [["18:00", "09:00"]]}}, "working_hours.week.mon[0]"),
        ({"week": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "working_hours.week.mon[1]"),
        ({"week": {"monday": []}}, "working_hours.week.monday"),
        ({"holidays": ["01.01.2027"]}, "working_hours.holidays[0]"),
        ({"weeks": {}}, "working_hours.weeks"),
    ],
)
def test_validation_names_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WorkingHours.parse(body)
    assert caught.value.field == field
