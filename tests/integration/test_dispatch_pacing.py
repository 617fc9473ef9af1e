"""Pacing through the database, on SQLite and PostgreSQL, with a fake clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.dispatch_support import START, fake_clock_node
from wagate.clock import FakeClock
from wagate.services.inbound import record_inbound
from wagate.store.tables import events

pytestmark = pytest.mark.asyncio
NO_RECIPIENT_SPACING = {"recipient_interval_s": 0}


def phones(n: int, base: int = 79000000000) -> list[str]:
    return [str(base + i) for i in range(n)]


async def test_gaps_between_recorded_sends_stay_within_min_and_max_and_spread(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing={"per_second": 1, "min_interval_s": 5, "max_interval_s": 12})
        await node.send(phones(40))
        await node.drain()
        times = await node.send_times()
        assert len(times) == 40
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert all(5.0 <= g <= 12.0 for g in gaps), gaps
        assert min(gaps) < 6.5 and max(gaps) > 10.5  # spread across the range
        assert len((await node.memory("main")).sent) == 40


async def test_daily_cap_stops_sending_and_resumes_the_next_day(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing={"daily_cap": 30})
        ids = await node.send(phones(40))
        await node.drain(until=datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
        statuses = await node.statuses(ids)
        assert sum(s == "sent" for s in statuses.values()) == 30
        assert sum(s == "queued" for s in statuses.values()) == 10
        await node.drain()
        assert set((await node.statuses(ids)).values()) == {"sent"}
        times = await node.send_times()
        assert times[30] == datetime(2026, 3, 3, tzinfo=UTC)


async def test_one_recipient_gets_at_most_one_message_per_six_seconds(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing={"per_second": 100})
        await node.send(["79001112233", "79001112244", "79001112233", "79001112233"])
        await node.drain()
        memory = await node.memory("main")
        assert [m.phone for m in memory.sent][:2] == ["79001112233", "79001112244"]
        times = await node.send_times()
        same = [t for t, m in zip(times, memory.sent, strict=True) if m.phone == "79001112233"]
        assert [(b - a).total_seconds() for a, b in itertools.pairwise(same)] == [6.0, 6.0]


async def test_pacing_holds_across_a_restart(db_url: str, tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with fake_clock_node(db_url, tmp_path, clock=clock) as node:
        await node.create_channel("main", pacing={"min_interval_s": 30, "max_interval_s": 30})
        await node.send(["79001112233"])
        await node.drain()
    clock.advance(10)
    async with fake_clock_node(db_url, tmp_path, clock=clock) as node:  # a new process, same database
        [second] = await node.send(["79001112244"])
        assert not await node.dispatcher.run_once()
        assert node.dispatcher.next_wake() == START + timedelta(seconds=30)
        await node.drain()
        assert (await node.statuses([second]))[second] == "sent"
        assert (await node.send_times())[-1] == START + timedelta(seconds=30)


async def test_new_contacts_beyond_the_daily_cap_wait_for_the_next_day(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing={**NO_RECIPIENT_SPACING, "new_contacts_daily_cap": 2})
        row = await node.channel("main")
        await record_inbound(node.rt, row, phone="79005550000", type="text", payload={"text": "hi"}, provider_id="in-1")
        ids = await node.send(["79001110001", "79001110002", "79001110003", "79005550000"])
        await node.drain(until=datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
        statuses = await node.statuses(ids)
        assert [statuses[i] for i in ids] == ["sent", "sent", "queued", "sent"]  # the known contact is not held
        await node.drain()
        assert (await node.statuses(ids))[ids[2]] == "sent"
        assert (await node.send_times())[-1] == datetime(2026, 3, 3, tzinfo=UTC)


async def test_guard_pauses_the_channel_when_too_many_messages_go_unanswered(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        guard = {"unanswered_threshold": 0.7, "unanswered_min_sample": 5, "unanswered_grace_minutes": 10}
        await node.create_channel("main", pacing={**NO_RECIPIENT_SPACING, **guard})
        await node.send(phones(6))
        await node.drain()
        row = await node.channel("main")
        node.clock.advance(300)
        await record_inbound(node.rt, row, phone=phones(6)[0], type="text", payload={"text": "ok"}, provider_id="a1")
        node.clock.advance(600)  # past the grace period: 5 of 6 unanswered (83 % > 70 %)
        [late] = await node.send(["79009990000"])
        await node.drain()
        channel = (await node.client.get("/v1/channels/main")).json()
        assert channel["status"] == "paused"
        assert (await node.statuses([late]))[late] == "queued"
        rows = await node.rt.db.read(
            lambda c: list(c.execute(sa.select(events.c.payload).where(events.c.type == "channel.status")))
        )
        assert len(rows) == 1
        assert rows[0].payload["status"] == "paused" and "5 of 6" in rows[0].payload["reason"]
        pacing = (await node.client.get("/v1/channels/main/pacing")).json()
        assert "5 of 6" in pacing["paused_reason"]
        # An operator resumes it: the guard judges only what is sent from now on.
        assert (await node.client.patch("/v1/channels/main", json={"status": "active"})).status_code == 200
        await node.drain()
        assert (await node.statuses([late]))[late] == "sent"
