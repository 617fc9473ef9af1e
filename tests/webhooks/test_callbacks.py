"""A message's own callback_url (native and Devino dialects) and the Devino incoming URL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.webhooks.conftest import Hooks, eventually
from tests.webhooks.receiver import Receiver
from wagate.domain.messages import OutboundDraft
from wagate.services.inbound import record_inbound
from wagate.services.messages import accept_messages

pytestmark = pytest.mark.asyncio


async def send_via_devino_door(hooks: Hooks, callback_url: str, callback_data: str | None) -> int:
    """What the Devino-style door does: accept a message with ``origin="devino"``."""
    tenant = hooks.app.state.bootstrap.tenant
    draft = OutboundDraft(
        to="79034567890", text="Code: 1234", callback_url=callback_url, callback_data=callback_data, origin="devino"
    )

    def render(outcomes: list[Any]) -> tuple[int, Any]:
        return 200, {"id": outcomes[0].id}

    _status, body = await accept_messages(hooks.rt, tenant, [draft], render=render)
    return int(body["id"])


async def test_callback_url_receives_the_messages_status_events_signed(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        rotated = await hooks.client.post("/v1/webhooks/callbacks/rotate-secret", json={})
        assert rotated.status_code == 200 and rotated.json()["kind"] == "callbacks"
        receiver.secret = rotated.json()["secret"]
        message = await hooks.send(callback_url=receiver.url + "?order=5", callback_data="crm-5")
        await hooks.send(to="79001112233")  # no callback_url: nothing for the receiver
        await hooks.advance(message, "sending", "sent", "delivered")
        await eventually(lambda: len(receiver.delivered()) == 4, what="the message's callbacks")
        got = receiver.delivered()
        assert all(item.verified for item in got)
        assert {item.json["data"]["message_id"] for item in got} == {message}
        assert [item.json["data"]["status"] for item in got] == ["queued", "sending", "sent", "delivered"]
        assert got[0].json["data"]["callback_data"] == "crm-5"
        info = (await hooks.client.get("/v1/webhooks/callbacks")).json()
        await asyncio.sleep(0.1)
        deliveries = (await hooks.client.get(f"/v1/webhooks/{info['id']}/deliveries")).json()["data"]
        assert {d["url"] for d in deliveries} == {receiver.url + "?order=5"}
    finally:
        await receiver.stop()


async def test_devino_origin_callbacks_are_the_seeds_array(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        message = await send_via_devino_door(hooks, receiver.url, "order-17")
        await hooks.advance(message, "sending", "sent", "delivered", "read")
        await eventually(lambda: len(receiver.delivered()) == 3, what="three devino callbacks")
        bodies = [item.json for item in receiver.delivered()]
        assert all(isinstance(b, list) and len(b) == 1 for b in bodies)
        items = [b[0] for b in bodies]
        assert [i["status"] for i in items] == ["SENT", "DELIVERED", "READ"]  # no queued/sending in Devino
        for item in items:
            assert set(item) == {"messageId", "ts", "status", "errorCode", "options"}
            assert item["messageId"] == message and item["errorCode"] == 0 and item["options"] == "order-17"
            assert isinstance(item["ts"], int) and item["ts"] > 1_700_000_000_000
        assert all("webhook-signature" in i.headers for i in receiver.delivered())
    finally:
        await receiver.stop()


async def test_devino_failed_status_carries_the_seeds_error_code(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        message = await send_via_devino_door(hooks, receiver.url, None)
        await hooks.advance(message, "sending", "failed", error_code="131026")
        await eventually(lambda: len(receiver.delivered()) == 1, what="the failure callback")
        [item] = receiver.delivered()[0].json
        assert item["status"] == "UNDELIVERED" and item["errorCode"] == 2305 and item["options"] is None
    finally:
        await receiver.stop()


async def test_devino_incoming_url_gets_the_seeds_incoming_object(hooks: Hooks) -> None:
    created = await hooks.client.post(
        "/v1/channels", json={"name": "biz", "kind": "memory", "settings": {"phone": "+7 999 000-00-01"}}
    )
    assert created.status_code == 201, created.text
    receiver = await Receiver().start()
    try:
        _sub, secret = await hooks.subscribe(receiver.url, ["message.received"], fmt="devino")
        tenant = hooks.app.state.bootstrap.tenant
        channel = (await hooks.rt.channels_of(tenant.id, fresh=True))["biz"]
        result = await record_inbound(
            hooks.rt,
            channel,
            phone="79001234567",
            type="text",
            payload={"text": "Hello!", "profile_name": "Oleg"},
            provider_id="wamid.1",
        )
        await eventually(lambda: len(receiver.delivered()) == 1, what="the incoming message")
        item = receiver.delivered()[0]
        Webhook(secret).verify(item.body, item.headers)
        body = item.json
        assert set(body) == {"incomingMessageId", "to", "from", "ts", "text", "profileName"}
        assert body["incomingMessageId"] == result.message_id
        assert body["to"] == "79990000001" and body["from"] == "79001234567"
        assert body["text"] == "Hello!" and body["profileName"] == "Oleg"
        assert isinstance(body["ts"], int)
    finally:
        await receiver.stop()


async def test_native_received_event_carries_the_content(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        await hooks.subscribe(receiver.url, ["message.received"])
        tenant = hooks.app.state.bootstrap.tenant
        channel = (await hooks.rt.channels_of(tenant.id, fresh=True))["main"]
        await record_inbound(
            hooks.rt, channel, phone="79001234567", type="text", payload={"text": "hi"}, provider_id="x"
        )
        await eventually(lambda: len(receiver.delivered()) == 1, what="the received event")
        body = receiver.delivered()[0].json
        assert body["type"] == "message.received"
        assert body["data"]["content"] == {"text": "hi"} and body["data"]["direction"] == "in"
    finally:
        await receiver.stop()
