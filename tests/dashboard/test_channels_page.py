"""The channels page: every channel with its state for every user; admins create channels from a form."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import test_registry as base_registry
from tests.dashboard.conftest import Desk, open_desk
from wagate.channels.device import KIND as DEVICE_KIND


async def test_the_channels_page_lists_channels_and_admins_create_one(desk: Desk) -> None:
    await desk.user("boss", role="admin")
    await desk.user("anna")
    anna = await desk.sign_in("anna")
    page = await anna.get("/dashboard/channels")
    assert page.status_code == 200
    assert 'data-channel="main"' in page.text and 'data-status="active"' in page.text
    assert "data-channel-form" not in page.text  # operators look, admins change
    refused = await anna.post("/dashboard/channels", {"kind": "memory", "name": "x"}, htmx=False)
    assert refused.status_code == 403
    boss = await desk.sign_in("boss")
    assert "data-channel-form" in (await boss.get("/dashboard/channels")).text
    form = {"kind": "memory", "name": "second", "pacing": '{"per_second": 2, "daily_cap": 300}', "policy": ""}
    created = await boss.post("/dashboard/channels", form, htmx=False)
    assert created.status_code == 303
    assert created.headers["location"] == "/dashboard/channels?created=second"
    channel = (await desk.client.get("/v1/channels/second")).json()
    assert channel["kind"] == "memory"
    assert channel["pacing"]["per_second"] == 2 and channel["pacing"]["daily_cap"] == 300
    table = await boss.get("/dashboard/channels", htmx=True)
    assert "<!doctype html>" not in table.text
    assert 'data-channel="second"' in table.text and "2/s, ≤ 300/day" in table.text


async def test_a_bad_channel_form_says_why_in_the_flash_area(desk: Desk) -> None:
    await desk.user("boss", role="admin")
    boss = await desk.sign_in("boss")
    bad_json = await boss.post("/dashboard/channels", {"kind": "memory", "name": "n", "pacing": "{per_second"})
    assert bad_json.headers["hx-retarget"] == "#flash"
    assert "pacing: not valid JSON" in bad_json.text
    exists = await boss.post("/dashboard/channels", {"kind": "memory", "name": "main"})
    assert exists.headers["hx-retarget"] == "#flash" and "exists" in exists.text
    assert [c["name"] for c in (await desk.client.get("/v1/channels")).json()["data"]] == ["main"]


async def test_an_admin_creates_a_device_token_shown_once(sqlite_url: str, tmp_path: Path) -> None:
    registry = base_registry()
    registry.add(DEVICE_KIND)
    async with open_desk(sqlite_url, tmp_path, registry=registry) as desk:
        await _device_token_flow(desk)


async def _device_token_flow(desk: Desk) -> None:
    await desk.user("boss", role="admin")
    boss = await desk.sign_in("boss")
    assert (await boss.post("/dashboard/channels", {"kind": "device", "name": "phone1"}, htmx=False)).status_code == 303
    page = await boss.get("/dashboard/channels")
    assert 'action="/dashboard/channels/phone1/devices"' in page.text
    answer = await boss.post("/dashboard/channels/phone1/devices", {"device": "pixel-6"}, htmx=False)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    token = re.search(r"data-device-token>([^<]+)<", answer.text)
    assert token is not None
    listed = (await desk.client.get("/v1/channels/phone1/devices")).json()["data"]
    assert [d["name"] for d in listed] == ["pixel-6"]
    agent = await desk.client.get("/device/v1/next", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert agent.status_code == 204  # the token shown is the device's real token: nothing is due
    wrong = await desk.client.get("/device/v1/next", headers={"Authorization": "Bearer wgd_wrong"})
    assert wrong.status_code == 401
    assert token.group(1) not in (await boss.get("/dashboard/channels")).text  # shown once
