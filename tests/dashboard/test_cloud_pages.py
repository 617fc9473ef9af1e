"""The operations page names a cloud channel whose Graph API version Meta retires soon."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Connection

from tests.channels.cloud.live import live_gateway, sandbox_plugins
from tests.channels.cloud.test_sandbox_gateway import gateway_settings
from tests.dashboard.conftest import Desk
from wagate.clock import FakeClock
from wagate.dashboard.plugin import dashboard_plugin
from wagate.store.repos import channels as channel_repo
from wagate.store.repos import pricing as pricing_repo


async def test_the_operations_page_warns_about_a_retiring_graph_api_version(desk_sqlite: Desk) -> None:
    desk_sqlite.clock.set(datetime(2026, 12, 7, 12, tzinfo=UTC))
    settings = {"phone_number_id": "1", "access_token": "t", "graph_url": "http://127.0.0.1:9", "api_version": "v21.0"}
    now = desk_sqlite.clock.now()
    tenant = await desk_sqlite.tenant()

    def insert(conn: Connection) -> None:
        channel_repo.insert_channel(
            conn,
            tenant_id=tenant.id,
            name="meta",
            kind="cloud",
            settings=settings,
            pacing={},
            policy={},
            is_default=False,
            now=now,
        )

    await desk_sqlite.rt.db.write(insert)
    desk_sqlite.rt.forget_channels(tenant.id)
    await desk_sqlite.user("boss", role="admin")
    page = (await (await desk_sqlite.sign_in("boss")).get("/dashboard/operations")).text
    assert 'data-warning="graph_api_version" data-channel="meta"' in page
    assert "2027-01-21" in page


async def test_the_analytics_page_shows_costs_per_operator_and_day(desk_sqlite: Desk) -> None:
    card = {"currency": "RUB", "rates": {"marketing": 5.6, "utility": 1.2}}
    assert (await desk_sqlite.client.put("/v1/pricing", json=card)).status_code == 200
    message_id = await desk_sqlite.api_reply("79001234567", "your order shipped", operator="anna")
    pricing = {"pricing_model": "PMP", "category": "utility", "type": "regular", "billable": True}
    await desk_sqlite.rt.db.write(lambda c: pricing_repo.record_pricing(c, message_id, pricing))
    await desk_sqlite.user("anna")
    page = (await (await desk_sqlite.sign_in("anna")).get("/dashboard/analytics")).text
    costs = page.split('id="costs"')[1].split("</table>")[0]
    assert '<strong data-total="RUB">1.20 RUB</strong>' in costs
    assert 'data-cost-operator="anna"' in costs
    day = desk_sqlite.clock.now().date().isoformat()
    assert f'data-cost-day="{day}"' in costs


async def test_an_operator_typing_shows_typing_on_the_customer_s_phone(sqlite_url: str, tmp_path: Path) -> None:
    plugins = [*sandbox_plugins(), dashboard_plugin]
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=plugins) as live:
        desk = Desk(live.app, live.rt, live.client, FakeClock())
        await live.client.post("/sandbox/inject", json={"from": "79001234567", "text": "hello?"})
        conversation = (await live.client.get("/v1/conversations")).json()["data"][0]
        await desk.user("anna")
        session = await desk.sign_in("anna")
        page = (await session.get(f"/dashboard/conversations/{conversation['id']}")).text
        assert f'hx-post="/dashboard/conversations/{conversation["id"]}/typing"' in page
        response = await session.post(f"/dashboard/conversations/{conversation['id']}/typing")
        assert response.status_code == 204
        assert response.headers["X-Typing-Shown"] == "1"
        inbound = (await live.client.get("/v1/messages", params={"direction": "in"})).json()["data"][0]
        assert live.sim.typing[-1] == inbound["provider_id"]
        for s in desk.sessions:
            await s.aclose()


async def test_an_admin_edits_a_cloud_channel_s_business_profile_in_the_dashboard(
    sqlite_url: str, tmp_path: Path
) -> None:
    plugins = [*sandbox_plugins(), dashboard_plugin]
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=plugins) as live:
        desk = Desk(live.app, live.rt, live.client, FakeClock())
        await desk.user("boss", role="admin")
        session = await desk.sign_in("boss")
        page = (await session.get("/dashboard/settings")).text
        assert 'data-profile="sandbox"' in page
        assert "Hello from the wagate sandbox" in page
        form = {
            "csrf": session.csrf,
            "about": "Fresh bread daily",
            "address": "Moscow",
            "email": "shop@example.com",
            "description": "Family bakery",
            "websites": "https://bakery.example\nhttps://shop.example",
        }
        response = await session.post("/dashboard/channels/sandbox/profile", form, htmx=False)
        assert response.status_code in (200, 303), response.text
        assert live.sim.profile["about"] == "Fresh bread daily"
        assert live.sim.profile["websites"] == ["https://bakery.example", "https://shop.example"]
        for s in desk.sessions:
            await s.aclose()
