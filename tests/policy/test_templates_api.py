"""``/v1/templates``: local templates with admin approval, and templates synced from a cloud channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tests import conftest as base
from tests.conftest import make_settings, running_app
from tests.policy.conftest import Gateway
from wagate.channels.memory import MemoryChannel
from wagate.channels.registry import ChannelRegistry
from wagate.runtime import Runtime

pytestmark = pytest.mark.asyncio

BASE = {"name": "order_ready", "language": "ru", "category": "utility", "body": "Заказ {{1}} готов"}


@pytest.fixture
async def as_api(gw: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with await gw.client_as("operator") as client:
        yield client


async def test_a_new_template_is_pending_with_its_parameter_count(gw: Gateway) -> None:
    response = await gw.client.post(
        "/v1/templates",
        json={
            **BASE,
            "header": "Магазин",
            "footer": "Ответьте СТОП, чтобы отписаться",
            "buttons": [{"type": "url", "text": "Открыть", "url": "https://shop.example/a"}],
        },
    )
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["status"] == "pending"
    assert data["params"] == 1
    assert data["required_scope"] == "utility"
    assert data["header"] == {"type": "text", "text": "Магазин"}
    assert data["channel"] is None and data["source"] == "local"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BASE, "category": "spam"}, "category"),
        ({**BASE, "body": "Заказ {{2}} готов"}, "body"),
        ({**BASE, "body": ""}, "body"),
        ({**BASE, "language": "russian!"}, "language"),
        ({**BASE, "name": "bad name"}, "name"),
        ({**BASE, "buttons": [{"type": "url", "text": "x"}]}, "buttons[0].url"),
        ({**BASE, "channel": "nope"}, "channel"),
        ({**BASE, "colour": "red"}, "colour"),
    ],
)
async def test_invalid_templates_are_refused_naming_the_field(gw: Gateway, body: dict[str, Any], field: str) -> None:
    response = await gw.client.post("/v1/templates", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


async def test_same_name_and_language_twice_is_a_conflict(gw: Gateway) -> None:
    assert (await gw.client.post("/v1/templates", json=BASE)).status_code == 201
    assert (await gw.client.post("/v1/templates", json=BASE)).status_code == 409
    assert (await gw.client.post("/v1/templates", json={**BASE, "language": "en"})).status_code == 201
    assert (await gw.client.post("/v1/templates", json={**BASE, "channel": "main"})).status_code == 201


async def test_only_an_admin_approves(gw: Gateway, as_api: httpx.AsyncClient) -> None:
    created = (await as_api.post("/v1/templates", json=BASE)).json()
    assert created["status"] == "pending"
    refused = await as_api.patch(f"/v1/templates/{created['id']}", json={"status": "approved"})
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "status"
    approved = await gw.client.patch(f"/v1/templates/{created['id']}", json={"status": "approved"})
    assert approved.json()["status"] == "approved"
    edited = await as_api.patch(f"/v1/templates/{created['id']}", json={"body": "Заказ {{1}} ждёт вас"})
    assert edited.json()["status"] == "pending"  # changed content needs approval again


async def test_templates_are_addressed_by_id_or_by_name(gw: Gateway) -> None:
    ru = (await gw.client.post("/v1/templates", json=BASE)).json()
    await gw.client.post("/v1/templates", json={**BASE, "language": "en", "body": "Order {{1}} is ready"})
    assert (await gw.client.get(f"/v1/templates/{ru['id']}")).json()["language"] == "ru"
    ambiguous = await gw.client.get("/v1/templates/order_ready")
    assert ambiguous.status_code == 409 and ambiguous.json()["error"]["field"] == "language"
    en = await gw.client.get("/v1/templates/order_ready", params={"language": "EN"})
    assert en.json()["body"] == "Order {{1}} is ready"
    listing = (await gw.client.get("/v1/templates", params={"language": "ru"})).json()["data"]
    assert [t["id"] for t in listing] == [ru["id"]]
    assert (await gw.client.delete("/v1/templates/order_ready", params={"language": "ru"})).status_code == 204
    assert (await gw.client.get(f"/v1/templates/{ru['id']}")).status_code == 404


async def test_a_channels_own_template_wins_over_the_tenant_wide_one(gw: Gateway) -> None:
    await gw.set_policy(consent="off")
    await gw.template(body="Общий {{1}} {{2}}")
    await gw.template(body="Свой {{1}} {{2}}", channel="main")
    await gw.inbound("79001234567")
    sent = await gw.client.post(
        "/v1/messages",
        json={
            "to": "79001234567",
            "type": "template",
            "template": {"name": "order_ready", "language": "ru", "params": ["a", "b"]},
        },
    )
    message = (await gw.client.get(f"/v1/messages/{sent.json()['id']}")).json()
    assert message["text"] == "Свой a b"


# ---------------------------------------------------------------- sync from a cloud channel


class TemplateSourceChannel(MemoryChannel):
    """A channel whose provider lists templates, as the Cloud API's ``message_templates`` does."""

    kind: ClassVar[str] = "tplsource"
    listing: ClassVar[list[Any]] = []

    async def list_templates(self) -> list[Any]:
        return list(self.listing)


def registry() -> ChannelRegistry:
    reg = base.test_registry()
    reg.register("tplsource", lambda config, _ctx: TemplateSourceChannel(config))
    reg.register("cloud", lambda config, _ctx: TemplateSourceChannel(config))
    return reg


GRAPH_TEMPLATE = {
    "name": "shipping_update",
    "language": "en_US",
    "category": "UTILITY",
    "status": "APPROVED",
    "id": "1234",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Shipping"},
        {"type": "BODY", "text": "Your order {{1}} ships *today*"},
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://t.example/1"}]},
    ],
}


@pytest.fixture
async def cloud_gw(db_url: str, tmp_path: Path) -> Any:
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(settings, registry=registry()) as (_app, rt, client):
        created = await client.post("/v1/channels", json={"name": "wa", "kind": "tplsource"})
        assert created.status_code == 201
        await client.post("/v1/channels", json={"name": "plain", "kind": "memory"})
        yield rt, client


async def test_sync_upserts_the_channels_templates(cloud_gw: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = cloud_gw
    TemplateSourceChannel.listing = [
        GRAPH_TEMPLATE,
        {**GRAPH_TEMPLATE, "name": "promo", "category": "MARKETING", "status": "PENDING"},
        {"name": ""},  # unusable entries are skipped, not fatal
    ]
    result = (await client.post("/v1/templates/sync", params={"channel": "wa"})).json()
    assert result == {"channel": "wa", "created": 2, "updated": 0, "deleted": 0, "unchanged": 0, "skipped": 1}
    shipping = (await client.get("/v1/templates/shipping_update")).json()
    assert shipping["status"] == "approved" and shipping["provider_status"] == "APPROVED"
    assert shipping["channel"] == "wa" and shipping["source"] == "cloud"
    assert shipping["language"] == "en_US" and shipping["params"] == 1
    assert shipping["buttons"] == [{"type": "url", "text": "Track", "url": "https://t.example/1"}]

    TemplateSourceChannel.listing = [{**GRAPH_TEMPLATE, "status": "PAUSED"}]
    result = (await client.post("/v1/templates/sync", params={"channel": "wa"})).json()
    assert (result["updated"], result["deleted"]) == (1, 1)
    assert (await client.get("/v1/templates/shipping_update")).json()["status"] == "rejected"


async def test_synced_template_status_is_metas(cloud_gw: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = cloud_gw
    TemplateSourceChannel.listing = [GRAPH_TEMPLATE]
    await client.post("/v1/templates/sync", params={"channel": "wa"})
    response = await client.patch("/v1/templates/shipping_update", json={"status": "rejected"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "synced_template"
    scoped = await client.patch("/v1/templates/shipping_update", json={"scope": "orders"})
    assert scoped.json()["required_scope"] == "orders"
    await client.post("/v1/templates/sync", params={"channel": "wa"})
    assert (await client.get("/v1/templates/shipping_update")).json()["scope"] == "orders"


async def test_a_synced_template_renders_for_sending(cloud_gw: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = cloud_gw
    TemplateSourceChannel.listing = [GRAPH_TEMPLATE]
    await client.post("/v1/templates/sync", params={"channel": "wa"})
    await client.patch("/v1/channels/wa", json={"policy": {"consent": "off"}})
    sent = await client.post(
        "/v1/messages",
        json={
            "to": "79001234567",
            "channel": "wa",
            "type": "template",
            "template": {"name": "shipping_update", "language": "en_US", "params": ["A1"]},
        },
    )
    assert sent.status_code == 202, sent.text
    message = (await client.get(f"/v1/messages/{sent.json()['id']}")).json()
    assert (
        message["text"]
        == "Shipping\n\nYour order A1 ships *today*\n\nReply STOP to opt out\n\nTrack: https://t.example/1"
    )


async def test_sync_needs_a_channel_that_lists_templates(cloud_gw: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = cloud_gw
    response = await client.post("/v1/templates/sync", params={"channel": "plain"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_supported"


async def test_a_template_for_a_cloud_channel_is_never_kept_locally(
    cloud_gw: tuple[Runtime, httpx.AsyncClient],
) -> None:
    """A cloud channel's templates are Meta's: one that cannot be submitted is refused, not stored."""
    _rt, client = cloud_gw
    assert (await client.post("/v1/channels", json={"name": "meta", "kind": "cloud"})).status_code == 201
    response = await client.post("/v1/templates", json={**BASE, "channel": "meta"})
    assert response.status_code == 422
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == ("not_supported", "channel")
    assert (await client.get("/v1/templates", params={"channel": "meta"})).json()["data"] == []
