"""Response-time analytics on tricky threads (``wagate.domain.analytics``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from wagate.domain.analytics import (
    AnalyticsSettings,
    Prior,
    Thread,
    ThreadMessage,
    analyze,
    median,
    p90,
    parse_working_hours,
    prior_of,
    validate_settings,
)
from wagate.errors import ValidationError

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 15, tzinfo=UTC)
NOW = UNTIL


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def client(seconds: float, type: str = "text") -> ThreadMessage:
    return ThreadMessage(at=at(seconds), inbound=True, type=type)


def op(seconds: float, who: str | None, status: str = "sent") -> ThreadMessage:
    return ThreadMessage(at=at(seconds), inbound=False, operator=who, status=status)


def report(
    *threads: Thread, settings: AnalyticsSettings | None = None, since: datetime = SINCE, until: datetime = UNTIL
):  # type: ignore[no-untyped-def]
    return analyze(threads, since, until, settings or AnalyticsSettings(), NOW)


def thread(*messages: ThreadMessage, key: str = "1:79001234567", **kwargs: object) -> Thread:
    return Thread(key=key, messages=list(messages), **kwargs)  # type: ignore[arg-type]


def test_several_client_messages_before_a_reply_count_from_the_first() -> None:
    r = report(thread(client(0), client(60), client(120), op(300, "anna")))
    anna = r.operators["anna"]
    assert anna.responses == 1
    assert anna.response_median_s == 300
    assert r.team.client_messages == 3


def test_the_first_reply_is_the_response_a_second_operator_answers_nothing() -> None:
    r = report(thread(client(0), op(100, "anna"), op(150, "boris")))
    assert r.operators["anna"].responses == 1
    assert r.operators["anna"].response_median_s == 100
    boris = r.operators["boris"]
    assert boris.responses == 0
    assert boris.response_median_s is None
    assert boris.messages == 1
    assert boris.conversations == 1


def test_replies_by_two_operators_to_two_waits_are_each_theirs() -> None:
    r = report(thread(client(0), op(100, "anna"), client(200), client(210), op(260, "boris")))
    assert r.operators["anna"].response_median_s == 100
    assert r.operators["boris"].response_median_s == 60
    assert r.team.responses == 2
    assert r.team.response_median_s == 80


def test_a_client_message_after_hours_starts_the_clock_at_the_next_opening() -> None:
    hours = parse_working_hours({"tz": "Europe/Moscow", "days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"})
    settings = AnalyticsSettings(working_hours=hours, tz=ZoneInfo("Europe/Moscow"))
    moscow = ZoneInfo("Europe/Moscow")
    friday_evening = datetime(2026, 3, 6, 20, 0, tzinfo=moscow)
    monday_morning = datetime(2026, 3, 9, 9, 5, tzinfo=moscow)
    t = Thread(
        key="1:7",
        messages=[
            ThreadMessage(at=friday_evening, inbound=True),
            ThreadMessage(at=monday_morning, inbound=False, operator="anna"),
        ],
    )
    r = report(t, settings=settings)
    assert r.operators["anna"].response_median_s == 300


def test_working_hours_count_only_the_open_part_of_each_day() -> None:
    hours = parse_working_hours({"tz": "Europe/Moscow", "days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"})
    assert hours is not None
    moscow = ZoneInfo("Europe/Moscow")
    # Monday 17:00 → Tuesday 10:00: one hour on Monday, one on Tuesday.
    a = datetime(2026, 3, 2, 17, 0, tzinfo=moscow)
    b = datetime(2026, 3, 3, 10, 0, tzinfo=moscow)
    assert hours.seconds_between(a, b) == 7200
    # Saturday to Sunday: closed all along.
    assert hours.seconds_between(datetime(2026, 3, 7, 10, tzinfo=moscow), datetime(2026, 3, 8, 17, tzinfo=moscow)) == 0


def test_working_hours_follow_daylight_saving_time() -> None:
    hours = parse_working_hours({"tz": "Europe/Berlin", "days": [7], "start": "00:00", "end": "23:59"})
    assert hours is not None
    berlin = ZoneInfo("Europe/Berlin")
    # 29 March 2026: clocks jump from 02:00 to 03:00, so that day has 23 h of wall clock.
    a = datetime(2026, 3, 29, 0, 0, tzinfo=berlin)
    b = datetime(2026, 3, 29, 23, 59, tzinfo=berlin)
    assert hours.seconds_between(a, b) == (23 * 60 - 1) * 60


def test_a_reply_to_a_wait_that_began_before_the_period_counts_from_then() -> None:
    prior = Prior(
        pending_since=T0 - timedelta(hours=1), pending_opens_dialogue=True, last_activity=T0 - timedelta(hours=1)
    )
    r = report(thread(op(600, "anna"), prior=prior), since=T0)
    anna = r.operators["anna"]
    assert anna.response_median_s == 3600 + 600
    assert anna.first_responses == 1


def test_a_response_belongs_to_the_period_of_the_reply() -> None:
    t = thread(client(0), op(3600, "anna"))
    before_reply = report(t, since=SINCE, until=at(1800))
    assert "anna" not in before_reply.operators or before_reply.operators["anna"].responses == 0
    after = report(t, since=at(1800), until=UNTIL)
    assert after.operators["anna"].responses == 1


def test_first_response_answers_a_message_that_opens_a_dialogue() -> None:
    day = 24 * 3600
    r = report(
        thread(
            client(0),
            op(300, "anna"),  # first response: 300
            client(600),
            op(1200, "anna"),  # same dialogue: 600, not a first response
            client(2 * day),
            op(2 * day + 60, "anna"),  # after a day of silence: a new dialogue, 60
        )
    )
    anna = r.operators["anna"]
    assert anna.responses == 3
    assert anna.first_responses == 2
    assert anna.first_response_median_s == 180


def test_a_failed_reply_does_not_stop_the_clock() -> None:
    r = report(thread(client(0), op(60, "anna", status="failed"), op(120, "anna")))
    anna = r.operators["anna"]
    assert anna.response_median_s == 120
    assert anna.messages == 2


def test_automated_messages_and_reactions_are_neither_replies_nor_client_messages() -> None:
    r = report(thread(client(0), op(30, None), client(40, type="reaction"), op(100, "anna")))
    assert r.operators["anna"].response_median_s == 100
    assert r.team.client_messages == 1
    assert set(r.operators) == {"anna"}


def test_sla_share_is_the_part_of_responses_within_the_sla() -> None:
    settings = AnalyticsSettings(sla=timedelta(minutes=15))
    r = report(
        thread(client(0), op(100, "anna"), key="a"),
        thread(client(0), op(1000, "anna"), key="b"),
        settings=settings,
    )
    anna = r.operators["anna"]
    assert anna.within_sla == 1
    assert anna.sla_share == 0.5


def test_left_unanswered_counts_for_the_assignee_or_for_nobody() -> None:
    r = report(
        thread(client(0), key="a", assignee="anna"),
        thread(client(0), key="b"),
        thread(client(0), op(10, "anna"), key="c", assignee="anna"),
    )
    assert r.operators["anna"].unanswered == 1
    assert r.unassigned_unanswered == 1
    assert r.team.unanswered == 2


def test_a_client_who_wrote_before_the_period_is_not_unanswered_in_it() -> None:
    prior = Prior(pending_since=T0 - timedelta(days=3), pending_opens_dialogue=True, last_activity=None)
    r = report(thread(prior=prior, assignee="anna"), since=T0)
    assert r.team.unanswered == 0


def test_a_reply_after_the_period_leaves_the_period_unanswered() -> None:
    r = report(thread(client(0), key="a", assignee="anna"), since=SINCE, until=at(60))
    assert r.operators["anna"].unanswered == 1


def test_days_are_counted_in_the_tenant_zone() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    settings = AnalyticsSettings(tz=moscow)
    late = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # 01:00 on 3 March in Moscow
    t = Thread(
        key="x",
        messages=[
            ThreadMessage(at=late, inbound=True),
            ThreadMessage(at=late + timedelta(minutes=5), inbound=False, operator="anna"),
        ],
    )
    r = report(t, settings=settings)
    assert r.operators_daily["anna"][date(2026, 3, 3)].responses == 1
    assert r.operators_daily["anna"][date(2026, 3, 2)].responses == 0


def test_median_and_nearest_rank_p90() -> None:
    values = [float(v) for v in range(1, 11)]
    assert median(values) == 5.5
    assert p90(values) == 9
    assert p90([42.0]) == 42
    assert median([]) is None
    assert p90([]) is None


def test_prior_of_condenses_the_history_before_the_period() -> None:
    gap = timedelta(hours=24)
    reply = T0 - timedelta(hours=5)
    first = T0 - timedelta(hours=2)
    last = T0 - timedelta(hours=1)
    prior = prior_of(reply, first, last, gap)
    assert prior == Prior(first, False, last)
    assert prior_of(None, first, last, gap).pending_opens_dialogue
    assert prior_of(reply, None, None, gap) == Prior(None, False, reply)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"tz": "Mars/Olympus", "start": "09:00", "end": "18:00"}, "working_hours.tz"),
        ({"tz": "UTC", "start": "9", "end": "18:00"}, "working_hours.start"),
        ({"tz": "UTC", "start": "18:00", "end": "09:00"}, "working_hours.end"),
        ({"tz": "UTC", "days": [0], "start": "09:00", "end": "18:00"}, "working_hours.days"),
        ({"tz": "UTC", "start": "09:00", "end": "18:00", "lunch": "13:00"}, "working_hours.lunch"),
    ],
)
def test_bad_working_hours_name_the_field(value: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_working_hours(value)
    assert info.value.field == field


def test_settings_patch_is_checked_and_merged() -> None:
    merged = validate_settings({"sla_minutes": 15}, {"working_hours": {"tz": "UTC", "start": "08:00", "end": "17:00"}})
    assert merged["sla_minutes"] == 15
    assert merged["working_hours"]["days"] == [1, 2, 3, 4, 5]
    with pytest.raises(ValidationError):
        validate_settings({}, {"sla_minutes": 0})
    assert AnalyticsSettings.of(merged).working_hours is not None
