"""Fixtures for the compatibility doors: an app with a default channel, an API token, a fake clock.

``FakePhoneChannel`` is a real channel implementation standing in for a phone whose checks
can fail, whose answer can be "unknown" and which can be offline — the edge we cannot reach.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tests.conftest import make_settings, running_app, test_registry
from wagate.channels.base import READY, Channel, ChannelConfig, PhonePresence, Readiness
from wagate.channels.memory import MemoryChannel
from wagate.channels.registry import ChannelRegistry
from wagate.clock import FakeClock
from wagate.errors import ChannelError
from wagate.runtime import Runtime
from wagate.store.repos import tenants as tenant_repo

API_TOKEN = "wg_compat-test-token-0123456789"
START = datetime(2026, 1, 24, 16, 52, 0, tzinfo=UTC)  # 19:52:00 in Moscow, as in the seed's example


class FakePhoneChannel(MemoryChannel):
    """A memory channel whose phone check and connection are set by its settings:
    ``check`` = ``error`` (the check raises), ``unknown`` (cannot tell) or absent (the memory
    rule: numbers ending in 0000 have no WhatsApp); ``online`` = false, ``unreachable`` or ``crash``."""

    kind: ClassVar[str] = "fakephone"

    async def check_phone(self, phone: str) -> PhonePresence:
        mode = self.config.settings.get("check")
        if mode == "error":
            raise ChannelError("the phone did not answer", code="phone_unreachable")
        if mode == "unknown":
            return "unknown"
        return await super().check_phone(phone)

    async def can_send_now(self) -> Readiness:
        online = self.config.settings.get("online", True)
        if online == "crash":
            raise RuntimeError("the phone's connection state could not be read")
        if online == "unreachable":
            return Readiness(False, "provider_unreachable")
        return READY if online else Readiness(False, "device_offline")


def compat_registry() -> ChannelRegistry:
    registry = test_registry()

    def factory(config: ChannelConfig, _context: Any) -> Channel:
        return FakePhoneChannel(config)

    registry.register("fakephone", factory)
    return registry


@dataclass
class Compat:
    rt: Runtime
    client: httpx.AsyncClient
    clock: FakeClock
    token: str = API_TOKEN

    async def api2(self, method: str, token: str | None = None, **params: str) -> httpx.Response:
        return await self.client.get(f"/api2/{method}/{token or self.token}/", params=params)

    async def devino(self, body: Any, key: str | None = None) -> httpx.Response:
        return await self.client.post(
            "/whatsapp/messages", json=body, headers={"Authorization": f"Key {key or self.token}"}
        )

    async def channel(self, name: str, kind: str = "memory", **extra: Any) -> None:
        response = await self.client.post("/v1/channels", json={"name": name, "kind": kind, **extra})
        assert response.status_code == 201, response.text


async def _compat(db_url: str, tmp_path: Path, channel: dict[str, Any] | None) -> AsyncIterator[Compat]:
    clock = FakeClock(START)
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(settings, clock=clock, registry=compat_registry()) as (_app, rt, client):
        tenant = await rt.db.read(lambda c: tenant_repo.get_tenant_by_name(c, "default"))
        assert tenant is not None
        await rt.db.write(lambda c: tenant_repo.store_token(c, tenant.id, "crm", "api", API_TOKEN, clock.now()))
        compat = Compat(rt, client, clock)
        if channel is not None:
            await compat.channel(**channel)
        yield compat


@pytest.fixture
async def compat(db_url: str, tmp_path: Path) -> AsyncIterator[Compat]:
    """Both dialects; the default channel ``main`` is a memory channel."""
    async for value in _compat(db_url, tmp_path, {"name": "main"}):
        yield value


@pytest.fixture
async def compat_sqlite(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Compat]:
    """SQLite only, for answers that do not depend on storage (validation, error strings)."""
    async for value in _compat(sqlite_url, tmp_path, {"name": "main"}):
        yield value


@pytest.fixture
async def bare(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Compat]:
    """A tenant with a token and no channel at all."""
    async for value in _compat(sqlite_url, tmp_path, None):
        yield value
