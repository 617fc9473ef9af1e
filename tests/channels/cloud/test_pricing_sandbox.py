"""Prices and costs end to end: the rate card, Meta's pricing on statuses (the sandbox sends it by
category and window), costs on messages, sums per day / operator / conversation / campaign."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.channels.cloud.live import Live, live_gateway, sandbox_plugins
from tests.channels.cloud.test_sandbox_gateway import RELAXED, gateway_settings
from tests.conftest import make_settings, running_app
from wagate.dispatch.campaigns import campaigns_plugin

CARD = {
    "currency": "RUB",
    "rates": {"marketing": 5.6, "utility": 1.2, "authentication": 0.9, "service": 0.5},
    "countries": {"7": {"utility": 1.0}},
}
TEMPLATE = {"name": "order_update", "language": "en", "params": ["Anna", "#42"]}


@pytest.fixture
async def live(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    plugins = [*sandbox_plugins(), campaigns_plugin(interval=0.1)]
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=plugins) as gateway:
        response = await gateway.client.put("/v1/pricing", json=CARD)
        assert response.status_code == 200, response.text
        yield gateway


def priced(message: dict[str, Any]) -> bool:
    return message["pricing"] is not None and message["status"] in ("delivered", "read")


async def test_the_rate_card_is_replaced_and_read_back(db_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(db_url, tmp_path, dispatcher=False)) as (_app, _rt, client):
        assert (await client.get("/v1/pricing")).status_code == 404
        assert (await client.put("/v1/pricing", json=CARD)).status_code == 200
        second = {"currency": "USD", "rates": {"marketing": 0.0625}}
        assert (await client.put("/v1/pricing", json=second)).json() == {**second, "countries": {}}
        assert (await client.get("/v1/pricing")).json()["currency"] == "USD"
        bad = await client.put("/v1/pricing", json={"currency": "RUB", "rates": {"promo": 1}})
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "rates.promo"


async def test_only_an_admin_changes_the_rate_card(db_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(db_url, tmp_path, dispatcher=False)) as (_app, rt, client):
        from wagate.services.tokens import create_token

        token = await create_token(rt.settings, name="crm", role="api")
        response = await client.put("/v1/pricing", json=CARD, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403


async def test_a_template_outside_the_window_costs_its_category_rate_with_the_country_override(live: Live) -> None:
    accepted = await live.send({"to": "79001234567", "type": "template", "template": TEMPLATE, "operator": "anna"})
    message = await live.wait(accepted["id"], priced)
    assert message["pricing"] == {"pricing_model": "PMP", "category": "utility", "type": "regular", "billable": True}
    assert message["cost"] == {"amount": 1.0, "currency": "RUB"}
    other = await live.send({"to": "380501234567", "type": "template", "template": TEMPLATE})
    assert (await live.wait(other["id"], priced))["cost"] == {"amount": 1.2, "currency": "RUB"}


async def test_a_reply_inside_the_window_is_a_free_service_message(live: Live) -> None:
    await live.client.patch("/v1/channels/sandbox", json={"policy": RELAXED})
    inject = await live.client.post("/sandbox/inject", json={"from": "79001234568", "text": "hi"})
    assert inject.status_code == 200
    accepted = await live.send({"to": "79001234568", "text": "hello", "operator": "boris"})
    message = await live.wait(accepted["id"], priced)
    assert message["pricing"]["type"] == "free_customer_service"
    assert message["cost"] == {"amount": 0.0, "currency": "RUB"}


async def test_costs_are_summed_per_day_operator_and_conversation(live: Live) -> None:
    first = await live.send({"to": "79001234567", "type": "template", "template": TEMPLATE, "operator": "anna"})
    second = await live.send({"to": "380501234567", "type": "template", "template": TEMPLATE, "operator": "anna"})
    for accepted in (first, second):
        await live.wait(accepted["id"], priced)
    by_day = (await live.client.get("/v1/analytics/costs", params={"group": "day"})).json()
    assert [(d["currency"], d["amount"], d["messages"]) for d in by_day["data"]] == [("RUB", 2.2, 2)]
    assert by_day["total"] == [{"currency": "RUB", "amount": 2.2}]
    by_operator = (await live.client.get("/v1/analytics/costs", params={"group": "operator"})).json()["data"]
    assert [(d["operator"], d["amount"]) for d in by_operator] == [("anna", 2.2)]
    by_conversation = (await live.client.get("/v1/analytics/costs", params={"group": "conversation"})).json()["data"]
    assert sorted((d["channel"], d["phone"], d["amount"]) for d in by_conversation) == [
        ("sandbox", "380501234567", 1.2),
        ("sandbox", "79001234567", 1.0),
    ]
    csv = await live.client.get("/v1/analytics/costs", params={"group": "operator", "format": "csv"})
    assert csv.text.splitlines() == ["operator,currency,amount,messages,unpriced", "anna,RUB,2.2,2,0"]


async def test_a_campaign_shows_its_estimate_in_the_dry_run_and_its_cost_in_its_stats(live: Live) -> None:
    await live.client.patch("/v1/channels/sandbox", json={"policy": RELAXED})
    csv = "phone,param1,param2\n79001234567,Anna,#1\n380501234567,Olena,#2\n"
    response = await live.client.post(
        "/v1/campaigns",
        data={"template": "order_update", "language": "en", "channel": "sandbox"},
        files={"file": ("clients.csv", csv.encode(), "text/csv")},
    )
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["report"]["cost_estimate"] == {
        "amount": 2.2,
        "currency": "RUB",
        "category": "utility",
        "unpriced": 0,
    }
    started = await live.client.post(f"/v1/campaigns/{campaign['id']}/start")
    assert started.status_code == 200, started.text

    async def stats() -> dict[str, Any]:
        body: dict[str, Any] = (await live.client.get(f"/v1/campaigns/{campaign['id']}")).json()["stats"]
        return body

    deadline = time.monotonic() + 20
    while (await stats())["cost"] is None or (await stats())["cost"]["messages"] < 2:
        assert time.monotonic() < deadline, await stats()
        await asyncio.sleep(0.1)
    assert (await stats())["cost"] == {"amount": 2.2, "currency": "RUB", "messages": 2}
