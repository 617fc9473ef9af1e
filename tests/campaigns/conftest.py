"""Fixtures for campaign tests: a gateway on each dialect with a FakeClock, a memory channel,
an approved two-parameter template, and the campaign runner installed without its loop (tests
call ``runner.step`` and ``dispatcher.run_once`` themselves, so every step is deterministic)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import make_settings, running_app
from wagate.api.v1.recurring import recurring_plugin
from wagate.channels.memory import MemoryChannel
from wagate.clock import FakeClock
from wagate.dispatch.campaigns import CampaignRunner, campaigns_plugin
from wagate.dispatch.dispatcher import Dispatcher
from wagate.runtime import Runtime
from wagate.store.repos import tenants as tenant_repo
from wagate.store.repos.tenants import Tenant
from wagate.store.tables import messages

#: 2026-01-01 12:00 UTC is 15:00 in Moscow.
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Campaigns:
    rt: Runtime
    client: httpx.AsyncClient
    clock: FakeClock

    @property
    def runner(self) -> CampaignRunner:
        runner: CampaignRunner = self.rt.extras["campaign_runner"]
        return runner

    async def tenant(self) -> Tenant:
        tenant = await self.rt.db.read(lambda c: tenant_repo.get_tenant_by_name(c, "default"))
        assert tenant is not None
        return tenant

    async def create(
        self, csv: str | bytes, *, template: str = "notice", expect: int = 201, **fields: Any
    ) -> dict[str, Any]:
        """Upload ``csv`` as a file (multipart), like the CLI does."""
        data = {"template": template, **{k: str(v) for k, v in fields.items()}}
        content = csv.encode() if isinstance(csv, str) else csv
        response = await self.client.post(
            "/v1/campaigns", data=data, files={"file": ("clients.csv", content, "text/csv")}
        )
        assert response.status_code == expect, response.text
        body: dict[str, Any] = response.json()
        return body

    async def act(self, campaign_id: int, action: str, expect: int = 200) -> dict[str, Any]:
        response = await self.client.post(f"/v1/campaigns/{campaign_id}/{action}")
        assert response.status_code == expect, response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, campaign_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/v1/campaigns/{campaign_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def recipients(self, campaign_id: int, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get(f"/v1/campaigns/{campaign_id}/recipients", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    async def channel(self, name: str = "main") -> MemoryChannel:
        tenant = await self.tenant()
        row = (await self.rt.channels_of(tenant.id, fresh=True))[name]
        instance = await self.rt.channel_instance(row)
        assert isinstance(instance, MemoryChannel)
        return instance

    async def send_all(self) -> int:
        """Let the dispatcher send everything queued now, moving the fake clock to each paced slot
        (the channel's token bucket refills with time). Returns how many messages went out."""
        dispatcher = Dispatcher(self.rt, workers=1, batch=100)
        channels = [await self.channel(name) for name in await self._memory_channel_names()]
        before = sum(len(c.sent) for c in channels)
        for _ in range(10_000):
            if await dispatcher.run_once():
                continue
            wake = dispatcher.next_wake()
            if wake is None or not await self._queued():
                break
            self.clock.set(max(wake, self.clock.now()))
        return sum(len(c.sent) for c in channels) - before

    async def _memory_channel_names(self) -> list[str]:
        tenant = await self.tenant()
        rows = await self.rt.channels_of(tenant.id, fresh=True)
        return [name for name, row in rows.items() if row.kind == "memory"]

    async def _queued(self) -> int:
        query = sa.select(sa.func.count()).select_from(messages).where(messages.c.status == "queued")
        return int(await self.rt.db.read(lambda c: c.execute(query).scalar_one()))

    async def opt_in(self, *phones: str, scopes: tuple[str, ...] = ("utility",)) -> None:
        for phone in phones:
            response = await self.client.post(
                "/v1/consents", json={"phone": phone, "source": "import", "scopes": list(scopes)}
            )
            assert response.status_code in (200, 201), response.text

    async def opt_out(self, *phones: str) -> None:
        for phone in phones:
            response = await self.client.delete(f"/v1/consents/{phone}")
            assert response.status_code == 200, response.text

    async def outbound(self) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/messages", params={"direction": "out", "limit": 500})
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    async def set_policy(self, channel: str = "main", **policy: Any) -> None:
        response = await self.client.patch(f"/v1/channels/{channel}", json={"policy": policy})
        assert response.status_code == 200, response.text


@pytest.fixture
async def campaigns(db_url: str, tmp_path: Path) -> AsyncIterator[Campaigns]:
    clock = FakeClock(START)
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(
        settings, clock=clock, plugins=[campaigns_plugin(background=False), recurring_plugin(background=False)]
    ) as (_app, rt, client):
        response = await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        assert response.status_code == 201, response.text
        response = await client.post(
            "/v1/templates",
            json={
                "name": "notice",
                "language": "en",
                "category": "utility",
                "body": "Hello {{1}}, your order {{2}} is ready",
                "status": "approved",
            },
        )
        assert response.status_code == 201, response.text
        yield Campaigns(rt, client, clock)
