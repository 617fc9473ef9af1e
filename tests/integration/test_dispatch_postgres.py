"""Concurrency and cross-process wake-ups on PostgreSQL (``FOR UPDATE SKIP LOCKED``, ``LISTEN/NOTIFY``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import make_settings, running_app
from tests.integration.dispatch_support import dispatch_registry
from wagate.channels.memory import MemoryChannel
from wagate.dispatch.dispatcher import Dispatcher
from wagate.dispatch.wakeups import PgWakeupRelay
from wagate.runtime import Runtime
from wagate.store.repos import channels as channel_repo
from wagate.store.tables import message_status_history, messages

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres]
UNPACED = {"per_second": 100000, "recipient_interval_s": 0}


async def enqueue(client: Any, n: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, n, 1000):
        items = [{"to": str(79000000000 + i), "text": f"m{i}"} for i in range(start, min(n, start + 1000))]
        response = await client.post("/v1/messages", json={"messages": items})
        assert response.status_code == 202
        ids += [r["id"] for r in response.json()["results"]]
    return ids


async def wait_all_final(rt: Runtime, timeout: float) -> None:
    query = sa.select(sa.func.count()).select_from(messages).where(messages.c.status.in_(["queued", "sending"]))
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await rt.db.read(lambda c: c.execute(query).scalar_one()) == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("messages still queued or sending")


async def memory_of(rt: Runtime) -> MemoryChannel:
    [row] = await rt.db.read(channel_repo.list_channels)
    instance = await rt.channel_instance(row)
    assert isinstance(instance, MemoryChannel)
    return instance


async def claims_per_message(rt: Runtime) -> Counter[int]:
    query = sa.select(message_status_history.c.message_id).where(
        message_status_history.c.status == "sending", message_status_history.c.applied.is_(True)
    )
    return Counter(r.message_id for r in await rt.db.read(lambda c: list(c.execute(query))))


async def test_eight_dispatcher_tasks_send_5000_messages_each_exactly_once(pg_db_url: str, tmp_path: Path) -> None:
    settings = make_settings(pg_db_url, tmp_path, dispatcher=True, dispatcher_workers=8)
    async with running_app(settings, registry=dispatch_registry()) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": UNPACED})
        await client.patch("/v1/channels/main", json={"status": "paused"})  # queue everything first …
        ids = await enqueue(client, 5000)
        await client.patch("/v1/channels/main", json={"status": "active"})  # … then let 8 tasks race for it
        await wait_all_final(rt, timeout=240)
        memory = await memory_of(rt)
        assert sorted(memory.counts) == sorted(ids)
        assert set(memory.counts.values()) == {1}
        assert set((await claims_per_message(rt)).values()) == {1}


async def test_two_nodes_on_one_database_never_send_a_message_twice(pg_db_url: str, tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        nodes = []
        for i in range(2):
            settings = make_settings(pg_db_url, tmp_path / f"n{i}", dispatcher=True, dispatcher_workers=3)
            nodes.append(await stack.enter_async_context(running_app(settings, registry=dispatch_registry())))
        (_a, rt_a, client_a), (_b, rt_b, _client_b) = nodes
        await client_a.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": UNPACED})
        await client_a.patch("/v1/channels/main", json={"status": "paused"})
        ids = await enqueue(client_a, 2000)
        await client_a.patch("/v1/channels/main", json={"status": "active"})
        await wait_all_final(rt_a, timeout=240)
        counts = (await memory_of(rt_a)).counts + (await memory_of(rt_b)).counts
        assert sorted(counts) == sorted(ids)
        assert set(counts.values()) == {1}


async def test_a_message_accepted_by_another_process_wakes_this_dispatcher_via_notify(
    pg_db_url: str, tmp_path: Path
) -> None:
    worker = make_settings(pg_db_url, tmp_path / "worker", dispatcher=True, dispatcher_workers=1)
    front = make_settings(pg_db_url, tmp_path / "front", dispatcher=False)
    async with (
        running_app(worker, registry=dispatch_registry()) as (_w, rt_worker, _cw),
        running_app(front, registry=dispatch_registry()) as (_f, _rt_front, client),
    ):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": UNPACED})
        await asyncio.sleep(0.3)
        assert rt_worker.components.get(Dispatcher).next_wake() is None  # idle, no timer to poll with
        mid = (await client.post("/v1/messages", json={"to": "79001234567", "text": "hi"})).json()["id"]
        deadline = asyncio.get_running_loop().time() + 5
        while (await client.get(f"/v1/messages/{mid}")).json()["status"] != "sent":
            assert asyncio.get_running_loop().time() < deadline, "not woken"
            await asyncio.sleep(0.02)
        assert rt_worker.components.get(PgWakeupRelay).received >= 1
        assert [m.id for m in (await memory_of(rt_worker)).sent] == [mid]
