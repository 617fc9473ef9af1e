"""The WAMM-style door on a device channel, over HTTP, with the device protocol played by the test.

The phone is the edge we cannot reach: the test speaks ``/device/v1`` as the agent would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.conftest import API_TOKEN, START, compat_registry
from tests.conftest import make_settings, running_app
from wagate.channels.device import KIND as DEVICE_KIND
from wagate.clock import FakeClock
from wagate.runtime import Runtime
from wagate.store.repos import tenants as tenant_repo

pytestmark = pytest.mark.asyncio


@dataclass
class Device:
    rt: Runtime
    clock: FakeClock
    client: httpx.AsyncClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def api2(self, method: str, **params: str) -> httpx.Response:
        return await self.client.get(f"/api2/{method}/{API_TOKEN}/", params=params)

    async def heartbeat(self) -> None:
        response = await self.client.post("/device/v1/heartbeat", json={"battery": 80}, headers=self.auth)
        assert response.status_code == 200, response.text

    async def next_check(self) -> httpx.Response:
        return await self.client.get("/device/v1/checks/next", headers=self.auth)

    async def answer(self, job_id: int, whatsapp: str) -> httpx.Response:
        return await self.client.post(
            f"/device/v1/checks/{job_id}/result", json={"whatsapp": whatsapp}, headers=self.auth
        )


async def _device(db_url: str, tmp_path: Path, settings: dict[str, Any]) -> AsyncIterator[Device]:
    clock = FakeClock(START)
    registry = compat_registry()
    registry.add(DEVICE_KIND)
    app_settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(app_settings, clock=clock, registry=registry) as (_a, rt, client):
        tenant = await rt.db.read(lambda c: tenant_repo.get_tenant_by_name(c, "default"))
        assert tenant is not None
        await rt.db.write(lambda c: tenant_repo.store_token(c, tenant.id, "crm", "api", API_TOKEN, clock.now()))
        created = await client.post(
            "/v1/channels",
            json={
                "name": "phone",
                "kind": "device",
                "settings": {"offline_after_s": 120, **settings},
                "pacing": {"min_interval_s": 5, "max_interval_s": 12},
            },
        )
        assert created.status_code == 201, created.text
        device = await client.post("/v1/channels/phone/devices", json={"name": "pixel"})
        assert device.status_code == 201, device.text
        yield Device(rt, clock, client, device.json()["token"])


@pytest.fixture
async def device(db_url: str, tmp_path: Path) -> AsyncIterator[Device]:
    async for value in _device(db_url, tmp_path, {"check_wait_s": 5}):
        yield value


@pytest.fixture
async def impatient(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Device]:
    """A device channel whose phone checks wait only 0.3 s for the device."""
    async for value in _device(sqlite_url, tmp_path, {"check_wait_s": 0.3}):
        yield value


# --- acc not authorized ----------------------------------------------------------------------------


async def test_a_device_channel_with_no_device_online_is_acc_not_authorized(device: Device) -> None:
    response = await device.api2("msg_to", phone="79001234567", text="Заказ готов")
    assert response.json() == {"err": "acc not authorized"}
    assert response.headers["X-Wagate-Error"] == "device_offline"
    checked = await device.api2("check_phone", phone="79001234567")
    assert checked.json() == {"err": "acc not authorized", "result": "error"}


async def test_a_device_online_is_authorized_until_it_falls_silent(device: Device) -> None:
    await device.heartbeat()
    assert (await device.api2("msg_to", phone="79001234567", text="hi")).json() == {"err": 0, "msg_id": 1}
    device.clock.advance(121)
    assert (await device.api2("msg_to", phone="79001234567", text="hi")).json() == {"err": "acc not authorized"}


# --- check_phone through the device ------------------------------------------------------------------


async def test_check_phone_is_answered_by_the_device_opening_the_chat(device: Device) -> None:
    await device.heartbeat()

    async def phone_side() -> None:
        while True:
            offered = await device.next_check()
            if offered.status_code == 200:
                job = offered.json()
                assert job["phone"] == "79001234567" and job["link"] == "https://wa.me/79001234567"
                assert (await device.answer(job["id"], "exists")).status_code == 200
                return
            await asyncio.sleep(0.05)

    asked, _ = await asyncio.gather(device.api2("check_phone", phone="+7 900 123-45-67"), phone_side())
    assert asked.json() == {"err": 0, "result": "exists"}


async def test_an_unanswered_check_asks_to_retry_and_the_retry_finds_the_answer(impatient: Device) -> None:
    await impatient.heartbeat()
    first = await impatient.api2("check_phone", phone="79001230000")
    assert first.json() == {"err": "phone not checked for WhatsApp, please retry", "result": "error"}
    assert first.headers["X-Wagate-Error"] == "phone_check_pending"
    again = await impatient.api2("check_phone", phone="79001230000")  # joins the open job, not a second one
    assert again.json()["err"] == "phone not checked for WhatsApp, please retry"
    job = (await impatient.next_check()).json()
    assert (await impatient.next_check()).status_code == 204  # one job for the number
    assert (await impatient.answer(job["id"], "none")).json()["whatsapp"] == "none"
    assert (await impatient.api2("check_phone", phone="79001230000")).json() == {"err": 0, "result": "none"}
    refused = await impatient.api2("msg_to", phone="79001230000", text="hi")
    assert refused.json() == {"err": "no WhatsApp on the number"}


async def test_phone_checks_are_paced_like_sends(device: Device) -> None:
    await device.heartbeat()
    tenant_id = 1
    channel = (await device.rt.channels_of(tenant_id, fresh=True))["phone"]
    from wagate.store.repos import phone_checks

    now = device.clock.now()
    for phone in ("79001230001", "79001230002"):
        await device.rt.db.write(lambda c, p=phone: phone_checks.request(c, tenant_id, channel.id, p, now))
    assert (await device.next_check()).status_code == 200
    waiting = await device.next_check()
    assert waiting.status_code == 204
    assert 5.0 <= float(waiting.headers["X-Retry-After-Seconds"]) <= 12.0
    # a message queued now waits for the same slot
    assert (await device.api2("msg_to", phone="79001234567", text="hi")).json()["err"] == 0
    held = await device.client.get("/device/v1/next", headers=device.auth)
    assert held.status_code == 204 and 5.0 <= float(held.headers["X-Retry-After-Seconds"]) <= 12.0
    device.clock.advance(12.01)
    assert (await device.next_check()).status_code == 200


async def test_a_message_to_an_unchecked_number_goes_to_the_device_which_checks_by_sending(device: Device) -> None:
    await device.heartbeat()
    response = await device.api2("msg_to", phone="79001234567", text="hi")
    assert response.json() == {"err": 0, "msg_id": 1}  # no separate check: opening the chat to send is one
    assert (await device.next_check()).status_code == 204


async def test_a_check_answer_is_validated_and_idempotent(device: Device) -> None:
    await device.heartbeat()
    tenant_id = 1
    channel = (await device.rt.channels_of(tenant_id, fresh=True))["phone"]
    from wagate.store.repos import phone_checks

    now = device.clock.now()
    await device.rt.db.write(lambda c: phone_checks.request(c, tenant_id, channel.id, "79001234567", now))
    job = (await device.next_check()).json()
    assert (await device.answer(job["id"], "maybe")).status_code == 422
    assert (await device.answer(job["id"], "exists")).json()["applied"] is True
    assert (await device.answer(job["id"], "none")).json() == {
        "id": job["id"],
        "phone": "79001234567",
        "whatsapp": "exists",
        "applied": False,
    }
    assert (await device.answer(999, "none")).status_code == 404
