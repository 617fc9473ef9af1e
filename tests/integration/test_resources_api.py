"""Contacts, channels, phones and operations endpoints on both dialects."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from wagate.runtime import Runtime
from wagate.store.tables import events

pytestmark = pytest.mark.asyncio


async def test_contact_crud(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    created = await client.put(
        "/v1/contacts/+7 900 123-45-67", json={"name": "Олег Иванов", "email": "o@example.com", "tags": ["vip", "vip"]}
    )
    assert created.status_code == 201
    assert created.json()["phone"] == "79001234567"
    assert created.json()["tags"] == ["vip"]
    updated = await client.put("/v1/contacts/89001234567", json={"name": "Oleg", "info": "likes tea"})
    assert updated.status_code == 200
    assert (await client.get("/v1/contacts/79001234567")).json()["name"] == "Oleg"
    listing = (await client.get("/v1/contacts")).json()["data"]
    assert [c["phone"] for c in listing] == ["79001234567"]
    assert (await client.delete("/v1/contacts/79001234567")).status_code == 204
    assert (await client.get("/v1/contacts/79001234567")).status_code == 404
    assert (await client.delete("/v1/contacts/79001234567")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 251}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"web": "w" * 151}, "web"),
        ({"tags": "vip"}, "tags"),
        ({"name": 5}, "name"),
    ],
)
async def test_contact_bad_input(
    gateway: tuple[Runtime, httpx.AsyncClient], body: dict[str, object], field: str
) -> None:
    _rt, client = gateway
    response = await client.put("/v1/contacts/79001234567", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert (await client.get("/v1/contacts/79001234567")).status_code == 404


async def test_contact_with_bad_phone(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    response = await client.put("/v1/contacts/12", json={"name": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "phone"


async def test_channels_show_pacing_and_policy_defaults(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    listing = (await client.get("/v1/channels")).json()["data"]
    assert [c["name"] for c in listing] == ["main"]
    assert listing[0]["is_default"] is True
    created = await client.post(
        "/v1/channels",
        json={"name": "second", "kind": "memory", "settings": {"access_token": "s3cret"}, "pacing": {"daily_cap": 30}},
    )
    assert created.status_code == 201
    data = created.json()
    assert data["settings"]["access_token"] == "***"
    assert data["pacing"]["daily_cap"] == 30
    assert data["is_default"] is False
    patched = await client.patch("/v1/channels/second", json={"is_default": True, "policy": {"consent": "off"}})
    assert patched.status_code == 200
    assert patched.json()["policy"]["consent"] == "off"
    names = {c["name"]: c["is_default"] for c in (await client.get("/v1/channels")).json()["data"]}
    assert names == {"main": False, "second": True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "bad name!", "kind": "memory"}, "name"),
        ({"name": "ok", "kind": "telegraph"}, "kind"),
        (
            {"name": "ok", "kind": "memory", "pacing": {"min_interval_s": 5, "max_interval_s": 1}},
            "pacing.max_interval_s",
        ),
        ({"name": "ok", "kind": "memory", "policy": {"consent": "maybe"}}, "policy.consent"),
        ({"name": "ok", "kind": "memory", "pacing": {"daily_cap": -1}}, "pacing.daily_cap"),
    ],
)
async def test_channel_bad_input(
    gateway: tuple[Runtime, httpx.AsyncClient], body: dict[str, object], field: str
) -> None:
    _rt, client = gateway
    response = await client.post("/v1/channels", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_duplicate_channel_is_409(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    response = await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
    assert response.status_code == 409


async def test_phone_check_uses_the_channel_and_caches(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    assert (await client.get("/v1/phones/+7 900 123 45 67")).json()["whatsapp"] == "exists"
    assert (await client.get("/v1/phones/79001230000")).json() == {
        **(await client.get("/v1/phones/79001230000")).json(),
        "phone": "79001230000",
        "whatsapp": "none",
    }


async def test_operations_endpoints(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200
    await client.post("/v1/messages", json={"to": "79001234567", "text": "x"})
    metrics = (await client.get("/metrics")).text
    assert 'wagate_queue_depth{channel="main",status="queued"} 1.0' in metrics
    assert 'route="/v1/messages"' in metrics
    schema = (await client.get("/openapi.json")).json()
    assert "/v1/messages" in schema["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_pausing_and_resuming_a_channel_appends_channel_status_events(
    gateway: tuple[Runtime, httpx.AsyncClient],
) -> None:
    rt, client = gateway
    for status in ("paused", "paused", "active"):  # the repeated pause changes nothing: no event
        response = await client.patch("/v1/channels/main", json={"status": status})
        assert response.status_code == 200, response.text

    def channel_events(conn: sa.Connection) -> list[dict[str, object]]:
        rows = conn.execute(sa.select(events.c.payload).where(events.c.type == "channel.status").order_by(events.c.id))
        return [dict(r.payload) for r in rows]

    got = await rt.db.read(channel_events)
    assert [(e["channel"], e["previous_status"], e["status"]) for e in got] == [
        ("main", "active", "paused"),
        ("main", "paused", "active"),
    ]
    assert got[0]["reason"] == "paused by an operator" and got[1]["reason"] == "resumed by an operator"
