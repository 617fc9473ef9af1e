"""Pacing decisions (``wagate.domain.pacing``) with an injected clock and a seeded RNG."""

from __future__ import annotations

import itertools
import random
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest

from wagate.clock import FakeClock
from wagate.domain.channels import merge_pacing
from wagate.domain.pacing import (
    PROVIDER_PACING,
    UNOFFICIAL_PACING,
    Admit,
    BatchPlanner,
    Candidate,
    DayFacts,
    Defer,
    Hold,
    PacingRules,
    PacingState,
    SentRecord,
    batch_slot,
    effective_daily_cap,
    guard_trips,
    read_guard,
)
from wagate.errors import ValidationError

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run_planner(rules: PacingRules, phones: list[str], clock: FakeClock, seed: int = 7) -> list[datetime]:
    """Send ``phones`` in order, one claim at a time, sleeping until each slot; return send times."""
    state, facts, rng = PacingState(), DayFacts(), random.Random(seed)
    day = clock.now().date()
    times: list[datetime] = []
    for phone in phones:
        while True:
            if clock.now().date() != day:  # a new UTC day: today's counts start again
                day, facts = clock.now().date(), DayFacts()
            planner = BatchPlanner(rules, state, facts, clock.now(), rng)
            slot = planner.slot()
            if slot.at > clock.now():
                clock.set(slot.at)
                continue
            candidate = Candidate(message_id=len(times), phone=phone, last_sent_to_phone=times_to(times, phones, phone))
            decision = planner.consider(candidate)
            if isinstance(decision, Defer):
                clock.set(decision.until)
                continue
            planner.record(candidate)
            state, facts = planner.state, planner.facts
            times.append(clock.now())
            break
    return times


def times_to(times: list[datetime], phones: list[str], phone: str) -> datetime | None:
    sent = [t for t, p in zip(times, phones, strict=False) if p == phone]
    return sent[-1] if sent else None


def test_gaps_between_sends_stay_within_min_and_max_and_spread_across_it() -> None:
    rules = PacingRules.from_json({"warmup_daily_caps": None, "new_contacts_daily_cap": None}, UNOFFICIAL_PACING)
    clock = FakeClock(START)
    times = run_planner(rules, [f"7900000{i:04d}" for i in range(200)], clock)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(5.0 <= g <= 12.0 for g in gaps)
    # Spread, not clustered: every quarter of [5, 12] is used, and the mean sits near the middle.
    quarters = {min(3, int((g - 5.0) / 1.75)) for g in gaps}
    assert quarters == {0, 1, 2, 3}
    assert 7.5 < statistics.mean(gaps) < 9.5


def test_daily_cap_stops_sending_and_resumes_the_next_day() -> None:
    rules = PacingRules.from_json({"daily_cap": 30, "per_second": 80})
    clock = FakeClock(START)
    times = run_planner(rules, [f"7900000{i:04d}" for i in range(45)], clock)
    first_day = [t for t in times if t.date() == START.date()]
    assert len(first_day) == 30
    assert times[30] == datetime(2026, 3, 3, tzinfo=UTC)  # midnight UTC, not a moment earlier
    assert all(t.date() == date(2026, 3, 3) for t in times[30:])


def test_one_recipient_gets_at_most_one_message_per_six_seconds() -> None:
    rules = PacingRules.from_json({"per_second": 1000})
    clock = FakeClock(START)
    phones = ["79001112233", "79001112244", "79001112233", "79001112233"]
    times = run_planner(rules, phones, clock)
    same = [t for t, p in zip(times, phones, strict=True) if p == "79001112233"]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(same)] == [6.0, 6.0]
    assert times[1] - times[0] < timedelta(seconds=1)  # another recipient does not wait


def test_token_bucket_holds_the_configured_rate() -> None:
    rules = PacingRules.from_json({"per_second": 10, "burst": 1, "recipient_interval_s": 0})
    clock = FakeClock(START)
    times = run_planner(rules, [str(79000000000 + i) for i in range(101)], clock)
    assert (times[-1] - times[0]).total_seconds() == pytest.approx(10.0)


def test_batch_slot_waits_for_a_batch_worth_of_tokens() -> None:
    rules = PacingRules.from_json({"per_second": 1000})  # burst 100
    state = PacingState(tat=START + timedelta(seconds=0.2))
    slot = batch_slot(rules, state, DayFacts(), START, want=16)
    assert slot.hold is Hold.RATE
    assert (slot.at - START).total_seconds() == pytest.approx(0.2 - 0.099 + 0.015)


def test_warmup_caps_grow_day_by_day_then_stop() -> None:
    rules = PacingRules.from_json({"warmup_daily_caps": [10, 20, 40], "daily_cap": 30}, UNOFFICIAL_PACING)
    state = PacingState(first_sent_at=START)
    caps = [effective_daily_cap(rules, state, START + timedelta(days=d)) for d in range(5)]
    assert caps == [10, 20, 30, 30, 30]
    explicit = PacingRules.from_json({"warmup_daily_caps": [5, 6], "warmup_start": "2026-03-01"}, UNOFFICIAL_PACING)
    assert effective_daily_cap(explicit, PacingState(), START) == 6
    assert effective_daily_cap(PacingRules.from_json({}), PacingState(), START) is None


def test_new_contacts_beyond_the_daily_cap_wait_for_tomorrow_known_ones_do_not() -> None:
    rules = PacingRules.from_json({"new_contacts_daily_cap": 2}, UNOFFICIAL_PACING)
    planner = BatchPlanner(rules, PacingState(), DayFacts(sent_today=5, new_contacts_today=2), START, random.Random(1))
    late = planner.consider(Candidate(1, "79000000001", new_contact=True))
    assert late == Defer(datetime(2026, 3, 3, tzinfo=UTC), Hold.NEW_CONTACTS)
    assert planner.consider(Candidate(2, "79000000002", new_contact=False)) == Admit()


def test_guard_trips_when_the_unanswered_share_passes_the_threshold_on_enough_messages() -> None:
    rules = PacingRules.from_json({"unanswered_threshold": 0.8, "unanswered_min_sample": 10}, UNOFFICIAL_PACING)
    sends = [SentRecord(f"7900000{i:04d}", START) for i in range(10)]
    answered_once = {"79000000000": START + timedelta(minutes=5)}
    assert guard_trips(rules, read_guard(sends, answered_once))  # 9 of 10 unanswered
    two = {**answered_once, "79000000001": START + timedelta(minutes=1)}
    assert not guard_trips(rules, read_guard(sends, two))  # 8 of 10 is not past 80 %
    earlier = {p.phone: START - timedelta(minutes=1) for p in sends}
    assert read_guard(sends, earlier).unanswered == 10  # a message before ours is no answer
    assert not guard_trips(rules, read_guard(sends[:9], {}))  # too few to judge


def test_guard_is_off_for_cloud_channels_by_default() -> None:
    rules = PacingRules.from_json({})
    assert not guard_trips(rules, read_guard([SentRecord("1", START)] * 100, {}))


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"burst": 0}, "pacing.burst"),
        ({"recipient_interval_s": -1}, "pacing.recipient_interval_s"),
        ({"new_contacts_daily_cap": 1.5}, "pacing.new_contacts_daily_cap"),
        ({"warmup_daily_caps": [10, "x"]}, "pacing.warmup_daily_caps"),
        ({"warmup_daily_caps": 10}, "pacing.warmup_daily_caps"),
        ({"warmup_start": "yesterday"}, "pacing.warmup_start"),
        ({"unanswered_threshold": 1.5}, "pacing.unanswered_threshold"),
        ({"unanswered_min_sample": 0}, "pacing.unanswered_min_sample"),
        ({"unanswered_window_hours": 0}, "pacing.unanswered_window_hours"),
    ],
)
def test_bad_anti_ban_settings_are_refused_naming_the_key(update: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        merge_pacing(UNOFFICIAL_PACING, None, update)
    assert caught.value.field == field


def test_pacing_shows_every_key_with_the_kind_defaults() -> None:
    device = merge_pacing(UNOFFICIAL_PACING, None, None)
    assert device["min_interval_s"] == 5.0 and device["max_interval_s"] == 12.0
    assert device["recipient_interval_s"] == 6.0
    assert device["new_contacts_daily_cap"] == 50
    assert device["warmup_daily_caps"] == [50, 100, 200, 400, 800]
    assert device["unanswered_threshold"] == 0.9
    cloud = merge_pacing(PROVIDER_PACING, None, {"custom": 1})
    assert cloud["per_second"] == 80.0 and cloud["unanswered_threshold"] is None and cloud["custom"] == 1


def test_batch_slot_never_waits_for_a_full_bucket() -> None:
    rules = PacingRules.from_json({"per_second": 80})  # burst 8
    state = PacingState(tat=START + timedelta(seconds=0.5))
    slot = batch_slot(rules, state, DayFacts(), START, want=16)
    # half the bucket (4 tokens): a late wake-up is absorbed by the other half, not lost
    assert (slot.at - START).total_seconds() == pytest.approx(0.5 - 7 / 80 + 3 / 80)
