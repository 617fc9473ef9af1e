"""A provider's throughput error holds the whole channel, not only the message that met it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.integration.dispatch_support import fake_clock_node

FAST = {"per_second": 1000, "recipient_interval_s": 0}


async def test_a_throughput_error_holds_the_channel_for_the_providers_pause(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", settings={"throttle_once": {"79001110001": 30}}, pacing=FAST)
        start = node.clock.now()
        (first,) = await node.send(["79001110001"])
        await node.dispatcher.run_once()
        assert (await node.message(first))["status"] == "queued"
        (second,) = await node.send(["79001110002"])
        await node.drain()
        assert (await node.statuses([first, second])) == {first: "sent", second: "sent"}
        refused, *sent = await node.send_times()  # every attempt is a recorded send, the refused one too
        assert refused == start
        assert len(sent) == 2
        assert min(sent) >= start + timedelta(seconds=30)
