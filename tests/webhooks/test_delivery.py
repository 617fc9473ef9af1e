"""Delivery to a real receiver over TCP, on SQLite and PostgreSQL: signatures, order, retries,
410, timeouts, dead letters, replay, restart."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings, running_app
from tests.webhooks.conftest import FAST, Hooks, eventually
from tests.webhooks.receiver import HANG, Received, Receiver
from wagate.webhooks.plugin import WebhookNode, webhooks_plugin

pytestmark = pytest.mark.asyncio


def event_ids_per_message(items: list[Received]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for item in items:
        data = item.json["data"]
        out[data["message_id"]].append(int(item.json["id"].removeprefix("evt_")))
    return out


async def all_event_ids(hooks: Hooks, type_: str = "message.status") -> list[int]:
    await hooks.node.fanout.drain()
    response = await hooks.client.get("/v1/events", params={"types": type_, "limit": 1000})
    return [int(e["id"].removeprefix("evt_")) for e in response.json()["data"]]


async def test_events_arrive_signed_in_order_and_verify_with_standardwebhooks(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        _sub, secret = await hooks.subscribe(receiver.url)
        receiver.secret = secret
        message = await hooks.send()
        await hooks.advance(message, "sending", "sent", "delivered", "read")
        await eventually(lambda: len(receiver.delivered()) == 5, what="five status events")
        got = receiver.delivered()
        assert all(item.verified for item in got)
        assert [item.json["data"]["status"] for item in got] == ["queued", "sending", "sent", "delivered", "read"]
        assert all(item.headers["webhook-id"] == item.json["id"] for item in got)
        assert {item.json["type"] for item in got} == {"message.status"}
    finally:
        await receiver.stop()


PATIENT = {**FAST, "webhook_retry_schedule": [0.05] * 200}


@pytest.mark.parametrize("hook_settings", [PATIENT])
async def test_server_errors_then_recovery_deliver_every_event_in_order_per_message(hooks: Hooks) -> None:
    failing = {"on": True}
    receiver = await Receiver(behaviour=lambda _r: 500 if failing["on"] else 200).start()
    try:
        _sub, secret = await hooks.subscribe(receiver.url)
        receiver.secret = secret
        messages = [await hooks.send(to=f"7900123456{i}") for i in range(4)]
        for message in messages:
            await hooks.advance(message, "sending", "sent", "delivered", "read")
        await eventually(lambda: len(receiver.received) >= 8, what="failed attempts")
        assert receiver.delivered() == []
        failing["on"] = False
        expected = await all_event_ids(hooks)
        assert len(expected) == 20
        await eventually(lambda: len(receiver.delivered()) >= 20, what="all events after recovery")
        delivered_ids = {int(item.json["id"].removeprefix("evt_")) for item in receiver.delivered()}
        assert delivered_ids == set(expected)
        # Order per message holds for every request made, failed ones included: no event of a
        # message was even attempted before the previous one was delivered.
        for ids in event_ids_per_message(receiver.received).values():
            assert ids == sorted(ids)
        assert all(item.verified for item in receiver.received)
    finally:
        await receiver.stop()


@pytest.mark.parametrize("hook_settings", [PATIENT])
async def test_refused_connections_then_recovery_deliver_everything(hooks: Hooks) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    sub, secret = await hooks.subscribe(receiver.url)
    receiver.secret = secret
    message = await hooks.send()
    await hooks.advance(message, "sending", "sent", "delivered")

    async def refused_attempts() -> int:
        log = (await hooks.client.get(f"/v1/webhooks/{sub}/deliveries")).json()["data"]
        return sum(len(d["log"]) for d in log)

    for _ in range(300):
        if await refused_attempts() >= 2:
            break
        await asyncio.sleep(0.02)
    log = (await hooks.client.get(f"/v1/webhooks/{sub}/deliveries")).json()["data"]
    first = next(a for d in log for a in d["log"])
    assert first["status_code"] is None and "connection" in first["error"]
    await receiver.start()
    try:
        await eventually(lambda: len(receiver.delivered()) == 4, what="events after the receiver came up")
        assert [i.json["data"]["status"] for i in receiver.delivered()] == ["queued", "sending", "sent", "delivered"]
        assert all(i.verified for i in receiver.delivered())
    finally:
        await receiver.stop()


@pytest.mark.parametrize("hook_settings", [PATIENT])
async def test_410_gone_disables_the_subscription_and_dead_letters_its_deliveries(hooks: Hooks) -> None:
    receiver = Receiver(behaviour=lambda _r: 410)  # refusing connections until started
    sub, _secret = await hooks.subscribe(receiver.url)
    message = await hooks.send()
    await hooks.advance(message, "sending", "sent")
    await hooks.node.fanout.drain()  # three deliveries: the first retrying, two waiting behind it
    await receiver.start()
    try:

        async def state() -> dict[str, Any]:
            return (await hooks.client.get(f"/v1/webhooks/{sub}")).json()  # type: ignore[no-any-return]

        for _ in range(500):
            if (await state())["status"] == "disabled":
                break
            await asyncio.sleep(0.02)
        body = await state()
        assert body["status"] == "disabled"
        assert "410" in body["disabled_reason"]
        assert body["deliveries"]["dead"] == 3
        assert body["deliveries"]["pending"] == body["deliveries"]["blocked"] == 0
        assert len(receiver.received) == 1  # nothing more was tried after the 410
        await hooks.advance(message, "delivered")
        await hooks.node.fanout.drain()
        assert (await state())["deliveries"]["dead"] == 3  # no new deliveries for a disabled one
    finally:
        await receiver.stop()


@pytest.mark.parametrize("hook_settings", [{**FAST, "webhook_timeout_seconds": 3.0}])
async def test_a_receiver_that_never_answers_times_out_and_holds_nobody_else(hooks: Hooks) -> None:
    hanging = await Receiver(behaviour=lambda _r: HANG).start()
    healthy = await Receiver().start()
    try:
        slow, _ = await hooks.subscribe(hanging.url)
        _fast, secret = await hooks.subscribe(healthy.url)
        healthy.secret = secret
        messages = [await hooks.send(to=f"7900123450{i}") for i in range(5)]
        for message in messages:
            await hooks.advance(message, "sending", "sent")
        # Everything reaches the healthy receiver while the hanging one still holds its requests.
        await eventually(lambda: len(healthy.delivered()) == 15, timeout=2.5, what="the healthy receiver")
        assert len(hanging.answered) == 0 and len(hanging.received) == 5
        assert all(item.verified for item in healthy.delivered())

        async def timed_out() -> list[dict[str, Any]]:
            data = (await hooks.client.get(f"/v1/webhooks/{slow}/deliveries")).json()["data"]
            return [a for d in data for a in d["log"] if a["error"] and "timeout" in a["error"]]

        for _ in range(300):
            if await timed_out():
                break
            await asyncio.sleep(0.02)
        attempt = (await timed_out())[0]
        assert attempt["status_code"] is None and attempt["latency_ms"] >= 2900
    finally:
        await hanging.stop()
        await healthy.stop()


async def test_exhausted_retries_go_to_the_dead_letter_list_and_replay_resends_them(hooks: Hooks) -> None:
    answer = {"code": 503}
    receiver = await Receiver(behaviour=lambda _r: answer["code"]).start()
    try:
        sub, secret = await hooks.subscribe(receiver.url)
        receiver.secret = secret
        await hooks.send()

        async def deliveries(status: str | None = None) -> list[dict[str, Any]]:
            params = {"status": status} if status else {}
            return (await hooks.client.get(f"/v1/webhooks/{sub}/deliveries", params=params)).json()["data"]  # type: ignore[no-any-return]

        for _ in range(500):
            if await deliveries("dead"):
                break
            await asyncio.sleep(0.02)
        dead = await deliveries("dead")
        assert len(dead) == 1
        log = dead[0]["log"]
        assert [a["attempt"] for a in log] == [1, 2, 3, 4]  # the first try and three retries
        assert all(a["status_code"] == 503 and a["error"] == "HTTP 503" and a["latency_ms"] > 0 for a in log)
        answer["code"] = 200
        replayed = await hooks.client.post(f"/v1/webhooks/{sub}/replay", json={})
        assert replayed.status_code == 202 and replayed.json() == {"replayed": 1}
        await eventually(lambda: len(receiver.delivered()) == 1, what="the replayed event")
        assert receiver.delivered()[0].json["id"] == dead[0]["webhook_id"]
        assert await deliveries("dead") == []
        assert len(await deliveries("replayed")) == 1
    finally:
        await receiver.stop()


async def test_replay_of_chosen_events_sends_them_again(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        sub, _ = await hooks.subscribe(receiver.url)
        message = await hooks.send()
        await hooks.advance(message, "sending", "sent")
        await eventually(lambda: len(receiver.delivered()) == 3, what="first deliveries")
        chosen = (await all_event_ids(hooks))[:2]
        response = await hooks.client.post(f"/v1/webhooks/{sub}/replay", json={"event_ids": chosen})
        assert response.json() == {"replayed": 2}
        await eventually(lambda: len(receiver.delivered()) == 5, what="replayed events")
        assert [int(i.json["id"][4:]) for i in receiver.delivered()[3:]] == chosen
    finally:
        await receiver.stop()


async def test_a_restart_resumes_deliveries_where_they_stopped(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, **{**FAST, "webhook_retry_schedule": [0.05] * 20})
    receiver = Receiver()
    async with running_app(settings, plugins=[webhooks_plugin]) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        response = await client.post("/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]})
        receiver.secret = response.json()["secret"]
        for i in range(3):
            assert (await client.post("/v1/messages", json={"to": f"7900111222{i}", "text": "x"})).status_code == 202
        await rt.components.get(WebhookNode).fanout.drain()
    # The node is gone with three undelivered events; a new one on the same database delivers them.
    await receiver.start()
    try:
        async with running_app(settings, plugins=[webhooks_plugin]):
            await eventually(lambda: len(receiver.delivered()) == 3, what="deliveries after the restart")
        assert all(i.verified for i in receiver.delivered())
    finally:
        await receiver.stop()


async def test_channel_and_consent_events_appended_by_others_are_delivered(hooks: Hooks) -> None:
    from wagate.store.repos.events import append_event

    receiver = await Receiver().start()
    try:
        _sub, secret = await hooks.subscribe(receiver.url, ["channel.status", "consent.changed"])
        receiver.secret = secret
        tenant = hooks.app.state.bootstrap.tenant
        now = hooks.rt.clock.now()
        for type_, payload in (
            ("channel.status", {"channel": "main", "status": "offline"}),
            ("consent.changed", {}),
            ("channel.status", {"channel": "main", "status": "online"}),
        ):
            await hooks.rt.db.write(
                lambda c, t=type_, p=payload: append_event(c, tenant_id=tenant.id, type=t, payload=p, now=now)
            )
        await eventually(lambda: len(receiver.delivered()) == 3, what="channel and consent events")
        got = [(i.json["type"], i.json["data"]) for i in receiver.delivered() if i.verified]
        channel = [data["status"] for type_, data in got if type_ == "channel.status"]
        assert channel == ["offline", "online"]  # one channel's events stay in order
        assert ("consent.changed", {}) in got
    finally:
        await receiver.stop()
