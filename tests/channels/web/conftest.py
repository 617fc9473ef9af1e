"""A gateway with the web kind whose sessions are the fake WhatsApp (``channels.web.fake``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings, running_app
from wagate.api.v1 import analytics as analytics_api
from wagate.api.v1 import conversations as conversations_api
from wagate.channels.registry import default_registry
from wagate.channels.web import prepare_web_settings, web_factory, web_plugin
from wagate.channels.web.fake import FakeWebSession, FakeWhatsApp
from wagate.runtime import Runtime
from wagate.services import conversations

#: Pacing with every rule off, so sends in tests go at once.
FAST = {
    "per_second": 1000,
    "min_interval_s": 0,
    "max_interval_s": 0,
    "recipient_interval_s": 0,
    "new_contacts_daily_cap": None,
    "warmup_daily_caps": None,
    "unanswered_threshold": None,
}


@dataclass
class WebGateway:
    rt: Runtime
    client: httpx.AsyncClient
    world: FakeWhatsApp

    async def create(self, name: str = "wa", wait: bool = True, **body: Any) -> int:
        response = await self.client.post("/v1/channels", json={"name": name, "kind": "web", "pacing": FAST, **body})
        assert response.status_code == 201, response.text
        channel = (await self.rt.channels_of(1, fresh=True))[name]
        if wait:
            await eventually(lambda: channel.id in self.world.sessions)
        return channel.id

    async def session_json(self, name: str = "wa") -> dict[str, Any]:
        response = await self.client.get(f"/v1/channels/{name}/session")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def state(self, name: str = "wa", want: str | None = None) -> dict[str, Any]:
        """The session JSON, once its state is ``want`` (if given)."""
        if want is None:
            return await self.session_json(name)
        deadline = time.monotonic() + 15
        while True:
            data = await self.session_json(name)
            if data["state"] == want or time.monotonic() > deadline:
                assert data["state"] == want, data
                return data
            await asyncio.sleep(0.02)

    async def linked(self, name: str = "wa", phone: str = "79001110000") -> FakeWebSession:
        """A channel paired with ``phone`` and connected."""
        channel_id = await self.create(name)
        await self.state(name, "pairing")
        session = self.world.session(channel_id)
        session.pair(phone)
        await self.state(name, "connected")
        return session

    async def events(self, type: str) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/events", params={"types": type, "limit": 500})
        if response.status_code == 200:
            return [e for e in response.json()["data"] if e["type"] == type]
        from wagate.store.tables import events

        rows = await self.rt.db.read(lambda c: c.execute(events.select().order_by(events.c.id)).fetchall())
        return [{"type": r.type, "payload": r.payload} for r in rows if r.type == type]


async def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def web_registry() -> Any:
    registry = default_registry(include_memory=True)
    registry.register("web", web_factory, prepare_settings=prepare_web_settings)
    return registry


async def _conversations(rt: Runtime, app: Any) -> None:
    """Conversations and analytics as the dashboard plug-in wires them (without its pages)."""
    conversations.install(rt)
    app.include_router(conversations_api.router)
    app.include_router(analytics_api.router)


@asynccontextmanager
async def web_gateway(db_url: str, tmp_path: Path) -> AsyncIterator[WebGateway]:
    world = FakeWhatsApp()
    settings = make_settings(db_url, tmp_path)
    plugins = [_conversations, web_plugin(world.factory, renew_seconds=0.5, lease_seconds=30.0, scan_gap=0.05)]
    async with running_app(settings, registry=web_registry(), plugins=plugins) as (_app, rt, client):  # type: ignore[list-item]
        yield WebGateway(rt, client, world)


@pytest.fixture
async def web(sqlite_url: str, tmp_path: Path) -> AsyncIterator[WebGateway]:
    """On SQLite: behaviour that does not depend on the dialect (states, message shapes)."""
    async with web_gateway(sqlite_url, tmp_path) as gateway:
        yield gateway


@pytest.fixture
async def web_both(db_url: str, tmp_path: Path) -> AsyncIterator[WebGateway]:
    """On both dialects: what the web channel stores (session rows, leases, messages it writes)."""
    async with web_gateway(db_url, tmp_path) as gateway:
        yield gateway
