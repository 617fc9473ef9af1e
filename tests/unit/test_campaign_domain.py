"""Campaign rules without I/O: states, the sending window, ban protection, settings, statistics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wagate.domain.campaigns import (
    Protection,
    Sample,
    SendingWindow,
    StatsRow,
    build_stats,
    check_protection,
    resolve_timezone,
    transition,
    validate_spec,
)
from wagate.errors import ConflictError, ValidationError


@pytest.mark.parametrize(
    ("state", "action", "target"),
    [
        ("draft", "start", "running"),
        ("running", "pause", "paused"),
        ("paused", "resume", "running"),
        ("draft", "cancel", "cancelled"),
        ("running", "cancel", "cancelled"),
        ("paused", "cancel", "cancelled"),
    ],
)
def test_allowed_transitions(state: str, action: str, target: str) -> None:
    assert transition(state, action) == target


@pytest.mark.parametrize(
    ("state", "action"),
    [("running", "start"), ("completed", "resume"), ("cancelled", "cancel"), ("draft", "pause"), ("paused", "start")],
)
def test_refused_transitions_are_conflicts(state: str, action: str) -> None:
    with pytest.raises(ConflictError):
        transition(state, action)


def moscow(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour - 3, minute, tzinfo=UTC)  # Moscow is UTC+3 all year


@pytest.mark.parametrize(
    ("hour", "minute", "is_open"),
    [(9, 59, False), (10, 0, True), (15, 30, True), (19, 59, True), (20, 0, False), (23, 0, False)],
)
def test_window_is_open_from_start_until_before_end(hour: int, minute: int, is_open: bool) -> None:
    window = SendingWindow.parse("10:00-20:00", "Europe/Moscow")
    assert window is not None
    assert window.is_open(moscow(hour, minute)) is is_open


def test_window_across_midnight() -> None:
    window = SendingWindow.parse({"start": "22:00", "end": "06:00"}, "Europe/Moscow")
    assert window is not None
    assert [window.is_open(moscow(h)) for h in (21, 22, 5, 6)] == [False, True, True, False]


def test_next_opening_is_today_or_tomorrow() -> None:
    window = SendingWindow.parse("10:00–20:00", "Europe/Moscow")
    assert window is not None
    assert window.next_open(moscow(8)) == moscow(10)
    assert window.next_open(moscow(21)) == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    assert window.next_open(moscow(12)) == moscow(12)


@pytest.mark.parametrize("value", ["10-20", "10:00", "25:00-26:00", "10:00-10:00", 5])
def test_bad_windows_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        SendingWindow.parse(value, "UTC")


def test_no_window_means_any_time() -> None:
    assert SendingWindow.parse(None, "UTC") is None
    assert SendingWindow.parse("", "UTC") is None


def test_protection_waits_for_its_minimum_sample() -> None:
    protection = Protection(min_sample=20)
    assert check_protection(protection, Sample(settled=19, failed=19, opted_out=0)) is None


def test_protection_trips_on_opt_outs_first() -> None:
    trip = check_protection(Protection(), Sample(settled=100, failed=30, opted_out=6))
    assert trip is not None
    assert trip.code == "optout_rate"
    assert trip.reason == "opt-out rate 6% (6 of the last 100 messages) passed the 5% limit"


def test_protection_trips_on_failures() -> None:
    trip = check_protection(Protection(), Sample(settled=40, failed=11, opted_out=0))
    assert trip is not None and trip.code == "failure_rate"


def test_a_rate_at_the_limit_does_not_trip_and_a_null_limit_is_off() -> None:
    assert check_protection(Protection(), Sample(settled=100, failed=25, opted_out=5)) is None
    off = Protection(max_optout_rate=None, max_failure_rate=None)
    assert check_protection(off, Sample(settled=100, failed=100, opted_out=100)) is None


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"window": 2}, "protection.window"),
        ({"window": 10, "min_sample": 11}, "protection.min_sample"),
        ({"max_optout_rate": 0}, "protection.max_optout_rate"),
        ({"max_failure_rate": 1.5}, "protection.max_failure_rate"),
        ({"speed": 1}, "protection.speed"),
        ("fast", "protection"),
    ],
)
def test_bad_protection_names_its_field(value: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        Protection.of(value)
    assert error.value.field == field


def test_spec_accepts_form_strings_and_a_template_object() -> None:
    spec = validate_spec(
        {"template": {"name": "notice", "language": "ru"}, "max_in_flight": "20", "start_at": "2026-01-01T10:00:00Z"}
    )
    assert (spec.template, spec.language, spec.max_in_flight) == ("notice", "ru", 20)
    assert spec.start_at == datetime(2026, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "template"),
        ({"template": "x", "start_at": "2026-01-01T10:00:00"}, "start_at"),
        ({"template": "x", "start_at": "tomorrow"}, "start_at"),
        ({"template": "x", "max_in_flight": 5000}, "max_in_flight"),
        ({"template": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_specs_name_their_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_spec(data)
    assert error.value.field == field


def test_the_zone_is_the_campaigns_then_the_tenants_then_utc() -> None:
    settings = {"policy": {"timezone": "Asia/Vladivostok"}}
    assert resolve_timezone("Europe/Berlin", settings) == "Europe/Berlin"
    assert resolve_timezone(None, settings) == "Asia/Vladivostok"
    assert resolve_timezone(None, {"policy": {}}) == "UTC"
    assert resolve_timezone(None, {}) == "UTC"


def test_stats_are_cumulative_and_replies_count_only_after_a_send() -> None:
    stats = build_stats(
        [
            StatsRow("pending", None, None, 4, 0, 0),
            StatsRow("refused", None, "opted_out", 2, 0, 0),
            StatsRow("enqueued", "queued", None, 3, 1, 1),
            StatsRow("enqueued", "sent", None, 5, 0, 0),
            StatsRow("enqueued", "delivered", None, 3, 1, 0),
            StatsRow("enqueued", "read", None, 2, 1, 1),
            StatsRow("enqueued", "failed", "not_on_whatsapp", 1, 1, 0),
            StatsRow("invalid", None, "invalid_phone", 9, 0, 0),
        ]
    )
    assert (stats["recipients"], stats["pending"], stats["queued"]) == (20, 4, 3)
    assert (stats["sent"], stats["delivered"], stats["read"]) == (10, 5, 2)
    assert stats["failed"] == {"count": 1, "by_reason": {"not_on_whatsapp": 1}}
    assert stats["refused"] == {"count": 2, "by_reason": {"opted_out": 2}}
    assert (stats["replied"], stats["opted_out"]) == (2, 1)
    assert stats["conversion"] == {"delivered": 0.5, "read": 0.2, "replied": 0.2}
