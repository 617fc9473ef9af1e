"""The pure policy decisions: consent, keywords, window, ordering of checks, batches, day boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagate.domain.consent import (
    DEFAULT_OPTOUT_KEYWORDS,
    ConsentState,
    check_consent,
    confirmation_for,
    match_optout_keyword,
)
from wagate.domain.limits import day_of
from wagate.domain.policy import Candidate, ChannelPolicy, Facts, TenantPolicy, evaluate
from wagate.domain.templates import Template
from wagate.domain.window import window_at

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
STRICT = ChannelPolicy(service_window=True, consent="enforce", duplicate_window_s=300)


def text(phone: str = "79001234567", body: str = "hi", policy: ChannelPolicy = STRICT) -> Candidate:
    return Candidate(phone=phone, type="text", payload={"text": body}, channel_id=1, channel="main", policy=policy)


def template(phone: str = "79001234567", name: str = "t", params: list[str] | None = None) -> Candidate:
    spec = {"name": name, "language": "en", "params": params or []}
    return Candidate(
        phone=phone, type="template", payload={"template": spec}, channel_id=1, channel="main", policy=STRICT
    )


@given(
    st.sampled_from(DEFAULT_OPTOUT_KEYWORDS),
    st.text(alphabet=" \t\n.!", max_size=3),
    st.text(alphabet=" \t\n.!?", max_size=3),
    st.randoms(),
)
def test_keywords_match_in_any_case_with_surrounding_punctuation(
    keyword: str, before: str, after: str, rnd: object
) -> None:
    mixed = "".join(ch.upper() if rnd.random() < 0.5 else ch.lower() for ch in keyword)  # type: ignore[attr-defined]
    assert match_optout_keyword(before + mixed + after, DEFAULT_OPTOUT_KEYWORDS) == keyword


@given(st.sampled_from(DEFAULT_OPTOUT_KEYWORDS), st.text(alphabet="abcxyzабв ", min_size=1, max_size=10))
def test_a_keyword_inside_a_sentence_is_not_an_opt_out(keyword: str, extra: str) -> None:
    assert match_optout_keyword(f"{keyword} {extra}x", DEFAULT_OPTOUT_KEYWORDS) is None


def test_confirmation_follows_the_keywords_script() -> None:
    texts = {"en": "bye", "ru": "пока"}
    assert confirmation_for("СТОП", texts) == "пока"
    assert confirmation_for("STOP", texts) == "bye"


def test_consent_needs_the_scope_unless_any_will_do() -> None:
    state = ConsentState(status="active", scopes=("utility",))
    assert check_consent(state, "utility") is None
    assert check_consent(state, None) is None
    assert check_consent(state, "marketing").code == "consent_required"  # type: ignore[union-attr]
    assert check_consent(None, None).code == "consent_required"  # type: ignore[union-attr]
    assert check_consent(ConsentState(status="revoked"), None).code == "opted_out"  # type: ignore[union-attr]


def test_window_is_open_for_exactly_24_hours() -> None:
    last = NOW - timedelta(hours=24)
    assert window_at(last + timedelta(seconds=1), NOW).open
    assert not window_at(last, NOW).open
    assert window_at(None, NOW) == window_at(None, NOW + timedelta(days=1))


def test_a_template_problem_is_reported_before_window_and_consent() -> None:
    [decision] = evaluate([template(name="missing")], Facts(), TenantPolicy(), NOW)
    assert decision.error is not None and decision.error.code == "template_not_found"


def test_duplicates_inside_one_batch_are_caught() -> None:
    facts = Facts(last_inbound={(1, "79001234567"): NOW})
    first, second, other = evaluate([text(), text(), text(body="other")], facts, TenantPolicy(), NOW)
    assert first.allowed and other.allowed
    assert second.error is not None and second.error.code == "duplicate_message"


def test_refused_messages_do_not_use_up_the_cap() -> None:
    facts = Facts(last_inbound={(1, "79001234567"): NOW}, daily_used=0)
    decisions = evaluate(
        [text(body="a"), text(body="a"), text(body="b"), text(body="c")], facts, TenantPolicy(daily_cap=2), NOW
    )
    assert [d.error.code if d.error else None for d in decisions] == [
        None,
        "duplicate_message",
        None,
        "daily_cap_exceeded",
    ]
    assert facts.daily_used == 2


def test_dashboard_and_confirmations_are_not_capped() -> None:
    facts = Facts(last_inbound={(1, "79001234567"): NOW}, daily_used=5)
    candidate = Candidate(
        phone="79001234567",
        type="text",
        payload={"text": "x"},
        channel_id=1,
        channel="main",
        policy=STRICT,
        origin="dashboard",
    )
    [decision] = evaluate([candidate], facts, TenantPolicy(daily_cap=5), NOW)
    assert decision.allowed and not decision.counts_toward_cap


def test_a_template_in_the_window_does_not_reach_a_new_client_for_the_tier() -> None:
    limited = ChannelPolicy(service_window=True, consent="off", messaging_limit=250)
    tpl = Template(name="t", language="en", category="utility", body="x", status="approved")
    inside = Candidate(
        phone="1",
        type="template",
        payload={"template": {"name": "t", "language": "en"}},
        channel_id=1,
        channel="main",
        policy=limited,
    )
    outside = Candidate(
        phone="2",
        type="template",
        payload={"template": {"name": "t", "language": "en"}},
        channel_id=1,
        channel="main",
        policy=limited,
    )
    facts = Facts(templates=[tpl], last_inbound={(1, "1"): NOW})
    first, second = evaluate([inside, outside], facts, TenantPolicy(), NOW)
    assert first.tier_group is None and second.tier_group == "main"


@pytest.mark.parametrize(
    ("zone", "now", "day", "start"),
    [
        ("UTC", datetime(2026, 1, 1, 23, 59, tzinfo=UTC), "2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
        ("Europe/Moscow", datetime(2026, 1, 1, 21, 30, tzinfo=UTC), "2026-01-02", datetime(2026, 1, 1, 21, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 3, 8, 12, tzinfo=UTC), "2026-03-08", datetime(2026, 3, 8, 5, tzinfo=UTC)),
    ],
)
def test_the_cap_day_follows_the_tenants_time_zone(zone: str, now: datetime, day: str, start: datetime) -> None:
    key, begins, ends = day_of(now, zone)
    assert (key, begins) == (day, start)
    assert begins <= now < ends
    assert timedelta(hours=23) <= ends - begins <= timedelta(hours=25)
