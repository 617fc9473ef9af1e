"""Ban protection against the real road: the Cloud API channel, the in-process sandbox and its
signed webhooks. Clients answer a campaign with "STOP" through ``POST /sandbox/inject``; the
opt-out keyword hook revokes their consent, and the campaign pauses itself and says why.

The dispatcher runs in the background as in production; the campaign runner is stepped by the
test, so "after these five messages and three STOPs" is exact rather than a race.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.channels.cloud.live import Live, live_gateway, sandbox_plugins
from tests.conftest import free_port, make_settings
from wagate.dispatch.campaigns import CampaignRunner, campaigns_plugin

pytestmark = pytest.mark.asyncio

PHONES = [f"7901{i:07d}" for i in range(1, 31)]


async def until(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_stop_replies_pause_the_campaign(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, sandbox=True, port=free_port(), dispatcher_workers=2)
    plugins = [*sandbox_plugins(), campaigns_plugin(background=False)]
    async with live_gateway(settings, plugins=plugins) as live:
        runner: CampaignRunner = live.rt.components.get(CampaignRunner)
        csv = "phone;name;param1;param2\n" + "".join(f"{p};N{i};N{i};#{i}\n" for i, p in enumerate(PHONES))
        response = await live.client.post(
            "/v1/campaigns",
            data={
                "template": "order_update",
                "language": "en",
                "channel": "sandbox",
                "max_in_flight": "5",
                "protection": '{"window": 20, "min_sample": 5, "max_optout_rate": 0.2}',
            },
            files={"file": ("list.csv", csv.encode(), "text/csv")},
        )
        assert response.status_code == 201, response.text
        cid = response.json()["id"]
        assert response.json()["report"]["sendable"] == 30
        assert (await live.client.post(f"/v1/campaigns/{cid}/start")).status_code == 200

        assert await runner.step(cid) == 5
        first = await campaign_messages(live, cid)
        for message in first:
            await live.wait(message["id"], until=lambda m: m["status"] == "read")
        for phone in PHONES[:3]:
            injected = await live.client.post("/sandbox/inject", json={"from": phone, "text": "STOP"})
            assert injected.status_code == 200, injected.text

        async def revoked() -> bool:
            states = [(await live.client.get(f"/v1/consents/{p}")).json().get("status") for p in PHONES[:3]]
            return states == ["revoked"] * 3

        await until(revoked)
        await runner.step(cid)
        paused = (await live.client.get(f"/v1/campaigns/{cid}")).json()
        assert (paused["state"], paused["paused_code"]) == ("paused", "optout_rate")
        assert paused["paused_reason"] == "opt-out rate 60% (3 of the last 5 messages) passed the 20% limit"
        stats = paused["stats"]
        assert (stats["sent"], stats["read"], stats["opted_out"], stats["replied"], stats["pending"]) == (
            5,
            5,
            3,
            0,
            25,
        )
        assert await runner.step(cid) == 0
        assert len(await campaign_messages(live, cid)) == 5


async def campaign_messages(live: Live, campaign_id: int) -> list[dict[str, Any]]:
    response = await live.client.get(
        f"/v1/campaigns/{campaign_id}/recipients", params={"state": "enqueued", "limit": 100}
    )
    assert response.status_code == 200
    return [{"id": r["message_id"], "phone": r["phone"]} for r in response.json()["data"]]
