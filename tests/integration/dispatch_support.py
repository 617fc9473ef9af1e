"""Helpers for dispatcher tests: a node on a fake clock, driven step by step."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import sqlalchemy as sa

from tests.conftest import make_settings, running_app, test_registry
from wagate.channels.base import ChannelConfig
from wagate.channels.kind import Capabilities
from wagate.channels.memory import MemoryChannel
from wagate.channels.registry import ChannelRegistry
from wagate.clock import FakeClock
from wagate.dispatch.dispatcher import Dispatcher
from wagate.domain.records import ChannelRow
from wagate.runtime import Runtime
from wagate.store.dispatch_tables import channel_sends
from wagate.store.repos import channels as channel_repo
from wagate.store.tables import messages

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ResendSafeMemoryChannel(MemoryChannel):
    """A memory channel that declares re-sending safe, like the device protocol."""

    kind: ClassVar[str] = "memsafe"


class PullMemoryChannel(MemoryChannel):
    """A memory channel whose messages are pulled (like the device), never pushed."""

    kind: ClassVar[str] = "mempull"


def dispatch_registry() -> ChannelRegistry:
    registry = test_registry()
    registry.register(
        "memsafe", lambda config, _b: ResendSafeMemoryChannel(config), capabilities=Capabilities(resend_safe=True)
    )
    registry.register("mempull", lambda config, _b: PullMemoryChannel(config), capabilities=Capabilities(push=False))
    return registry


@dataclass
class Node:
    rt: Runtime
    client: httpx.AsyncClient
    clock: FakeClock
    dispatcher: Dispatcher

    async def channel(self, name: str) -> ChannelRow:
        rows = await self.rt.db.read(channel_repo.list_channels)
        return next(r for r in rows if r.name == name)

    async def memory(self, name: str) -> MemoryChannel:
        instance = await self.rt.channel_instance(await self.channel(name))
        assert isinstance(instance, MemoryChannel)
        return instance

    async def create_channel(self, name: str, kind: str = "memory", **body: Any) -> None:
        # Test kinds have no policy defaults of their own (they would get cloud's): these tests are
        # about the dispatcher, so the rules are off unless a test says otherwise.
        body.setdefault("policy", {"service_window": False, "consent": "off", "duplicate_window_s": 0})
        response = await self.client.post("/v1/channels", json={"name": name, "kind": kind, **body})
        assert response.status_code == 201, response.text

    async def send(self, phones: list[str], channel: str = "main", **extra: Any) -> list[int]:
        items = [{"to": p, "text": f"m{i}", "channel": channel, **extra} for i, p in enumerate(phones)]
        response = await self.client.post("/v1/messages", json={"messages": items})
        assert response.status_code == 202, response.text
        return [r["id"] for r in response.json()["results"]]

    async def drain(self, until: datetime | None = None, max_steps: int = 100_000) -> None:
        """Run the dispatcher, jumping the fake clock to each next slot, until nothing is left
        (or the next slot is after ``until``)."""
        for _ in range(max_steps):
            if await self.dispatcher.run_once():
                continue
            if not await self.queued():
                return
            wake = self.dispatcher.next_wake()
            if wake is None or (until is not None and wake > until):
                return
            self.clock.set(max(wake, self.clock.now()))
        raise AssertionError("the dispatcher did not settle")

    async def queued(self) -> int:
        query = sa.select(sa.func.count()).select_from(messages).where(messages.c.status == "queued")
        return int(await self.rt.db.read(lambda c: c.execute(query).scalar_one()))

    async def send_times(self, channel: str = "main") -> list[datetime]:
        row = await self.channel(channel)
        return list(
            await self.rt.db.read(
                lambda c: [
                    r.at
                    for r in c.execute(
                        sa.select(channel_sends.c.at)
                        .where(channel_sends.c.channel_id == row.id)
                        .order_by(channel_sends.c.at, channel_sends.c.id)
                    )
                ]
            )
        )

    async def statuses(self, ids: list[int]) -> dict[int, str]:
        return dict(
            await self.rt.db.read(
                lambda c: [
                    tuple(r)
                    for r in c.execute(sa.select(messages.c.id, messages.c.status).where(messages.c.id.in_(ids)))
                ]
            )
        )

    async def message(self, message_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def fake_clock_node(
    db_url: str, tmp_path: Path, clock: FakeClock | None = None, **settings: Any
) -> AsyncIterator[Node]:
    """A node with the dispatcher not running on its own: tests call ``drain``/``run_once``."""
    clock = clock or FakeClock(START)
    config = make_settings(db_url, tmp_path, dispatcher=False, **settings)
    async with running_app(config, clock=clock, registry=dispatch_registry()) as (_app, rt, client):
        rt.pacing_rng = random.Random(11)
        yield Node(rt, client, clock, Dispatcher(rt))


def config_of(row: ChannelRow) -> ChannelConfig:
    return ChannelConfig(id=row.id, tenant_id=row.tenant_id, name=row.name, kind=row.kind, settings=row.settings)
