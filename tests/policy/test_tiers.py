"""Cloud API messaging tiers: unique clients reached by business-initiated templates per rolling 24 h."""

from __future__ import annotations

import asyncio

import pytest

from tests.policy.conftest import Door, Gateway

pytestmark = pytest.mark.asyncio


def phone(i: int) -> str:
    return f"7900{i:07d}"


def template_to(number: str, ref: str = "x") -> dict[str, object]:
    return {"to": number, "type": "template", "template": {"name": "notice", "language": "en", "params": [ref]}}


async def setup(gw: Gateway, limit: int = 250, channel: str = "main", group: str | None = None) -> None:
    await gw.set_policy(channel, consent="off", messaging_limit=limit, limit_group=group)
    existing = (await gw.client.get("/v1/templates", params={"name": "notice"})).json()["data"]
    if not existing:
        await gw.template(name="notice", language="en", body="Notice {{1}}")


async def send_batch(gw: Gateway, numbers: list[str], ref: str = "x", channel: str = "main") -> list[str | None]:
    items = [{**template_to(n, ref), "channel": channel} for n in numbers]
    body = (await gw.client.post("/v1/messages", json={"messages": items})).json()
    return [r["error"]["code"] if "error" in r else None for r in body["results"]]


async def test_tier_counts_unique_clients_not_messages(gw: Gateway, door: Door) -> None:
    await setup(gw)
    assert await send_batch(gw, [phone(i) for i in range(250)]) == [None] * 250
    # The same clients again (another text, so not a duplicate): no new unique client.
    assert (await door(template_to(phone(7), "again"))).ok
    refused = await door(template_to(phone(250)))
    assert (refused.code, refused.field) == ("tier_limit_exceeded", "to")
    usage = (await gw.client.get("/v1/policy")).json()["usage"]["tiers"]["main"]
    assert usage == {"group": "main", "messaging_limit": 250, "reached_24h": 250}


async def test_clients_inside_their_window_do_not_count(gw: Gateway, door: Door) -> None:
    await setup(gw)
    await send_batch(gw, [phone(i) for i in range(250)])
    await gw.inbound(phone(999))
    assert (await door(template_to(phone(999)))).ok


async def test_the_window_is_rolling(gw: Gateway, door: Door) -> None:
    await setup(gw)
    assert await send_batch(gw, [phone(i) for i in range(100)]) == [None] * 100
    gw.clock.advance(12 * 3600)
    assert await send_batch(gw, [phone(i) for i in range(100, 250)]) == [None] * 150
    gw.clock.advance(12 * 3600 - 1)  # a second short of 24 h after the first 100: they still count
    assert (await door(template_to(phone(300)))).code == "tier_limit_exceeded"
    gw.clock.advance(1)  # 24 h: the first 100 leave the window; the 150 stay
    codes = await send_batch(gw, [phone(i) for i in range(300, 401)])
    assert codes == [None] * 100 + ["tier_limit_exceeded"]


async def test_a_reached_client_is_reached_again_when_written_to_again(gw: Gateway, door: Door) -> None:
    await setup(gw)
    await send_batch(gw, [phone(i) for i in range(250)])
    gw.clock.advance(20 * 3600)
    assert (await door(template_to(phone(0), "refresh"))).ok  # phone 0 now counts from here
    gw.clock.advance(5 * 3600)  # 25 h after the batch: 249 left, phone 0 stays
    assert await send_batch(gw, [phone(i) for i in range(1000, 1250)]) == [None] * 249 + ["tier_limit_exceeded"]


async def test_channels_in_one_limit_group_share_the_count(gw: Gateway) -> None:
    created = await gw.client.post("/v1/channels", json={"name": "second", "kind": "memory"})
    assert created.status_code == 201
    await setup(gw, group="portfolio")
    await setup(gw, channel="second", group="portfolio")
    assert await send_batch(gw, [phone(i) for i in range(200)]) == [None] * 200
    codes = await send_batch(gw, [phone(i) for i in range(200, 251)], channel="second")
    assert codes == [None] * 50 + ["tier_limit_exceeded"]


async def test_unlimited_tier_never_refuses(gw: Gateway) -> None:
    await setup(gw)
    await gw.set_policy(messaging_limit=None)
    assert await send_batch(gw, [phone(i) for i in range(300)]) == [None] * 300


async def test_messaging_limit_must_be_a_meta_tier(gw: Gateway) -> None:
    response = await gw.client.patch("/v1/channels/main", json={"policy": {"messaging_limit": 300}})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "policy.messaging_limit"


async def test_concurrent_requests_cannot_overshoot_the_tier(gw: Gateway) -> None:
    await setup(gw)
    assert await send_batch(gw, [phone(i) for i in range(240)]) == [None] * 240
    answers = await asyncio.gather(
        *(gw.client.post("/v1/messages", json=template_to(phone(1000 + i))) for i in range(30))
    )
    assert sorted(r.status_code for r in answers) == [202] * 10 + [422] * 20
    assert (await gw.client.get("/v1/policy")).json()["usage"]["tiers"]["main"]["reached_24h"] == 250
