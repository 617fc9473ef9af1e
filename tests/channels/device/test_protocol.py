"""The device protocol (``/device/v1``, CONTRACT §8) and device tokens, on both dialects.

In-process over ASGI with a fake clock, so pacing, leases and silence are exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings, running_app
from tests.conftest import test_registry as base_registry
from wagate.channels.device import KIND as DEVICE_KIND
from wagate.channels.device import inbound as device_inbound
from wagate.channels.device import service as device_service
from wagate.clock import FakeClock
from wagate.dispatch.dispatcher import Dispatcher
from wagate.runtime import Runtime
from wagate.store.repos.events import events_after


@dataclass
class Phone:
    rt: Runtime
    clock: FakeClock
    client: httpx.AsyncClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def next(self) -> httpx.Response:
        return await self.client.get("/device/v1/next", headers=self.auth)

    async def result(self, message_id: int, **body: Any) -> httpx.Response:
        return await self.client.post(f"/device/v1/messages/{message_id}/result", json=body, headers=self.auth)

    async def notify(self, **body: Any) -> httpx.Response:
        body.setdefault("package", "com.whatsapp")
        body.setdefault("posted_at", self.clock.now().isoformat())
        return await self.client.post("/device/v1/notifications", json=body, headers=self.auth)

    async def send(self, to: str, text: str = "hello", **extra: Any) -> int:
        response = await self.client.post("/v1/messages", json={"channel": "phone", "to": to, "text": text, **extra})
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    async def message(self, message_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def events(self, type: str) -> list[dict[str, Any]]:
        rows = await self.rt.db.read(lambda c: events_after(c, after_id=0, limit=1000, types=[type]))
        return [r["payload"] for r in rows]


@pytest.fixture
async def phone(db_url: str, tmp_path: Path) -> AsyncIterator[Phone]:
    clock = FakeClock()
    registry = base_registry()
    registry.add(DEVICE_KIND)
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(settings, clock=clock, registry=registry) as (_app, rt, client):
        created = await client.post(
            "/v1/channels",
            json={
                "name": "phone",
                "kind": "device",
                "settings": {"lease_seconds": 60, "offline_after_s": 120},
                "pacing": {"min_interval_s": 5, "max_interval_s": 12, "recipient_interval_s": 0},
            },
        )
        assert created.status_code == 201, created.text
        device = await client.post("/v1/channels/phone/devices", json={"name": "pixel", "serial": "emulator-5554"})
        assert device.status_code == 201, device.text
        yield Phone(rt, clock, client, device.json()["token"])


# -- tokens ------------------------------------------------------------------------------------------


async def test_device_token_is_shown_once_and_stored_hashed(phone: Phone) -> None:
    listing = await phone.client.get("/v1/channels/phone/devices")
    assert listing.status_code == 200
    [device] = listing.json()["data"]
    assert device["name"] == "pixel" and device["status"] == "offline" and "token" not in device
    stored = await phone.rt.db.read(lambda c: c.exec_driver_sql("SELECT token_hash FROM devices").scalar_one())
    assert phone.token not in stored and len(stored) == 64


async def test_devices_belong_only_to_device_channels(phone: Phone) -> None:
    await phone.client.post("/v1/channels", json={"name": "mem", "kind": "memory"})
    response = await phone.client.post("/v1/channels/mem/devices", json={})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_a_device_channel"


async def test_creating_a_device_needs_an_admin(phone: Phone) -> None:
    from wagate.services.tokens import create_token

    token = await create_token(phone.rt.settings, name="crm", role="api")
    response = await phone.client.post(
        "/v1/channels/phone/devices", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_a_wrong_device_token_is_refused_in_the_native_format(phone: Phone) -> None:
    response = await phone.client.get("/device/v1/next", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_token",
        "message": "invalid device token",
        "field": "Authorization",
    }


async def test_an_api_token_is_not_a_device_token(phone: Phone) -> None:
    response = await phone.client.get("/device/v1/next")  # the client's default header: the admin API token
    assert response.status_code == 401


async def test_a_revoked_device_token_stops_working(phone: Phone) -> None:
    [device] = (await phone.client.get("/v1/channels/phone/devices")).json()["data"]
    assert (await phone.client.delete(f"/v1/channels/phone/devices/{device['id']}")).status_code == 204
    assert (await phone.next()).status_code == 401


# -- sending -----------------------------------------------------------------------------------------


async def test_next_answers_204_with_a_retry_hint_when_nothing_is_due(phone: Phone) -> None:
    response = await phone.next()
    assert response.status_code == 204
    assert response.headers["Retry-After"] == "5"  # the poll interval: nothing is queued


async def test_next_leases_the_message_with_what_the_agent_needs(phone: Phone) -> None:
    message_id = await phone.send("+7 900 123-45-67", "Hello & welcome?")
    response = await phone.next()
    assert response.status_code == 200
    offer = response.json()
    assert offer["id"] == message_id and offer["phone"] == "79001234567" and offer["type"] == "text"
    assert offer["text"] == "Hello & welcome?"
    assert offer["link"] == "https://wa.me/79001234567?text=Hello%20%26%20welcome%3F"
    assert offer["attempt"] == 1 and offer["lease_expires_at"]
    assert (await phone.message(message_id))["status"] == "sending"


async def test_the_server_paces_sends_with_a_random_pause(phone: Phone) -> None:
    first = await phone.send("79001234567")
    second = await phone.send("79001234568")
    assert (await phone.next()).json()["id"] == first
    assert (await phone.result(first, status="sent")).status_code == 200
    held = await phone.next()
    assert held.status_code == 204
    assert 5.0 <= float(held.headers["X-Retry-After-Seconds"]) <= 12.0
    phone.clock.advance(12.01)
    assert (await phone.next()).json()["id"] == second


async def test_the_daily_cap_holds_the_queue_until_tomorrow(phone: Phone) -> None:
    await phone.client.patch(
        "/v1/channels/phone", json={"pacing": {"daily_cap": 1, "min_interval_s": 0, "max_interval_s": 0}}
    )
    await phone.send("79001234567")
    await phone.send("79001234568")
    assert (await phone.next()).status_code == 200
    phone.clock.advance(60)
    capped = await phone.next()
    assert capped.status_code == 204
    assert float(capped.headers["X-Retry-After-Seconds"]) > 3600


async def test_a_sent_result_is_idempotent(phone: Phone) -> None:
    message_id = await phone.send("79001234567")
    await phone.next()
    first = await phone.result(message_id, status="sent")
    again = await phone.result(message_id, status="sent")
    assert first.json() == {"id": message_id, "status": "sent", "applied": True}
    assert again.json() == {"id": message_id, "status": "sent", "applied": False}
    history = [h["status"] for h in (await phone.message(message_id))["history"]]
    assert history == ["queued", "sending", "sent"]


async def test_not_on_whatsapp_fails_the_message_and_records_the_phone(phone: Phone) -> None:
    message_id = await phone.send("79001230000")
    await phone.next()
    response = await phone.result(message_id, status="not_on_whatsapp", error="The phone number isn't on WhatsApp.")
    assert response.json()["status"] == "failed"
    message = await phone.message(message_id)
    assert message["error"] == {"code": "not_on_whatsapp", "message": "The phone number isn't on WhatsApp."}
    check = (await phone.client.get("/v1/phones/79001230000")).json()
    assert check["whatsapp"] == "none" and check["source"] == "phone"


async def test_a_sent_result_records_the_phone_as_on_whatsapp(phone: Phone) -> None:
    message_id = await phone.send("79001234567")
    await phone.next()
    await phone.result(message_id, status="sent")
    assert (await phone.client.get("/v1/phones/79001234567")).json()["whatsapp"] == "exists"


async def test_a_failed_result_is_final_unless_the_device_asks_for_a_retry(phone: Phone) -> None:
    final = await phone.send("79001234567")
    retried = await phone.send("79001234568")
    await phone.next()
    await phone.result(final, status="failed", error="chat did not open")
    assert (await phone.message(final))["error"]["code"] == "device_failed"
    phone.clock.advance(13)
    await phone.next()
    answer = await phone.result(retried, status="failed", error="WhatsApp crashed", retry=True)
    assert answer.json()["status"] == "queued"


async def test_a_result_needs_a_known_status(phone: Phone) -> None:
    message_id = await phone.send("79001234567")
    response = await phone.result(message_id, status="delivered")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "status"


async def test_a_result_for_a_message_of_another_channel_is_404(phone: Phone) -> None:
    await phone.client.post("/v1/channels", json={"name": "mem", "kind": "memory"})
    other = await phone.send("79001234567", channel="mem")
    response = await phone.result(other, status="sent")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_an_expired_lease_is_offered_again(phone: Phone) -> None:
    message_id = await phone.send("79001234567")
    await phone.next()
    phone.clock.advance(61)
    requeued, unknown = await Dispatcher(phone.rt).recover()
    assert requeued == [message_id] and unknown == []
    phone.clock.advance(12)
    again = (await phone.next()).json()
    assert again["id"] == message_id and again["attempt"] == 2


async def test_a_device_asking_again_gets_the_message_it_still_holds(phone: Phone) -> None:
    message_id = await phone.send("79001234567")
    first = (await phone.next()).json()
    again = (await phone.next()).json()
    assert again["id"] == message_id and again["attempt"] == 1
    assert again["lease_expires_at"] == first["lease_expires_at"]


async def test_a_late_sent_result_after_the_lease_ran_out_still_counts(phone: Phone) -> None:
    message_id = await phone.send("79001234567")
    await phone.next()
    phone.clock.advance(61)
    await Dispatcher(phone.rt).recover()
    assert (await phone.message(message_id))["status"] == "queued"
    answer = await phone.result(message_id, status="sent")
    assert answer.json() == {"id": message_id, "status": "sent", "applied": True}
    phone.clock.advance(13)
    assert (await phone.next()).status_code == 204


async def test_a_media_message_carries_its_url(phone: Phone) -> None:
    media = {"url": "https://crm.example/files/invoice.pdf", "filename": "invoice.pdf", "caption": "Your invoice"}
    response = await phone.client.post(
        "/v1/messages", json={"channel": "phone", "to": "79001234567", "type": "document", "media": media}
    )
    offer = (await phone.next()).json()
    assert offer["id"] == response.json()["id"]
    assert offer["media"] == {**media, "mime_type": None}
    assert offer["text"] == "Your invoice"


async def test_media_known_only_by_id_fails_instead_of_being_offered(phone: Phone) -> None:
    response = await phone.client.post(
        "/v1/messages", json={"channel": "phone", "to": "79001234567", "type": "image", "media": {"id": "abc"}}
    )
    assert (await phone.next()).status_code == 204
    message = await phone.message(response.json()["id"])
    assert message["status"] == "failed" and message["error"]["code"] == "media_unavailable"


# -- notifications -------------------------------------------------------------------------------------


async def test_a_notification_from_a_saved_contact_becomes_an_inbound_message(phone: Phone) -> None:
    await phone.client.put("/v1/contacts/79001112233", json={"name": "Ivan Petrov"})
    answer = await phone.notify(key="0|com.whatsapp|1|chat|10145|1", title="Ivan Petrov", text="Is my order ready?")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "message" and body["duplicate"] is False and body["phone"] == "79001112233"
    message = await phone.message(body["message_id"])
    assert message["direction"] == "in" and message["status"] == "received" and message["from"] == "79001112233"
    assert message["text"] == "Is my order ready?"
    assert message["sender"] == {"name": "Ivan Petrov", "match": "name", "resolved": True, "candidates": []}
    [event] = await phone.events("message.received")
    assert event["phone"] == "79001112233"


async def test_a_notification_titled_with_a_number_is_matched_by_number(phone: Phone) -> None:
    body = (await phone.notify(key="k-number", title="+7 900 555-44-33", text="hi")).json()
    assert body["phone"] == "79005554433" and body["sender"]["match"] == "number"


async def test_the_chat_jid_in_the_key_names_the_sender(phone: Phone) -> None:
    key = "0|com.whatsapp|1|79007776655@s.whatsapp.net|10145|1700000000000"
    body = (await phone.notify(key=key, title="Someone: with a colon", text="hi")).json()
    assert body["phone"] == "79007776655" and body["sender"]["match"] == "jid"
    assert "group" not in await phone.message(body["message_id"])


@pytest.mark.parametrize("title", ["Parents chat: Ivan Petrov", "Ivan Petrov @ Parents chat"])
async def test_a_group_notification_names_the_group_and_the_sender(phone: Phone, title: str) -> None:
    await phone.client.put("/v1/contacts/79001112233", json={"name": "Ivan Petrov"})
    body = (await phone.notify(key=f"g-{title}", title=title, text="See you at 5")).json()
    message = await phone.message(body["message_id"])
    assert message["group"] == {"name": "Parents chat"}
    assert message["from"] == "79001112233" and message["text"] == "See you at 5"


async def test_a_summary_becomes_no_message_but_is_recorded(phone: Phone) -> None:
    body = (await phone.notify(key="summary-1", title="WhatsApp", text="5 new messages")).json()
    assert body["status"] == "summary" and body["message_id"] is None
    again = (await phone.notify(key="summary-1", title="WhatsApp", text="5 new messages")).json()
    assert again == {"status": "summary", "message_id": None, "duplicate": True}
    listing = (await phone.client.get("/v1/messages?direction=in")).json()
    assert listing["data"] == []


async def test_the_same_notification_twice_is_one_message(phone: Phone) -> None:
    first = (await phone.notify(key="dup-1", title="+79001112233", text="hello")).json()
    second = (await phone.notify(key="dup-1", title="+79001112233", text="hello")).json()
    assert second == {"status": "message", "message_id": first["message_id"], "duplicate": True}
    assert len(await phone.events("message.received")) == 1


async def test_an_ambiguous_name_is_flagged_with_its_candidates(phone: Phone) -> None:
    await phone.client.put("/v1/contacts/79001112233", json={"name": "Anna"})
    await phone.client.put("/v1/contacts/79004445566", json={"name": "anna"})
    body = (await phone.notify(key="amb", title="Anna", text="hi")).json()
    assert body["phone"] == device_inbound.UNKNOWN_PHONE
    assert body["sender"] == {
        "name": "Anna",
        "match": "ambiguous",
        "resolved": False,
        "candidates": ["79001112233", "79004445566"],
    }


async def test_an_unknown_name_is_flagged(phone: Phone) -> None:
    body = (await phone.notify(key="unk", title="Stranger", text="hi")).json()
    assert body["phone"] == "0" and body["sender"]["match"] == "unknown" and body["sender"]["resolved"] is False


async def test_a_notification_needs_a_key(phone: Phone) -> None:
    response = await phone.notify(title="x", text="y")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "key"


# -- presence ------------------------------------------------------------------------------------------


async def test_a_heartbeat_records_battery_screen_and_versions(phone: Phone) -> None:
    response = await phone.client.post(
        "/device/v1/heartbeat",
        json={"battery": 87, "charging": True, "screen": "on", "whatsapp_version": "2.24.1.6", "app_version": "0.1.0"},
        headers=phone.auth,
    )
    assert response.status_code == 200
    [device] = (await phone.client.get("/v1/channels/phone/devices")).json()["data"]
    assert device["status"] == "online" and device["battery"] == 87 and device["charging"] is True
    assert device["screen_on"] is True and device["whatsapp_version"] == "2.24.1.6"


async def test_a_heartbeat_with_a_bad_battery_is_refused(phone: Phone) -> None:
    response = await phone.client.post("/device/v1/heartbeat", json={"battery": 140}, headers=phone.auth)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "battery"


async def test_a_silent_device_goes_offline_and_comes_back_online(phone: Phone) -> None:
    await phone.client.post("/device/v1/heartbeat", json={}, headers=phone.auth)
    phone.clock.advance(119)
    assert await device_service.sweep_offline(phone.rt) == []
    phone.clock.advance(2)
    assert [r.name for r in await device_service.sweep_offline(phone.rt)] == ["pixel"]
    [device] = (await phone.client.get("/v1/channels/phone/devices")).json()["data"]
    assert device["status"] == "offline"
    await phone.next()
    statuses = [(e["device"], e["status"]) for e in await phone.events("channel.status")]
    assert statuses == [("pixel", "online"), ("pixel", "offline"), ("pixel", "online")]
    event = (await phone.events("channel.status"))[1]
    assert event["channel"] == "phone" and event["at"]


async def test_the_device_token_never_reaches_the_logs(phone: Phone, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    await phone.client.post("/device/v1/heartbeat", json={"battery": 50}, headers=phone.auth)
    await phone.next()
    await phone.client.get("/device/v1/next", headers={"Authorization": f"Bearer {phone.token}x"})
    assert phone.token not in caplog.text
