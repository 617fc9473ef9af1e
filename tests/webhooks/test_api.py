"""``/v1/webhooks``: secrets shown once and stored encrypted, validation, roles, rotation, delete."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from tests.conftest import ADMIN_TOKEN
from tests.webhooks.conftest import Hooks, eventually
from tests.webhooks.receiver import Receiver
from wagate.crypto import SecretBox
from wagate.store.repos import tenants as tenant_repo
from wagate.store.webhooks_tables import webhook_subscriptions

pytestmark = pytest.mark.asyncio


async def test_create_returns_the_secret_once_and_stores_it_only_encrypted(hooks: Hooks) -> None:
    response = await hooks.client.post(
        "/v1/webhooks", json={"url": "https://crm.example/hook", "events": ["message.status", "message.received"]}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["message.status", "message.received"] and body["format"] == "native"
    got = (await hooks.client.get(f"/v1/webhooks/{body['id']}")).json()
    assert "secret" not in got
    assert all("secret" not in item for item in (await hooks.client.get("/v1/webhooks")).json()["data"])
    stored = await hooks.rt.db.read(
        lambda c: c.execute(
            sa.select(webhook_subscriptions.c.secret).where(webhook_subscriptions.c.id == body["id"])
        ).scalar_one()
    )
    assert SecretBox.is_encrypted(stored) and body["secret"] not in stored
    assert hooks.rt.secret_box.decrypt(stored) == body["secret"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://crm.example/x", "events": ["message.status"]}, "url"),
        ({"url": "https://crm.example/x", "events": []}, "events"),
        ({"url": "https://crm.example/x", "events": ["message.sent"]}, "events[0]"),
        ({"url": "https://crm.example/x", "events": ["message.status"], "format": "xml"}, "format"),
        ({"url": "https://crm.example/x", "events": ["consent.changed"], "format": "devino"}, "events[0]"),
    ],
)
async def test_invalid_subscriptions_are_refused_naming_the_field(
    hooks: Hooks, body: dict[str, object], field: str
) -> None:
    response = await hooks.client.post("/v1/webhooks", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_only_admins_manage_webhooks(hooks: Hooks) -> None:
    tenant = hooks.app.state.bootstrap.tenant
    token = tenant_repo.new_token()
    now = hooks.rt.clock.now()
    await hooks.rt.db.write(lambda c: tenant_repo.store_token(c, tenant.id, "crm", "api", token, now))
    response = await hooks.client.get("/v1/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert (await hooks.client.get("/v1/events", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    assert (
        await hooks.client.get("/v1/webhooks", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    ).status_code == 200


async def test_delete_removes_the_subscription_and_stops_deliveries(hooks: Hooks) -> None:
    sub, _ = await hooks.subscribe("https://crm.example/hook")
    assert (await hooks.client.delete(f"/v1/webhooks/{sub}")).status_code == 204
    assert (await hooks.client.get(f"/v1/webhooks/{sub}")).status_code == 404
    assert (await hooks.client.delete(f"/v1/webhooks/{sub}")).status_code == 404
    await hooks.send()
    await hooks.node.fanout.drain()
    assert (await hooks.client.get(f"/v1/webhooks/{sub}/deliveries")).status_code == 404


async def test_rotation_signs_with_the_new_secret_and_the_old_one_during_the_grace(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        sub, old = await hooks.subscribe(receiver.url)
        rotated = await hooks.client.post(f"/v1/webhooks/{sub}/rotate-secret", json={"grace_seconds": 3600})
        assert rotated.status_code == 200
        new = rotated.json()["secret"]
        assert new != old and rotated.json()["previous_secret_until"]
        await hooks.send()
        await eventually(lambda: len(receiver.delivered()) == 1, what="a delivery after rotation")
        item = receiver.delivered()[0]
        Webhook(new).verify(item.body, item.headers)
        Webhook(old).verify(item.body, item.headers)
        again = await hooks.client.post(f"/v1/webhooks/{sub}/rotate-secret", json={"grace_seconds": 0})
        assert again.json()["previous_secret_until"] is None
    finally:
        await receiver.stop()


async def test_patch_re_enables_a_disabled_subscription(hooks: Hooks) -> None:
    sub, _ = await hooks.subscribe("https://crm.example/hook")
    off = await hooks.client.patch(f"/v1/webhooks/{sub}", json={"status": "disabled"})
    assert off.json()["status"] == "disabled"
    replay = await hooks.client.post(f"/v1/webhooks/{sub}/replay", json={})
    assert replay.status_code == 409
    on = await hooks.client.patch(f"/v1/webhooks/{sub}", json={"status": "active", "url": "http://crm.example/v2"})
    assert on.json()["status"] == "active" and on.json()["url"] == "http://crm.example/v2"
    assert on.json()["disabled_reason"] is None
    bad = await hooks.client.patch(f"/v1/webhooks/{sub}", json={"url": "gopher://x"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "url"


async def test_a_subscription_does_not_receive_events_from_before_it_existed(hooks: Hooks) -> None:
    receiver = await Receiver().start()
    try:
        await hooks.send()
        await hooks.node.fanout.drain()
        sub, _ = await hooks.subscribe(receiver.url)
        await hooks.send(to="79001112233")
        await eventually(lambda: len(receiver.delivered()) == 1, what="the later event")
        assert receiver.delivered()[0].json["data"]["phone"] == "79001112233"
        for _ in range(200):
            counts = (await hooks.client.get(f"/v1/webhooks/{sub}")).json()["deliveries"]
            if counts["delivered"]:
                break
            await asyncio.sleep(0.02)
        assert counts == {**dict.fromkeys(counts, 0), "delivered": 1}
    finally:
        await receiver.stop()
