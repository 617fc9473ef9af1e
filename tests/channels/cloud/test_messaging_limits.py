"""Meta's portfolio messaging limit drives the policy's tier check of a cloud channel: read from the
phone number by the periodic sync and from ``phone_number_quality_update`` webhooks (shape from
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update),
unless an admin set a limit of their own."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.channels.cloud.live import Live
from tests.channels.cloud.test_sandbox_gateway import live  # noqa: F401  (the fixture)
from wagate.channels.cloud.limits import policy_with_limit
from wagate.channels.cloud.template_sync import TemplateSyncer


async def policy(live: Live) -> dict[str, Any]:  # noqa: F811
    body: dict[str, Any] = (await live.client.get("/v1/channels/sandbox")).json()["policy"]
    return body


async def test_the_sync_reads_meta_s_limit_and_a_webhook_follows_its_change(live: Live) -> None:  # noqa: F811
    await TemplateSyncer(live.rt).sync_once()
    current = await policy(live)
    assert (current["messaging_limit"], current["meta_messaging_limit"], current["meta_throughput"]) == (
        2000,
        "TIER_2K",
        "STANDARD",
    )
    assert (await live.client.post("/sandbox/limits", json={"tier": "TIER_10K"})).status_code == 200
    deadline = time.monotonic() + 10
    while (await policy(live))["messaging_limit"] != 10000:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


def test_an_admin_s_own_limit_wins_over_meta_s() -> None:
    assert policy_with_limit({"messaging_limit": 500}, "TIER_10K") == {
        "messaging_limit": 500,
        "meta_messaging_limit": "TIER_10K",
    }
    assert policy_with_limit({"messaging_limit": None}, "TIER_UNLIMITED") == {
        "messaging_limit": None,
        "messaging_limit_source": "meta",
        "meta_messaging_limit": "TIER_UNLIMITED",
    }
    manual = {"messaging_limit": 2000, "messaging_limit_source": "manual"}
    assert policy_with_limit(manual, "TIER_100K") == {**manual, "meta_messaging_limit": "TIER_100K"}


async def test_the_tier_check_refuses_past_meta_s_limit(live: Live) -> None:  # noqa: F811
    await live.client.patch("/v1/channels/sandbox", json={"policy": {"consent": "off"}})
    from wagate.channels.cloud.account import apply_account_facts
    from wagate.store.repos import channels as channel_repo

    tenant_id = live.app.state.bootstrap.tenant.id
    row = await live.rt.db.read(lambda c: channel_repo.get_channel(c, tenant_id, "sandbox"))
    assert row is not None
    await apply_account_facts(live.rt, row, {"max_daily_conversations_per_business": "TIER_50"})
    template = {"name": "order_update", "language": "en", "params": ["A", "B"]}
    codes = []
    for n in range(51):
        response = await live.client.post(
            "/v1/messages", json={"to": f"7900100{n:04d}", "type": "template", "template": template}
        )
        codes.append(response.json().get("error", {}).get("code") if response.status_code != 202 else "ok")
    assert codes[:50] == ["ok"] * 50
    assert codes[50] == "tier_limit_exceeded"
