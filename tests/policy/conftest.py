"""Fixtures for the policy tests: a gateway on each dialect with a FakeClock, and two doors.

``door`` is parametrized: ``v1`` posts to the native API over ASGI; ``service`` calls the
shared accept path (``services.messages.accept_messages``) directly with ``origin="devino"``,
the way every compatibility door does — so each rule is proven door-agnostic, and the
WAMM-/Devino-style doors inherit it by construction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings, running_app
from wagate.clock import FakeClock
from wagate.domain.messages import OutboundDraft
from wagate.domain.records import Tenant
from wagate.errors import WagateError
from wagate.runtime import Runtime
from wagate.services.inbound import InboundResult, record_inbound
from wagate.services.messages import Accepted, Outcome, accept_messages
from wagate.store.repos import tenants as tenant_repo

#: Every rule on, as a production cloud channel would have it (plus a duplicate guard, which the
#: compatibility doors' messages meet only when ``compat_duplicate_window_s`` switches it on).
STRICT = {"service_window": True, "consent": "enforce", "duplicate_window_s": 300, "compat_duplicate_window_s": 300}


@dataclass
class Gateway:
    app: FastAPI
    rt: Runtime
    client: httpx.AsyncClient
    clock: FakeClock
    inbound_ids: list[int] = dataclasses.field(default_factory=list)

    async def client_as(self, role: str) -> httpx.AsyncClient:
        """A client with a fresh token of ``role`` (``api``, ``operator``, ``admin``)."""
        token = f"test-{role}-token"
        now = self.rt.clock.now()
        tenant = await self.tenant()
        await self.rt.db.write(lambda c: tenant_repo.store_token(c, tenant.id, role, role, token, now))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://wagate.test",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def tenant(self) -> Tenant:
        tenant = await self.rt.db.read(lambda c: tenant_repo.get_tenant_by_name(c, "default"))
        assert tenant is not None
        return tenant

    async def set_policy(self, channel: str = "main", **policy: Any) -> None:
        response = await self.client.patch(f"/v1/channels/{channel}", json={"policy": policy})
        assert response.status_code == 200, response.text

    async def inbound(self, phone: str, text: str = "hello", channel: str = "main") -> InboundResult:
        tenant = await self.tenant()
        row = (await self.rt.channels_of(tenant.id, fresh=True))[channel]
        result = await record_inbound(
            self.rt,
            row,
            phone=phone,
            type="text",
            payload={"text": text},
            provider_id=f"in-{len(self.inbound_ids)}-{phone}",
        )
        self.inbound_ids.append(result.message_id)
        return result

    async def template(self, name: str = "order_ready", **fields: Any) -> dict[str, Any]:
        body = {
            "name": name,
            "language": "ru",
            "category": "utility",
            "body": "Заказ {{1}} готов, *забрать* до {{2}}",
            "status": "approved",
            **fields,
        }
        response = await self.client.post("/v1/templates", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def consent(self, phone: str, *scopes: str) -> None:
        response = await self.client.post(
            "/v1/consents", json={"phone": phone, "source": "web_form", "scopes": list(scopes)}
        )
        assert response.status_code in (200, 201), response.text


@pytest.fixture
async def gw(db_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    """Dispatcher off, one ``memory`` channel ``main`` with STRICT policy, time frozen."""
    clock = FakeClock()
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(settings, clock=clock) as (app, rt, client):
        response = await client.post("/v1/channels", json={"name": "main", "kind": "memory", "policy": STRICT})
        assert response.status_code == 201, response.text
        yield Gateway(app, rt, client, clock)


@dataclass
class Sent:
    """What a door answered, in one shape for both doors."""

    id: int | None
    code: str | None = None
    field: str | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.id is not None


Door = Callable[[dict[str, Any]], Awaitable[Sent]]


def _render(outcomes: list[Outcome]) -> tuple[int, Any]:
    return 200, outcomes


@pytest.fixture(params=["v1", "service"])
def door(request: pytest.FixtureRequest, gw: Gateway) -> Door:
    async def via_v1(body: dict[str, Any]) -> Sent:
        response = await gw.client.post("/v1/messages", json=body)
        data = response.json()
        if response.status_code == 202:
            return Sent(id=data["id"], warnings=[w["code"] for w in data.get("warnings", [])])
        assert response.status_code == 422, response.text
        return Sent(id=None, code=data["error"]["code"], field=data["error"]["field"])

    async def via_service(body: dict[str, Any]) -> Sent:
        draft = OutboundDraft(
            to=body["to"],
            type=body.get("type", "text"),
            channel=body.get("channel"),
            text=body.get("text"),
            template=body.get("template"),
            origin="devino",
        )
        _status, outcomes = await accept_messages(gw.rt, await gw.tenant(), [draft], render=_render)
        outcome = outcomes[0]
        if isinstance(outcome, Accepted):
            return Sent(id=outcome.id, warnings=[w.code for w in outcome.warnings])
        assert isinstance(outcome, WagateError)
        return Sent(id=None, code=outcome.code, field=outcome.field)

    return via_v1 if request.param == "v1" else via_service


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Both doors on SQLite, the native door on PostgreSQL: the door does not change the SQL, the
    dialect does, so the fourth combination would only repeat the third (and cost a database)."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        values = params.params if params is not None else {}
        (drop if values.get("db_url") == "postgres" and values.get("door") == "service" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
