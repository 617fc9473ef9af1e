"""The same inbound message delivered several times at once is stored once (both dialects).

Providers re-deliver webhooks, and a device may post one notification twice: the copies can
race in separate transactions on PostgreSQL. Every caller must get the same id back, with one
row, one history entry and one ``message.received`` event — and no error.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import sqlalchemy as sa

from wagate.runtime import Runtime
from wagate.services.inbound import record_inbound
from wagate.store.tables import events, message_status_history, messages

pytestmark = pytest.mark.asyncio


async def test_concurrent_copies_of_one_inbound_message_store_one(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, _client = gateway
    tenant_id = 1
    channel = (await rt.channels_of(tenant_id, fresh=True))["main"]

    async def deliver() -> tuple[int, bool]:
        result = await record_inbound(
            rt, channel, phone="79001234567", type="text", payload={"text": "hi"}, provider_id="wamid.RACE"
        )
        return result.message_id, result.created

    results = await asyncio.gather(*(deliver() for _ in range(8)))
    assert len({message_id for message_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1

    def counts(conn: sa.Connection) -> tuple[int, int, int]:
        def count(table: sa.Table) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

        return count(messages), count(message_status_history), count(events)

    assert await rt.db.read(counts) == (1, 1, 1)


async def test_an_inbound_message_says_a_customer_wrote_it(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    channel = (await rt.channels_of(1, fresh=True))["main"]
    result = await record_inbound(
        rt, channel, phone="79001234567", type="text", payload={"text": "hi"}, provider_id="wamid.ORIGIN"
    )
    message = (await client.get(f"/v1/messages/{result.message_id}")).json()
    assert message["direction"] == "in"
    assert message["origin"] == "customer"
