"""The events broker behind the dashboard's server-sent events."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.dashboard.conftest import Desk
from wagate.dashboard.broker import Broker, Subscription, topics_of

PHONE = "79001234567"


async def next_topics(queue: asyncio.Queue[dict[str, Any] | None]) -> list[str]:
    item = await asyncio.wait_for(queue.get(), 5)
    assert item is not None
    return list(item["topics"])


def broker_of(desk: Desk) -> Broker:
    broker: Broker = desk.rt.components.get(Broker)
    return broker


async def test_a_client_message_reaches_listening_browsers_of_its_tenant(desk: Desk) -> None:
    tenant = await desk.tenant()
    other = await desk.tenant("other")
    broker = broker_of(desk)
    mine = broker.subscribe(tenant.id)
    theirs = broker.subscribe(other.id)
    try:
        await asyncio.sleep(0.05)  # the reader takes its starting cursor
        await desk.inbound(PHONE, "hello")
        assert await next_topics(mine.queue) == [f"thread:main:{PHONE}", "inbox", f"window:main:{PHONE}"]
        assert theirs.queue.empty()
    finally:
        broker.unsubscribe(mine)
        broker.unsubscribe(theirs)


async def test_conversation_changes_are_announced_after_their_commit(desk: Desk) -> None:
    await desk.inbound(PHONE)
    tenant = await desk.tenant()
    conversation = (await desk.client.get("/v1/conversations")).json()["data"][0]
    broker = broker_of(desk)
    sub = broker.subscribe(tenant.id)
    try:
        await desk.client.post(f"/v1/conversations/{conversation['id']}/close")
        assert await next_topics(sub.queue) == ["inbox", f"conversation:{conversation['id']}"]
    finally:
        broker.unsubscribe(sub)


def test_a_status_change_refreshes_the_thread_and_a_new_message_the_inbox() -> None:
    base = {"type": "message.status", "payload": {"channel": "main", "phone": PHONE, "previous_status": "sent"}}
    assert topics_of(base) == [f"thread:main:{PHONE}"]
    queued = {"type": "message.status", "payload": {"channel": "main", "phone": PHONE, "previous_status": None}}
    assert topics_of(queued) == [f"thread:main:{PHONE}", "inbox"]
    assert topics_of({"type": "message.status", "payload": {}}) == []


async def test_a_browser_that_falls_behind_is_told_to_reload() -> None:
    sub = Subscription(1)
    for i in range(sub.queue.maxsize + 5):
        sub.offer({"topics": [f"t{i}"]})
    # The backlog was dropped for one "reset"; what came after it is still delivered.
    assert (await sub.queue.get()) == {"topics": ["reset"]}
    assert sub.queue.qsize() == 4


async def test_closing_the_broker_ends_every_stream(desk: Desk) -> None:
    broker = Broker(desk.rt)
    sub = broker.subscribe(1)
    await broker.close()
    assert await asyncio.wait_for(sub.queue.get(), 1) is None
