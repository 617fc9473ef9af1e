"""Why a queued message waits: the pacing rules read back for one message (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wagate.domain.pacing import DayFacts, PacingRules, PacingState
from wagate.domain.waits import MessageFacts, why_waiting

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RULES = PacingRules(per_second=1.0, recipient_interval_s=6.0)


def due_now(**changes: object) -> MessageFacts:
    values: dict[str, object] = {"due_at": NOW, "attempts": 0, "last_sent_to_phone": None, "new_contact": False}
    values.update(changes)
    return MessageFacts(**values)  # type: ignore[arg-type]


def test_a_message_that_may_go_now_has_no_wait() -> None:
    assert why_waiting(RULES, PacingState(), DayFacts(), due_now(), NOW) is None


def test_a_second_message_to_one_number_waits_for_recipient_spacing() -> None:
    wait = why_waiting(RULES, PacingState(), DayFacts(), due_now(last_sent_to_phone=NOW - timedelta(seconds=2)), NOW)
    assert wait is not None
    assert wait.reason == "recipient_spacing"
    assert wait.until == NOW + timedelta(seconds=4)
    assert "6 s" in wait.message


def test_the_daily_cap_holds_until_the_next_utc_day() -> None:
    rules = PacingRules(per_second=1.0, daily_cap=10)
    wait = why_waiting(rules, PacingState(), DayFacts(sent_today=10), due_now(), NOW)
    assert wait is not None and wait.reason == "daily_cap"
    assert wait.until == datetime(2026, 12, 8, tzinfo=UTC)


def test_the_rate_limit_holds_until_the_next_token() -> None:
    state = PacingState(tat=NOW + timedelta(seconds=1))
    wait = why_waiting(RULES, state, DayFacts(), due_now(), NOW)
    assert wait is not None and wait.reason == "rate_limit" and wait.until == NOW + timedelta(seconds=1)


def test_the_random_pause_between_sends_is_named() -> None:
    state = PacingState(next_at=NOW + timedelta(seconds=9))
    wait = why_waiting(RULES, state, DayFacts(), due_now(), NOW)
    assert wait is not None and wait.reason == "pause_between_sends" and wait.until == NOW + timedelta(seconds=9)


def test_a_retry_waits_for_its_backoff() -> None:
    wait = why_waiting(RULES, PacingState(), DayFacts(), due_now(due_at=NOW + timedelta(seconds=30), attempts=2), NOW)
    assert wait is not None and wait.reason == "retry_backoff" and wait.until == NOW + timedelta(seconds=30)


def test_the_new_contacts_cap_holds_new_numbers_only() -> None:
    rules = PacingRules(per_second=1.0, new_contacts_daily_cap=5)
    facts = DayFacts(new_contacts_today=5)
    held = why_waiting(rules, PacingState(), facts, due_now(new_contact=True), NOW)
    assert held is not None and held.reason == "new_contacts_cap"
    assert why_waiting(rules, PacingState(), facts, due_now(new_contact=False), NOW) is None


def test_a_paused_channel_comes_first() -> None:
    wait = why_waiting(RULES, PacingState(), DayFacts(), due_now(), NOW, channel_paused="unanswered share 95 %")
    assert wait is not None and wait.reason == "channel_paused" and "95 %" in wait.message and wait.until is None
