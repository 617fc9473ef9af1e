"""Fixtures for the dashboard tests: a gateway with the dashboard plug-in, a FakeClock, users.

``desk`` runs on both dialects (``db_url``) with the dispatcher off and one ``memory``
channel named ``main``. ``Desk.sign_in`` returns an httpx client holding a real session
cookie and the page's CSRF token, signed in through the real sign-in form.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings, running_app
from wagate.app import Plugin
from wagate.channels.registry import ChannelRegistry
from wagate.clock import FakeClock
from wagate.dashboard.plugin import dashboard_plugin
from wagate.domain.records import Tenant
from wagate.runtime import Runtime
from wagate.services import users as user_service
from wagate.services.inbound import InboundResult, record_inbound
from wagate.store.repos import tenants as tenant_repo

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'X-CSRF-Token": "([0-9a-f]+)"')
LOGIN_TOKEN_RE = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Desk:
    app: FastAPI
    rt: Runtime
    client: httpx.AsyncClient
    clock: FakeClock
    sessions: list[httpx.AsyncClient] = field(default_factory=list)
    _provider_ids: int = 0

    async def tenant(self, name: str = "default") -> Tenant:
        now = self.rt.clock.now()
        return await self.rt.db.write(lambda c: tenant_repo.ensure_tenant(c, name, "RU", now))

    async def user(self, login: str, role: str = "operator", tenant: str = "default", **extra: Any) -> int:
        owner = await self.tenant(tenant)
        user = await user_service.create_user(
            self.rt, owner.id, {"login": login, "password": PASSWORD, "role": role, **extra}
        )
        return user.id

    async def inbound(self, phone: str, text: str = "hello", channel: str = "main", **payload: Any) -> InboundResult:
        tenant = await self.tenant()
        row = (await self.rt.channels_of(tenant.id, fresh=True))[channel]
        self._provider_ids += 1
        return await record_inbound(
            self.rt,
            row,
            phone=phone,
            type=payload.pop("type", "text"),
            payload={"text": text, **payload},
            provider_id=f"in-{self._provider_ids}",
        )

    async def api_reply(self, phone: str, text: str, operator: str | None) -> int:
        body: dict[str, Any] = {"to": phone, "text": text, "channel": "main"}
        if operator is not None:
            body["operator"] = operator
        response = await self.client.post("/v1/messages", json=body)
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    def browser(self, base_url: str = "http://wagate.test") -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=base_url)
        self.sessions.append(client)
        return client

    async def sign_in(self, login: str, password: str = PASSWORD) -> Session:
        client = self.browser()
        page = await client.get("/dashboard/login")
        token = LOGIN_TOKEN_RE.search(page.text)
        assert token is not None, page.text
        response = await client.post(
            "/dashboard/login", data={"login": login, "password": password, "csrf": token.group(1), "next": "/"}
        )
        assert response.status_code == 303, response.text
        home = await client.get("/")
        csrf = CSRF_RE.search(home.text)
        assert csrf is not None, home.text
        return Session(client, csrf.group(1))


@dataclass
class Session:
    """A signed-in browser: its client (with the session cookie) and the pages' CSRF token."""

    client: httpx.AsyncClient
    csrf: str

    async def post(self, url: str, data: dict[str, Any] | None = None, htmx: bool = True) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf}
        if htmx:
            headers["HX-Request"] = "true"
        return await self.client.post(url, data=data or {}, headers=headers)

    async def get(self, url: str, htmx: bool = False) -> httpx.Response:
        """A page (``htmx=False``) or a fragment the way htmx fetches it (``HX-Request: true``)."""
        return await self.client.get(url, headers={"HX-Request": "true"} if htmx else None)


@asynccontextmanager
async def open_desk(
    db_url: str,
    tmp_path: Path,
    *,
    plugins: list[Plugin] | None = None,
    registry: ChannelRegistry | None = None,
    **overrides: Any,
) -> AsyncIterator[Desk]:
    clock = FakeClock()
    settings = make_settings(db_url, tmp_path, dispatcher=False, **overrides)
    everything = [dashboard_plugin, *(plugins or [])]
    async with running_app(settings, clock=clock, registry=registry, plugins=everything) as (app, rt, client):
        response = await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        assert response.status_code == 201, response.text
        desk = Desk(app, rt, client, clock)
        try:
            yield desk
        finally:
            for session in desk.sessions:
                await session.aclose()


@pytest.fixture
async def desk(db_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(db_url, tmp_path) as opened:
        yield opened


@pytest.fixture
async def desk_sqlite(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    """The same desk on SQLite only: for page and session behaviour, which no SQL dialect changes."""
    async with open_desk(sqlite_url, tmp_path) as opened:
        yield opened
