"""Opt-out keywords on inbound messages, the window seen per contact, and the re-check before sending."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.policy.conftest import Door, Gateway
from wagate.channels.memory import MemoryChannel
from wagate.dispatch.dispatcher import Dispatcher
from wagate.store.tables import events, messages

pytestmark = pytest.mark.asyncio

PHONE = "79001234567"


async def outbound(gw: Gateway) -> list[Any]:
    return await gw.rt.db.read(
        lambda c: list(c.execute(sa.select(messages).where(messages.c.direction == "out").order_by(messages.c.id)))
    )


async def consent_events(gw: Gateway) -> list[dict[str, Any]]:
    rows = await gw.rt.db.read(
        lambda c: list(c.execute(sa.select(events).where(events.c.type == "consent.changed").order_by(events.c.id)))
    )
    return [r.payload for r in rows]


async def test_stop_keyword_revokes_consent_and_blocks_the_next_marketing_template(gw: Gateway, door: Door) -> None:
    await gw.template(name="promo", category="marketing", body="Скидка {{1}} до {{2}}")
    await gw.consent(PHONE, "marketing")
    promo = {
        "to": PHONE,
        "type": "template",
        "template": {"name": "promo", "language": "ru", "params": ["10%", "1.02"]},
    }
    assert (await door(promo)).ok

    result = await gw.inbound(PHONE, "  стоп! ")

    consent = (await gw.client.get(f"/v1/consents/{PHONE}")).json()
    assert consent["status"] == "revoked" and consent["scopes"] == [] and consent["revoked_via"] == "keyword"
    assert consent["history"][-1]["message_id"] == result.message_id
    changed = await consent_events(gw)
    assert [(e["action"], e["status"]) for e in changed] == [("opt_in", "active"), ("opt_out", "revoked")]
    refused = await door({**promo, "template": {**promo["template"], "params": ["20%", "2.02"]}})  # type: ignore[dict-item]
    assert refused.code == "opted_out"


async def test_opt_out_sends_one_confirmation_in_the_keywords_language(gw: Gateway) -> None:
    await gw.inbound(PHONE, "СТОП")
    await gw.inbound(PHONE, "стоп")  # already opted out: recorded, not confirmed again
    sent = await outbound(gw)
    assert len(sent) == 1
    assert sent[0].origin == "optout" and sent[0].phone == PHONE
    assert sent[0].payload["text"].startswith("Вы отписались")
    history = (await gw.client.get(f"/v1/consents/{PHONE}")).json()["history"]
    assert [h["action"] for h in history] == ["opt_out", "opt_out"]
    assert len(await consent_events(gw)) == 1


async def test_confirmation_goes_out_through_the_channel(gw: Gateway) -> None:
    await gw.inbound(PHONE, "unsubscribe")
    dispatcher = Dispatcher(gw.rt, workers=1)
    assert await dispatcher.run_once() == 1
    tenant = await gw.tenant()
    channel = await gw.rt.channel_instance((await gw.rt.channels_of(tenant.id))["main"])
    assert isinstance(channel, MemoryChannel)
    assert channel.sent[0].payload["text"].startswith("You have unsubscribed")


async def test_a_sentence_containing_stop_is_not_an_opt_out(gw: Gateway) -> None:
    await gw.consent(PHONE, "utility")
    await gw.inbound(PHONE, "please stop the delivery, I'm not home")
    assert (await gw.client.get(f"/v1/consents/{PHONE}")).json()["status"] == "active"
    assert await outbound(gw) == []


async def test_keywords_and_confirmation_are_configurable(gw: Gateway) -> None:
    response = await gw.client.patch(
        "/v1/policy", json={"optout_keywords": ["ХВАТИТ"], "optout_confirmation": {"ru": "", "en": ""}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["optout_keywords"] == ["ХВАТИТ"]
    await gw.inbound(PHONE, "stop")
    assert (await gw.client.get(f"/v1/consents/{PHONE}")).status_code == 404
    await gw.inbound(PHONE, "хватит")
    assert (await gw.client.get(f"/v1/consents/{PHONE}")).json()["status"] == "revoked"
    assert await outbound(gw) == []  # an empty confirmation text sends none


async def test_window_is_visible_per_contact(gw: Gateway) -> None:
    closed = (await gw.client.get(f"/v1/contacts/{PHONE}/window")).json()
    assert closed == {
        "phone": PHONE,
        "channel": "main",
        "open": False,
        "last_inbound_at": None,
        "closes_at": None,
        "enforced": True,
    }
    await gw.inbound(PHONE)
    opened = (await gw.client.get("/v1/contacts/+7 900 123-45-67/window", params={"channel": "main"})).json()
    assert opened["open"] is True
    assert opened["last_inbound_at"] == "2026-01-01T12:00:00+00:00"
    assert opened["closes_at"] == "2026-01-02T12:00:00+00:00"
    gw.clock.advance(24 * 3600)
    assert (await gw.client.get(f"/v1/contacts/{PHONE}/window")).json()["open"] is False


async def test_free_text_is_not_sent_after_the_window_closed_in_the_queue(gw: Gateway) -> None:
    await gw.inbound(PHONE)
    gw.clock.advance(23 * 3600)
    accepted = (await gw.client.post("/v1/messages", json={"to": PHONE, "text": "late answer"})).json()
    gw.clock.advance(3600)  # the window closes while the message waits
    await Dispatcher(gw.rt, workers=1).run_once()
    message = (await gw.client.get(f"/v1/messages/{accepted['id']}")).json()
    assert message["status"] == "failed"
    assert message["error"]["code"] == "outside_service_window"


async def test_free_text_inside_the_window_is_sent(gw: Gateway) -> None:
    await gw.inbound(PHONE)
    accepted = (await gw.client.post("/v1/messages", json={"to": PHONE, "text": "answer"})).json()
    await Dispatcher(gw.rt, workers=1).run_once()
    assert (await gw.client.get(f"/v1/messages/{accepted['id']}")).json()["status"] == "sent"


@pytest.mark.parametrize("payload", [{"text": {"body": "Stop"}}, {"button": {"text": "UNSUBSCRIBE"}}])
async def test_keywords_in_cloud_shaped_payloads_opt_out(gw: Gateway, payload: dict[str, Any]) -> None:
    from wagate.services.inbound import record_inbound

    tenant = await gw.tenant()
    row = (await gw.rt.channels_of(tenant.id))["main"]
    await record_inbound(gw.rt, row, phone=PHONE, type="button", payload=payload, provider_id="wamid.1")
    assert (await gw.client.get(f"/v1/consents/{PHONE}")).json()["status"] == "revoked"
