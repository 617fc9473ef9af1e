"""The webhook delivery log page: subscriptions, deliveries, dead letters, replay (admins only).

A real receiver over TCP (``tests.webhooks.receiver``) answers 500 until told otherwise; the
retry schedule is two immediate retries, so a delivery is dead-lettered for real in three
attempts. On SQLite only: the page adds no SQL of its own beyond the repositories the
webhook tests run on both dialects.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import Desk, open_desk
from tests.webhooks.receiver import Receiver
from wagate.webhooks.plugin import webhooks_plugin

PHONE = "79001234567"
QUICK = {"webhook_retry_schedule": [0.0, 0.0], "webhook_retry_jitter": 0.0, "webhook_timeout_seconds": 2.0}


@pytest.fixture
async def desk(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(sqlite_url, tmp_path, plugins=[webhooks_plugin], **QUICK) as opened:
        # The receiver checks signatures with standardwebhooks, which wants a timestamp within
        # five minutes of its own clock: the fake clock starts now (it only moves when told to).
        opened.clock.set(datetime.now(UTC))
        await opened.user("boss", role="admin")
        await opened.user("anna")
        yield opened


@pytest.fixture
def answer() -> dict[str, int]:
    """What the receiver answers; a test changes ``answer["code"]`` to change it."""
    return {"code": 500}


@pytest.fixture
async def receiver(answer: dict[str, int]) -> AsyncIterator[Receiver]:
    started = await Receiver(behaviour=lambda _r: answer["code"]).start()
    try:
        yield started
    finally:
        await started.stop()


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def subscribe(desk: Desk, receiver: Receiver) -> int:
    response = await desk.client.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["message.status"], "description": "the CRM"}
    )
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return int(response.json()["id"])


async def counts(desk: Desk, sub: int) -> dict[str, int]:
    body: dict[str, Any] = (await desk.client.get(f"/v1/webhooks/{sub}")).json()
    return dict(body["deliveries"])


async def dead_letter(desk: Desk, receiver: Receiver) -> tuple[int, int]:
    """A subscription whose one delivery (a message's ``queued`` event) died after three 500s."""
    sub = await subscribe(desk, receiver)
    message = await desk.api_reply(PHONE, "hello", operator=None)

    async def dead() -> bool:
        return (await counts(desk, sub))["dead"] == 1

    await until(dead, "a dead letter")
    assert len(receiver.received) == 3
    return sub, message


def row_of(page: str, status: str) -> str:
    found = re.search(
        rf'<tr data-delivery="\d+" data-event="\d+" data-delivery-status="{status}">(.*?)</tr>', page, re.S
    )
    assert found is not None, page
    return found.group(1)


async def test_the_page_lists_a_subscription_and_its_dead_lettered_delivery(desk: Desk, receiver: Receiver) -> None:
    sub, message = await dead_letter(desk, receiver)
    boss = await desk.sign_in("boss")
    page = await boss.get("/dashboard/webhooks")
    assert page.status_code == 200
    assert receiver.url in page.text
    assert "message.status" in page.text
    assert "the CRM" in page.text
    assert f'data-subscription="{sub}" data-status="active"' in page.text
    dead = row_of(page.text, "dead")
    assert f"#{message}" in dead
    assert '<td class="num">3</td>' in dead  # attempts
    assert '<td class="num" data-code>500</td>' in dead
    assert " ms" in dead  # the last attempt's latency
    assert "500" in dead and "dead letters" in dead


async def test_the_dead_letter_filter_shows_only_dead_letters(desk: Desk, receiver: Receiver) -> None:
    sub, _message = await dead_letter(desk, receiver)
    boss = await desk.sign_in("boss")
    only_dead = (await boss.get("/dashboard/webhooks?status=dead")).text
    assert 'data-delivery-status="dead"' in only_dead
    assert 'data-filter="dead" role="tab" class="current"' in only_dead
    delivered = (await boss.get(f"/dashboard/webhooks?status=delivered&subscription={sub}")).text
    assert 'data-delivery-status="dead"' not in delivered
    assert "No deliveries here." in delivered


async def test_an_operator_may_neither_see_the_log_nor_replay(desk: Desk, receiver: Receiver) -> None:
    sub, _message = await dead_letter(desk, receiver)
    anna = await desk.sign_in("anna")
    assert (await anna.get("/dashboard/webhooks")).status_code == 403
    refused = await anna.post(f"/dashboard/webhooks/{sub}/replay", htmx=False)
    assert refused.status_code == 403
    assert 'href="/dashboard/webhooks"' not in (await anna.get("/dashboard/operations")).text
    assert (await counts(desk, sub))["dead"] == 1


async def test_replay_from_the_page_resends_the_dead_letter_and_it_succeeds(
    desk: Desk, receiver: Receiver, answer: dict[str, int]
) -> None:
    sub, _message = await dead_letter(desk, receiver)
    answer["code"] = 200
    boss = await desk.sign_in("boss")
    page = (await boss.get("/dashboard/webhooks?status=dead")).text
    assert f'action="/dashboard/webhooks/{sub}/replay?status=dead"' in page
    response = await boss.client.post(f"/dashboard/webhooks/{sub}/replay?status=dead", data={"csrf": boss.csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/webhooks?status=dead&replayed=1"

    async def delivered() -> bool:
        return (await counts(desk, sub))["delivered"] == 1

    await until(delivered, "the replayed delivery to succeed")
    arrived = receiver.delivered()
    assert len(arrived) == 1
    assert arrived[0].verified
    assert arrived[0].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
    result = (await boss.get(response.headers["location"])).text
    assert "Queued for sending again: 1." in result
    log = (await boss.get("/dashboard/webhooks")).text
    assert '<td class="num" data-code>200</td>' in row_of(log, "delivered")
    assert 'data-delivery-status="replayed"' in log
    assert 'data-delivery-status="dead"' not in log


async def test_replay_of_one_chosen_event_from_the_page(desk: Desk, receiver: Receiver, answer: dict[str, int]) -> None:
    sub, _message = await dead_letter(desk, receiver)
    answer["code"] = 204
    event = int(receiver.received[0].headers["webhook-id"].removeprefix("evt_"))
    boss = await desk.sign_in("boss")
    response = await boss.post(f"/dashboard/webhooks/{sub}/replay", {"event_id": f"evt_{event}"}, htmx=False)
    assert response.headers["location"] == "/dashboard/webhooks?replayed=1"

    async def delivered() -> bool:
        return (await counts(desk, sub))["delivered"] == 1

    await until(delivered, "the chosen event to arrive")
    assert receiver.delivered()[0].json["id"] == f"evt_{event}"
    # The event was replayed by id: the dead letter itself stays on the list.
    assert (await counts(desk, sub))["dead"] == 1


async def test_replay_of_an_unknown_event_shows_why_on_the_page(desk: Desk, receiver: Receiver) -> None:
    sub = await subscribe(desk, receiver)
    boss = await desk.sign_in("boss")
    response = await boss.post(f"/dashboard/webhooks/{sub}/replay", {"event_id": "999999"}, htmx=False)
    assert response.status_code == 404
    assert "events not found" in response.text


async def test_replay_needs_the_csrf_token(desk: Desk, receiver: Receiver, answer: dict[str, int]) -> None:
    sub, _message = await dead_letter(desk, receiver)
    answer["code"] = 200
    boss = await desk.sign_in("boss")
    refused = await boss.client.post(f"/dashboard/webhooks/{sub}/replay", data={})
    assert refused.status_code == 403
    forged = await boss.client.post(f"/dashboard/webhooks/{sub}/replay", data={"csrf": "0" * 64})
    assert forged.status_code == 403
    after = await counts(desk, sub)
    assert (after["dead"], after["pending"], after["delivered"]) == (1, 0, 0)
    assert receiver.delivered() == []


async def test_a_410_disables_the_subscription_and_the_page_re_enables_it(
    desk: Desk, receiver: Receiver, answer: dict[str, int]
) -> None:
    answer["code"] = 410
    sub = await subscribe(desk, receiver)
    await desk.api_reply(PHONE, "hello", operator=None)

    async def disabled() -> bool:
        return (await counts(desk, sub))["dead"] == 1

    await until(disabled, "the 410 to dead-letter the delivery")
    boss = await desk.sign_in("boss")
    page = (await boss.get("/dashboard/webhooks")).text
    assert f'data-subscription="{sub}" data-status="disabled"' in page
    assert "410" in page
    assert f'action="/dashboard/webhooks/{sub}/replay' not in page  # a disabled one cannot be replayed
    enabled = await boss.post(f"/dashboard/webhooks/{sub}/enable", htmx=False)
    assert enabled.status_code == 303
    assert f'data-subscription="{sub}" data-status="active"' in (await boss.get("/dashboard/webhooks")).text


async def test_the_operations_page_and_the_menu_link_admins_to_the_log(desk: Desk) -> None:
    boss = await desk.sign_in("boss")
    operations = (await boss.get("/dashboard/operations")).text
    assert operations.count('href="/dashboard/webhooks"') == 2
    assert "/docs#/webhooks" not in operations
