"""``GET /v1/messages/{id}`` says which pacing rule holds a queued message and until when (both dialects)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.dispatch_support import fake_clock_node

pytestmark = pytest.mark.asyncio


async def test_a_second_message_to_one_number_names_recipient_spacing(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing={"per_second": 100, "recipient_interval_s": 6})
        (first,) = await node.send(["79001110001"])
        assert (await node.message(first))["waiting"] is None  # it may go at once
        await node.drain()
        sent_at = node.clock.now()
        (second,) = await node.send(["79001110001"])
        message = await node.message(second)
        assert message["status"] == "queued"
        assert message["waiting"]["reason"] == "recipient_spacing"
        assert datetime.fromisoformat(message["waiting"]["until"]) == sent_at + timedelta(seconds=6)
        node.clock.advance(6)
        assert (await node.message(second))["waiting"] is None


async def test_the_daily_cap_and_a_pause_are_named(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing={"per_second": 100, "recipient_interval_s": 0, "daily_cap": 1})
        await node.send(["79001110001"])
        await node.drain(until=node.clock.now())
        (held,) = await node.send(["79001110002"])
        assert (await node.message(held))["waiting"]["reason"] == "daily_cap"
        response = await node.client.patch("/v1/channels/main", json={"status": "paused"})
        assert response.status_code == 200, response.text
        waiting = (await node.message(held))["waiting"]
        assert waiting["reason"] == "channel_paused" and waiting["until"] is None


async def test_a_sent_message_waits_for_nothing(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing={"per_second": 100, "recipient_interval_s": 0})
        (first,) = await node.send(["79001110001"])
        await node.drain()
        message = await node.message(first)
        assert message["status"] == "sent" and message["waiting"] is None
