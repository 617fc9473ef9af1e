"""NUL (and lone surrogates) through every door, on both databases.

PostgreSQL cannot store NUL in text or JSON; no UTF-8 column can hold a lone surrogate.
Clients are refused at the door with the field named (each door in its own dialect, a batch
per item); what providers send is kept with the character replaced by U+FFFD — never a 500,
never a lost inbound message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from tests.channels.cloud.live import Live, cloud_registry, live_gateway, sandbox_plugins
from tests.conftest import ADMIN_TOKEN, free_port, make_settings
from wagate.channels.cloud.channel import CloudChannel
from wagate.channels.cloud.webhook import sign
from wagate.channels.device import KIND as DEVICE_KIND
from wagate.errors import ValidationError
from wagate.store.tables import contacts, messages

pytestmark = pytest.mark.slow  # live gateways (uvicorn) on both databases, one per door
NUL = "a\u0000b"
PHONE = "79001234567"


@pytest.fixture
async def live(db_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    settings = make_settings(db_url, tmp_path, sandbox=True, port=free_port(), dispatcher=False)
    registry = cloud_registry()
    registry.add(DEVICE_KIND)
    async with live_gateway(settings, plugins=sandbox_plugins(), registry=registry) as gateway:
        yield gateway


def field_of(response: Any) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_character", error
    return str(error["field"])


async def stored_messages(live: Live) -> int:
    return int(await live.rt.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(messages)).scalar()))


async def test_the_native_api_names_the_field(live: Live) -> None:
    client = live.client
    assert field_of(await client.post("/v1/messages", json={"to": PHONE, "text": NUL})) == "text"
    assert field_of(await client.post("/v1/messages", json={"to": PHONE, "text": "x", "client_ref": NUL})) == (
        "client_ref"
    )
    assert field_of(await client.post("/v1/messages", json={"to": PHONE, "text": "x", "callback_data": NUL})) == (
        "callback_data"
    )
    caption = {"to": PHONE, "type": "image", "media": {"url": "https://example.com/a.png", "caption": NUL}}
    assert field_of(await client.post("/v1/messages", json=caption)) == "media.caption"
    assert field_of(await client.put(f"/v1/contacts/{PHONE}", json={"name": NUL})) == "name"
    hook = {"url": "https://crm.example/hook", "events": ["message.status"], "description": NUL}
    assert field_of(await client.post("/v1/webhooks", json=hook)) == "description"
    assert field_of(await client.get("/v1/messages", params={"phone": NUL})) == "phone"
    surrogate = b'{"name": "x\\ud800y"}'  # a lone surrogate: valid JSON, storable nowhere
    response = await client.put(
        f"/v1/contacts/{PHONE}", content=surrogate, headers={"content-type": "application/json"}
    )
    assert field_of(response) == "name"
    assert await stored_messages(live) == 0


async def test_a_batch_refuses_only_the_bad_item(live: Live) -> None:
    batch = {"messages": [{"to": PHONE, "text": "good"}, {"to": PHONE, "text": "x", "client_ref": NUL}]}
    response = await live.client.post("/v1/messages", json=batch)
    assert response.status_code in (202, 207), response.text
    first, second = response.json()["results"]
    assert first["status"] == "queued"
    assert second["error"]["code"] == "invalid_character"
    assert second["error"]["field"] == "messages[1].client_ref"
    assert await stored_messages(live) == 1


async def test_the_compatibility_doors_refuse_in_their_own_dialect(live: Live) -> None:
    wamm = await live.client.get(f"/api2/msg_to/{ADMIN_TOKEN}/", params={"phone": PHONE, "text": NUL})
    assert wamm.status_code == 200 and wamm.json()["err"] != 0, wamm.text
    contact = await live.client.get(f"/api2/contact_to/{ADMIN_TOKEN}/", params={"phone": PHONE, "name": NUL})
    assert contact.json()["err"] != 0, contact.text
    devino = await live.client.post(
        "/whatsapp/messages",
        json={
            "messages": [{"from": "sandbox", "to": PHONE, "text": NUL}, {"from": "sandbox", "to": PHONE, "text": "ok"}]
        },
        headers={"Authorization": f"Key {ADMIN_TOKEN}"},
    )
    assert devino.status_code == 200, devino.text
    rejected, accepted = devino.json()["result"]
    assert rejected["code"] == "REJECTED" and accepted["code"] == "OK", devino.text
    assert await stored_messages(live) == 1
    assert await live.rt.db.read(lambda c: c.execute(sa.select(contacts)).all()) == []


async def test_the_dashboard_refuses_before_anything_runs(live: Live) -> None:
    response = await live.client.post("/dashboard/login", data={"login": NUL, "password": "x"})
    assert response.status_code == 422
    assert "login" in response.text


async def test_a_signed_cloud_webhook_is_kept_with_the_character_replaced(live: Live) -> None:
    tenant_id = live.app.state.bootstrap.tenant.id
    row = (await live.rt.channels_of(tenant_id, fresh=True))["sandbox"]
    channel = await live.rt.channel_instance(row)
    assert isinstance(channel, CloudChannel) and channel.settings.app_secret
    _good_id, body, _ = live.sim.inbound_message({"from": PHONE, "text": "fine", "name": NUL})
    _bad_id, other, _ = live.sim.inbound_message({"from": "79001112233", "text": NUL})
    body["entry"][0]["changes"][0]["value"]["messages"] += other["entry"][0]["changes"][0]["value"]["messages"]
    raw = orjson.dumps(body)
    url = f"/webhooks/cloud/{row.settings['webhook_id']}"
    headers = {"X-Hub-Signature-256": sign(raw, channel.settings.app_secret)}
    for _ in range(2):  # Meta's retry of the same delivery changes nothing
        response = await live.client.post(url, content=raw, headers=headers)
        assert response.status_code == 200, response.text
    texts = sorted(m["text"] for m in await live.inbound())
    assert texts == ["a\ufffdb", "fine"]


async def test_a_device_notification_is_kept_with_the_character_replaced(live: Live) -> None:
    created = await live.client.post("/v1/channels", json={"name": "phone", "kind": "device"})
    assert created.status_code == 201, created.text
    device = await live.client.post("/v1/channels/phone/devices", json={"name": "p1"})
    token = device.json()["token"]
    notification = {
        "key": "k\u00001",
        "package": "com.whatsapp",
        "title": "Ivan\u0000",
        "text": NUL,
        "posted_at": "2026-01-01T10:00:00Z",
    }
    response = await live.client.post(
        "/device/v1/notifications", json=notification, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code < 300, response.text
    inbound = await live.inbound()
    assert [m["text"] for m in inbound] == ["a\ufffdb"]


async def test_the_database_layer_refuses_what_slipped_past_every_door(db_url: str, tmp_path: Path) -> None:
    from wagate.store.database import Database

    db = Database(db_url)
    try:
        with pytest.raises(ValidationError) as caught:
            await db.write(lambda c: c.execute(sa.text("SELECT :v"), {"v": "x\ud800"}).scalar())
        assert caught.value.code == "invalid_character"
        if db.is_postgres:
            with pytest.raises(ValidationError):
                await db.write(lambda c: c.execute(sa.text("SELECT CAST(:v AS text)"), {"v": NUL}).scalar())
    finally:
        await db.close()
