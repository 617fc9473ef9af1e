"""A gateway with the webhooks plug-in on each dialect, short retry schedules, helpers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings, running_app
from wagate.domain.statuses import Status
from wagate.runtime import Runtime
from wagate.store.repos.messages import apply_status
from wagate.webhooks.plugin import WebhookNode, webhooks_plugin

FAST = {
    "dispatcher": False,
    "webhook_retry_schedule": [0.05, 0.1, 0.2],
    "webhook_retry_jitter": 0.0,
    "webhook_timeout_seconds": 2.0,
}


@dataclass
class Hooks:
    app: FastAPI
    rt: Runtime
    client: httpx.AsyncClient

    @property
    def node(self) -> WebhookNode:
        node: WebhookNode = self.rt.components.get(WebhookNode)
        return node

    async def subscribe(self, url: str, events: list[str] | None = None, fmt: str = "native") -> tuple[int, str]:
        response = await self.client.post(
            "/v1/webhooks", json={"url": url, "events": events or ["message.status"], "format": fmt}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return int(body["id"]), str(body["secret"])

    async def send(self, **fields: Any) -> int:
        body = {"to": "79001234567", "text": "hello", **fields}
        response = await self.client.post("/v1/messages", json=body)
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    async def advance(self, message_id: int, *statuses: str, error_code: str | None = None) -> None:
        for status in statuses:
            now = self.rt.clock.now()
            await self.rt.db.write(
                lambda c, s=status, at=now: apply_status(
                    c, message_id, Status(s), now=at, reason="test", error_code=error_code if s == "failed" else None
                )
            )


async def eventually(check: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def hook_settings() -> dict[str, Any]:
    return dict(FAST)


@pytest.fixture
async def hooks(db_url: str, tmp_path: Path, hook_settings: dict[str, Any]) -> AsyncIterator[Hooks]:
    settings = make_settings(db_url, tmp_path, **hook_settings)
    async with running_app(settings, plugins=[webhooks_plugin]) as (app, rt, client):
        response = await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        assert response.status_code == 201, response.text
        yield Hooks(app, rt, client)
