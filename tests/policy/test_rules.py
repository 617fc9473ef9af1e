"""Every rule both ways (allowed and refused), through /v1 and through the shared accept path
as a compatibility door calls it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from tests.policy.conftest import Door, Gateway
from wagate.store.policy_tables import policy_refusals
from wagate.store.tables import messages

pytestmark = pytest.mark.asyncio

PHONE = "79001234567"


def template_msg(name: str = "order_ready", params: list[str] | None = None, language: str = "ru") -> dict[str, object]:
    return {
        "to": PHONE,
        "type": "template",
        "template": {"name": name, "language": language, "params": ["A-17", "пятницы"] if params is None else params},
    }


async def stored(gw: Gateway) -> int:
    return int(await gw.rt.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()))


async def refusal_codes(gw: Gateway) -> list[tuple[str, str, str]]:
    rows = await gw.rt.db.read(lambda c: list(c.execute(sa.select(policy_refusals).order_by(policy_refusals.c.id))))
    return [(r.outcome, r.code, r.origin) for r in rows]


# ---------------------------------------------------------------- templates


async def test_approved_template_with_consent_is_accepted_and_rendered(gw: Gateway, door: Door) -> None:
    await gw.template()
    await gw.consent(PHONE, "utility")
    sent = await door(template_msg())
    assert sent.ok, sent
    row = await gw.rt.db.read(lambda c: c.execute(sa.select(messages.c.payload)).one())
    assert row.payload["text"] == "Заказ A-17 готов, *забрать* до пятницы"
    assert row.payload["template"] == {
        "name": "order_ready",
        "language": "ru",
        "params": ["A-17", "пятницы"],
        "category": "utility",
    }


async def test_unknown_template_is_refused(gw: Gateway, door: Door) -> None:
    await gw.template()
    sent = await door(template_msg(name="nope"))
    assert (sent.code, sent.field) == ("template_not_found", "template.name")
    assert await stored(gw) == 0


async def test_template_in_another_language_is_refused(gw: Gateway, door: Door) -> None:
    await gw.template()
    sent = await door(template_msg(language="en"))
    assert (sent.code, sent.field) == ("template_language_not_found", "template.language")


async def test_language_code_spelling_does_not_matter(gw: Gateway, door: Door) -> None:
    await gw.template(language="en_US", body="Order {{1}} is ready until {{2}}")
    await gw.consent(PHONE, "utility")
    assert (await door(template_msg(language="EN-us"))).ok


async def test_pending_template_is_refused_until_approved(gw: Gateway, door: Door) -> None:
    created = await gw.template(status="pending")
    await gw.consent(PHONE, "utility")
    sent = await door(template_msg())
    assert (sent.code, sent.field) == ("template_not_approved", "template.name")
    await gw.client.patch(f"/v1/templates/{created['id']}", json={"status": "approved"})
    assert (await door(template_msg())).ok


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        (["only one"], "template_param_count", "template.params"),
        (["a", "b", "c"], "template_param_count", "template.params"),
        (["A-17", "x" * 1025], "template_param_too_long", "template.params[1]"),
        (["A-17\nлишнее", "пятницы"], "template_param_invalid", "template.params[0]"),
        (["A-17", "пят\tницы"], "template_param_invalid", "template.params[1]"),
        (["A-17", "до    пятницы"], "template_param_invalid", "template.params[1]"),
    ],
)
async def test_bad_template_params_are_refused(
    gw: Gateway, door: Door, params: list[str], code: str, field: str
) -> None:
    await gw.template()
    await gw.consent(PHONE, "utility")
    sent = await door(template_msg(params=params))
    assert (sent.code, sent.field) == (code, field)
    assert await stored(gw) == 0


# ---------------------------------------------------------------- consent


async def test_template_without_consent_is_refused(gw: Gateway, door: Door) -> None:
    await gw.template()
    sent = await door(template_msg())
    assert (sent.code, sent.field) == ("consent_required", "to")


async def test_consent_for_another_scope_does_not_count(gw: Gateway, door: Door) -> None:
    await gw.template(name="promo", category="marketing", body="Скидка {{1}} до {{2}}")
    await gw.consent(PHONE, "utility")
    sent = await door(template_msg(name="promo"))
    assert sent.code == "consent_required"
    await gw.consent(PHONE, "utility", "marketing")
    assert (await door(template_msg(name="promo"))).ok


async def test_opted_out_client_is_refused(gw: Gateway, door: Door) -> None:
    await gw.template()
    await gw.consent(PHONE, "utility")
    assert (await gw.client.delete(f"/v1/consents/{PHONE}")).status_code == 200
    sent = await door(template_msg())
    assert (sent.code, sent.field) == ("opted_out", "to")


async def test_warn_mode_accepts_and_records_the_warning(gw: Gateway, door: Door) -> None:
    await gw.set_policy(consent="warn")
    await gw.template()
    sent = await door(template_msg())
    assert sent.ok and sent.warnings == ["consent_required"]
    history = (await gw.client.get(f"/v1/messages/{sent.id}")).json()["history"]
    assert history[0]["status"] == "queued"
    assert history[0]["reason"].startswith("accepted with warning (consent_required")
    assert [(o, c) for o, c, _ in await refusal_codes(gw)] == [("warned", "consent_required")]


async def test_consent_off_needs_no_consent(gw: Gateway, door: Door) -> None:
    await gw.set_policy(consent="off")
    await gw.template()
    sent = await door(template_msg())
    assert sent.ok and sent.warnings == []


async def test_reply_within_window_needs_no_consent_but_marketing_always_does(gw: Gateway, door: Door) -> None:
    await gw.template()
    await gw.template(name="promo", category="marketing", body="Скидка {{1}} до {{2}}")
    await gw.inbound(PHONE)
    assert (await door({"to": PHONE, "text": "Здравствуйте! Чем помочь?"})).ok
    assert (await door(template_msg())).ok
    assert (await door(template_msg(name="promo"))).code == "consent_required"


# ---------------------------------------------------------------- the 24-hour window


async def test_free_text_outside_the_window_is_refused(gw: Gateway, door: Door) -> None:
    sent = await door({"to": PHONE, "text": "Hello"})
    assert (sent.code, sent.field) == ("outside_service_window", "to")


async def test_free_text_inside_the_window_is_accepted(gw: Gateway, door: Door) -> None:
    await gw.inbound(PHONE)
    gw.clock.advance(23 * 3600)
    assert (await door({"to": PHONE, "text": "Hello"})).ok


async def test_window_closes_24_hours_after_the_last_inbound(gw: Gateway, door: Door) -> None:
    await gw.inbound(PHONE)
    gw.clock.advance(24 * 3600)
    assert (await door({"to": PHONE, "text": "Hello"})).code == "outside_service_window"
    await gw.inbound(PHONE, "снова я")
    assert (await door({"to": PHONE, "text": "Hello again"})).ok


async def test_window_off_lets_free_text_through_with_consent(gw: Gateway, door: Door) -> None:
    await gw.set_policy(service_window=False)
    assert (await door({"to": PHONE, "text": "Hello"})).code == "consent_required"
    await gw.consent(PHONE, "utility")
    assert (await door({"to": PHONE, "text": "Hello"})).ok


# ---------------------------------------------------------------- duplicates


async def test_same_text_to_same_client_within_the_period_is_refused(gw: Gateway, door: Door) -> None:
    await gw.inbound(PHONE)
    assert (await door({"to": PHONE, "text": "Ваш код 1234"})).ok
    gw.clock.advance(299)
    sent = await door({"to": PHONE, "text": "Ваш код 1234"})
    assert (sent.code, sent.field) == ("duplicate_message", "to")


async def test_concurrent_identical_requests_are_judged_one_after_another(gw: Gateway, door: Door) -> None:
    """Requests merged into one batch by group commit meet the duplicate guard as sequential ones do."""
    await gw.inbound(PHONE)
    sent = await asyncio.gather(*(door({"to": PHONE, "text": "Ваш код 5555"}) for _ in range(8)))
    assert sum(s.ok for s in sent) == 1
    assert {(s.code, s.field) for s in sent if not s.ok} == {("duplicate_message", "to")}


async def test_other_text_or_later_or_other_client_is_not_a_duplicate(gw: Gateway, door: Door) -> None:
    other = "79001234568"
    await gw.inbound(PHONE)
    await gw.inbound(other)
    assert (await door({"to": PHONE, "text": "Ваш код 1234"})).ok
    assert (await door({"to": PHONE, "text": "Ваш код 5678"})).ok
    assert (await door({"to": other, "text": "Ваш код 1234"})).ok
    gw.clock.advance(301)
    assert (await door({"to": PHONE, "text": "Ваш код 1234"})).ok


async def test_duplicate_guard_off_allows_repeats(gw: Gateway, door: Door) -> None:
    await gw.set_policy(duplicate_window_s=0, compat_duplicate_window_s=0)
    await gw.inbound(PHONE)
    assert (await door({"to": PHONE, "text": "x"})).ok
    assert (await door({"to": PHONE, "text": "x"})).ok


# ---------------------------------------------------------------- the daily cap


async def test_daily_cap_refuses_the_message_over_it_and_resets_next_day(gw: Gateway, door: Door) -> None:
    await gw.set_policy(service_window=False, consent="off", duplicate_window_s=0)
    assert (await gw.client.patch("/v1/policy", json={"daily_cap": 3})).status_code == 200
    for i in range(3):
        assert (await door({"to": PHONE, "text": f"m{i}"})).ok
    sent = await door({"to": PHONE, "text": "m3"})
    assert sent.code == "daily_cap_exceeded"
    gw.clock.advance(12 * 3600)  # 12:00 UTC + 12 h = the next day
    assert (await door({"to": PHONE, "text": "m4"})).ok


async def test_test_tenant_cap_of_30_counts_a_batch_item_by_item(gw: Gateway) -> None:
    await gw.set_policy(service_window=False, consent="off", duplicate_window_s=0)
    await gw.client.patch("/v1/policy", json={"daily_cap": 30})
    batch = {"messages": [{"to": PHONE, "text": f"m{i}"} for i in range(31)]}
    body = (await gw.client.post("/v1/messages", json=batch)).json()
    assert body["accepted"] == 30
    assert body["results"][30]["error"]["code"] == "daily_cap_exceeded"
    assert body["results"][30]["error"]["field"] == "messages[30].to"
    usage = (await gw.client.get("/v1/policy")).json()["usage"]
    assert usage["messages_today"] == 30


async def test_cap_set_mid_day_counts_messages_already_sent(gw: Gateway, door: Door) -> None:
    await gw.set_policy(service_window=False, consent="off", duplicate_window_s=0)
    for i in range(2):
        assert (await door({"to": PHONE, "text": f"m{i}"})).ok
    await gw.client.patch("/v1/policy", json={"daily_cap": 2})
    assert (await door({"to": PHONE, "text": "m2"})).code == "daily_cap_exceeded"
    await gw.client.patch("/v1/policy", json={"daily_cap": None})
    assert (await door({"to": PHONE, "text": "m3"})).ok


# ---------------------------------------------------------------- refusals are recorded


async def test_every_refusal_is_recorded_with_its_reason_and_door(gw: Gateway, door: Door) -> None:
    await door({"to": PHONE, "text": "Hello"})
    recorded = await refusal_codes(gw)
    assert [(o, c) for o, c, _ in recorded] == [("refused", "outside_service_window")]
    assert recorded[0][2] in ("api", "devino")
    listing = (await gw.client.get("/v1/policy/refusals")).json()["data"]
    assert listing[0]["error"]["code"] == "outside_service_window"
    assert listing[0]["phone"] == PHONE
    assert 'code="outside_service_window"' in (await gw.client.get("/metrics")).text


# ---------------------------------------------------------------- a dry run (campaigns)


async def test_preview_judges_without_storing_or_charging(gw: Gateway) -> None:
    from wagate.domain.messages import OutboundDraft
    from wagate.services.policy import Preview, preview_messages

    await gw.template()
    await gw.consent(PHONE, "utility")
    await gw.client.patch("/v1/policy", json={"daily_cap": 1})
    drafts = [
        OutboundDraft(
            to=PHONE, type="template", template={"name": "order_ready", "language": "ru", "params": ["1", "2"]}
        ),
        OutboundDraft(to="79001234568", text="hi"),
        OutboundDraft(to="12", text="hi"),
    ]
    first, second, third = await preview_messages(gw.rt, await gw.tenant(), drafts)
    assert isinstance(first, Preview) and first.payload["text"] == "Заказ 1 готов, *забрать* до 2"
    assert getattr(second, "code", None) == "outside_service_window"
    assert getattr(third, "field", None) == "to"
    assert await stored(gw) == 0 and await refusal_codes(gw) == []
    assert (await gw.client.get("/v1/policy")).json()["usage"]["messages_today"] == 0


async def test_concurrent_requests_cannot_overshoot_the_daily_cap(gw: Gateway) -> None:
    await gw.set_policy(service_window=False, consent="off", duplicate_window_s=0)
    await gw.client.patch("/v1/policy", json={"daily_cap": 5})
    answers = await asyncio.gather(
        *(gw.client.post("/v1/messages", json={"to": PHONE, "text": f"m{i}"}) for i in range(20))
    )
    assert sorted(r.status_code for r in answers) == [202] * 5 + [422] * 15
    assert await stored(gw) == 5
