"""``GET /v1/events``: order, filters, tenant scope, a cursor that survives restarts; retention;
and (PostgreSQL) event ids that commit out of order are never skipped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import make_settings, running_app
from tests.webhooks.conftest import FAST, Hooks
from wagate.clock import FakeClock
from wagate.store.repos import tenants as tenant_repo
from wagate.store.tables import events
from wagate.store.webhooks_tables import webhook_deliveries
from wagate.webhooks.plugin import WebhookNode, webhooks_plugin

pytestmark = pytest.mark.asyncio


async def feed(hooks: Hooks, **params: object) -> dict[str, object]:
    await hooks.node.fanout.drain()
    response = await hooks.client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_feed_returns_every_event_in_order_with_a_forward_cursor(hooks: Hooks) -> None:
    first = await hooks.send()
    second = await hooks.send(to="79001112233")
    await hooks.advance(first, "sending", "sent")
    page = await feed(hooks, limit=2)
    data = page["data"]
    assert isinstance(data, list) and len(data) == 2 and page["has_more"] is True
    assert [e["data"]["message_id"] for e in data] == [first, second]
    rest = await feed(hooks, cursor=page["next_cursor"], limit=100)
    assert [e["data"]["status"] for e in rest["data"]] == ["sending", "sent"]  # type: ignore[index]
    assert rest["has_more"] is False
    ids = [int(e["id"][4:]) for e in data + rest["data"]]  # type: ignore[operator]
    assert ids == sorted(ids)
    empty = await feed(hooks, cursor=rest["next_cursor"])
    assert empty["data"] == [] and empty["next_cursor"] == rest["next_cursor"]


async def test_feed_filters_by_type_and_skips_ahead(hooks: Hooks) -> None:
    await hooks.send()
    only = await feed(hooks, types="message.received,channel.status")
    assert only["data"] == []
    assert int(str(only["next_cursor"])) >= 1  # nothing matched, yet the cursor moved past what was seen
    bad = await hooks.client.get("/v1/events", params={"types": "message.sent"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "types"
    assert (await hooks.client.get("/v1/events", params={"cursor": "nope"})).json()["error"]["field"] == "cursor"


async def test_feed_shows_only_the_callers_tenant(hooks: Hooks) -> None:
    now = hooks.rt.clock.now()
    other_token = tenant_repo.new_token()

    def other(conn: sa.Connection) -> None:
        tenant = tenant_repo.ensure_tenant(conn, "other", "RU", now)
        tenant_repo.store_token(conn, tenant.id, "crm", "admin", other_token, now)

    await hooks.rt.db.write(other)
    await hooks.send()
    await hooks.node.fanout.drain()
    response = await hooks.client.get("/v1/events", headers={"Authorization": f"Bearer {other_token}"})
    assert response.json()["data"] == []
    assert len((await feed(hooks))["data"]) == 1  # type: ignore[arg-type]


async def test_the_cursor_survives_a_restart(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, **FAST)
    async with running_app(settings, plugins=[webhooks_plugin]) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        await client.post("/v1/messages", json={"to": "79001234567", "text": "a"})
        await rt.components.get(WebhookNode).fanout.drain()
        cursor = (await client.get("/v1/events")).json()["next_cursor"]
    async with running_app(settings, plugins=[webhooks_plugin]) as (_app, rt, client):
        await client.post("/v1/messages", json={"to": "79001234568", "text": "b"})
        await rt.components.get(WebhookNode).fanout.drain()
        page = (await client.get("/v1/events", params={"cursor": cursor})).json()
        assert [e["data"]["phone"] for e in page["data"]] == ["79001234568"]


async def test_retention_purges_old_events_but_keeps_what_deliveries_still_need(db_url: str, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    settings = make_settings(db_url, tmp_path, **{**FAST, "webhooks": True})
    async with running_app(settings, clock=clock, plugins=[webhooks_plugin]) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        # A subscription whose endpoint refuses: its delivery stays open and keeps its event.
        await client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["message.status"]})
        await client.post("/v1/messages", json={"to": "79001234567", "text": "old"})
        node = rt.components.get(WebhookNode)
        await node.fanout.drain()
        await rt.db.write(lambda c: c.execute(webhook_deliveries.update().values(status="dead")))
        await rt.db.write(
            lambda c: c.execute(
                events.insert().values(tenant_id=1, type="consent.changed", payload={}, created_at=clock.now())
            )
        )
        await node.fanout.drain()
        clock.advance(8 * 86400)
        await client.post("/v1/messages", json={"to": "79001234568", "text": "new"})
        await node.fanout.drain()
        purged_events, _ = await node.purge_once()
        assert purged_events == 1  # the unreferenced old one
        left = (await client.get("/v1/events")).json()["data"]
        assert [e["type"] for e in left] == ["message.status", "message.status"]
        clock.advance(31 * 86400)  # dead letters expire after 30 days; then their events may go
        _events, deliveries = await node.purge_once()
        assert deliveries >= 1
        # The old event went with its dead letter; the newer one still has a delivery retrying.
        assert [e["data"]["phone"] for e in (await client.get("/v1/events")).json()["data"]] == ["79001234568"]


@pytest.mark.postgres
async def test_an_event_id_committed_late_is_not_skipped_on_postgres(pg_db_url: str, tmp_path: Path) -> None:
    settings = make_settings(pg_db_url, tmp_path, **FAST)
    async with running_app(settings, plugins=[webhooks_plugin]) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        node = rt.components.get(WebhookNode)
        now = rt.clock.now()
        async with rt.db.async_engine.connect() as held:
            transaction = await held.begin()
            await held.execute(
                events.insert().values(tenant_id=1, type="channel.status", payload={"n": 1}, created_at=now)
            )
            # A later id commits first.
            await rt.db.write(
                lambda c: c.execute(
                    events.insert().values(tenant_id=1, type="channel.status", payload={"n": 2}, created_at=now)
                )
            )
            await node.fanout.run_once()
            assert (await client.get("/v1/events")).json()["data"] == []  # held back at the gap
            await transaction.commit()
        await node.fanout.drain()
        data = (await client.get("/v1/events")).json()["data"]
        assert [e["data"]["n"] for e in data] == [1, 2]


@pytest.mark.postgres
async def test_a_rolled_back_event_id_is_passed_once_settled_on_postgres(pg_db_url: str, tmp_path: Path) -> None:
    settings = make_settings(pg_db_url, tmp_path, **FAST)
    async with running_app(settings, plugins=[webhooks_plugin]) as (_app, rt, client):
        node = rt.components.get(WebhookNode)
        now = rt.clock.now()
        async with rt.db.async_engine.connect() as held:
            transaction = await held.begin()
            await held.execute(
                events.insert().values(tenant_id=1, type="channel.status", payload={"n": 1}, created_at=now)
            )
            await rt.db.write(
                lambda c: c.execute(
                    events.insert().values(tenant_id=1, type="channel.status", payload={"n": 2}, created_at=now)
                )
            )
            await node.fanout.run_once()
            await transaction.rollback()
        for _ in range(100):  # settled after ≥ 1 s once every older transaction has finished
            await node.fanout.run_once()
            if (await client.get("/v1/events")).json()["data"]:
                break
            await asyncio.sleep(0.05)
        assert [e["data"]["n"] for e in (await client.get("/v1/events")).json()["data"]] == [2]
