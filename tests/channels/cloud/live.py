"""A gateway served by uvicorn on a real TCP port in the test's own event loop.

The in-process sandbox needs it: the cloud channel reaches its simulator, and the
simulator's webhooks reach the channel's receiver, over HTTP on the node's own address.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.conftest import ADMIN_TOKEN
from wagate.app import Plugin, create_app
from wagate.channels.cloud.receiver import PendingStatusSweeper
from wagate.channels.registry import ChannelRegistry, memory_kind
from wagate.config import Settings
from wagate.node import node_registry
from wagate.runtime import Runtime
from wagate.sandbox.config import SimulatorOptions
from wagate.sandbox.plugin import sandbox_plugin
from wagate.sandbox.simulator import Simulator

FAST = SimulatorOptions(delays="0.05,0.05,0.05")
TERMINAL = {"read", "failed", "expired", "cancelled", "unknown"}


def cloud_registry() -> ChannelRegistry:
    registry = node_registry()
    registry.add(memory_kind)
    return registry


def sandbox_plugins(options: SimulatorOptions = FAST) -> list[Plugin]:
    return [sandbox_plugin(options)]


@dataclass
class Live:
    url: str
    app: FastAPI
    rt: Runtime
    client: httpx.AsyncClient

    @property
    def sim(self) -> Simulator:
        sim: Simulator = self.rt.components.get(Simulator)
        return sim

    async def send(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post("/v1/messages", json=body)
        assert response.status_code == 202, response.text
        data: dict[str, Any] = response.json()
        return data

    async def message(self, message_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def wait(
        self, message_id: int, until: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 15.0
    ) -> dict[str, Any]:
        """Poll until the message satisfies ``until`` (default: reached a final status)."""
        check = until or (lambda m: m["status"] in TERMINAL)
        deadline = time.monotonic() + timeout
        while True:
            message = await self.message(message_id)
            if check(message):
                return message
            if time.monotonic() > deadline:
                raise AssertionError(f"message {message_id} stuck: {message}")
            await asyncio.sleep(0.05)

    async def inbound(self) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/messages", params={"direction": "in"})
        assert response.status_code == 200
        data: list[dict[str, Any]] = response.json()["data"]
        return data


@asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1:``port`` inside the running loop; yields its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("server stopped during start-up")
            if time.monotonic() > deadline:
                raise AssertionError("server did not start")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def live_gateway(
    settings: Settings, *, plugins: list[Plugin] | None = None, registry: ChannelRegistry | None = None
) -> AsyncIterator[Live]:
    app = create_app(settings, registry=registry or cloud_registry(), migrate=False, plugins=plugins)
    async with (
        serve(app, settings.port) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30) as client,
    ):
        yield Live(url, app, app.state.runtime, client)


def sweeper_of(rt: Runtime) -> PendingStatusSweeper:
    """The node's sweeper of statuses that arrived before their message (a cloud kind service)."""
    return next(s for s in rt.kind_services if isinstance(s, PendingStatusSweeper))
