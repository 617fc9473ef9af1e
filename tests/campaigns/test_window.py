"""The sending window and the start time, on an injected clock (tenant zone: Europe/Moscow, UTC+3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.campaigns.conftest import Campaigns
from tests.campaigns.test_lifecycle import csv_of, phones

pytestmark = pytest.mark.asyncio


def utc(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


async def moscow(campaigns: Campaigns) -> None:
    assert (await campaigns.client.patch("/v1/policy", json={"timezone": "Europe/Moscow"})).status_code == 200


async def test_nothing_is_enqueued_outside_the_window(campaigns: Campaigns) -> None:
    await moscow(campaigns)
    campaigns.clock.set(utc(18))  # 21:00 in Moscow
    created = await campaigns.create(csv_of(phones(5)), window="10:00-20:00")
    assert created["window"] == {"start": "10:00", "end": "20:00", "timezone": "Europe/Moscow"}
    cid = created["id"]
    await campaigns.act(cid, "start")
    assert await campaigns.runner.step(cid) == 0
    waiting = await campaigns.get(cid)
    assert waiting["waiting"] == {"reason": "window", "until": "2026-01-02T07:00:00+00:00"}
    campaigns.clock.set(utc(6, 59, day=2))  # 09:59 in Moscow
    assert await campaigns.runner.step(cid) == 0
    assert await campaigns.outbound() == []
    campaigns.clock.set(utc(7, 0, day=2))  # 10:00 in Moscow
    assert await campaigns.runner.step(cid) == 5
    assert (await campaigns.get(cid))["waiting"] is None


async def test_queued_messages_come_back_when_the_window_closes(campaigns: Campaigns) -> None:
    await moscow(campaigns)
    campaigns.clock.set(utc(16, 59))  # 19:59 in Moscow
    cid = (await campaigns.create(csv_of(phones(6)), window="10:00–20:00", max_in_flight=3))["id"]
    await campaigns.act(cid, "start")
    assert await campaigns.runner.step(cid) == 3
    campaigns.clock.set(utc(17, 0))  # 20:00: closed
    assert await campaigns.runner.step(cid) == 0
    assert await campaigns.send_all() == 0
    stats = (await campaigns.get(cid))["stats"]
    assert (stats["queued"], stats["pending"]) == (0, 6)
    campaigns.clock.set(utc(7, 0, day=2))
    await campaigns.runner.step(cid)
    await campaigns.send_all()
    channel = await campaigns.channel()
    assert [m.phone for m in channel.sent] == phones(3)


async def test_a_window_across_midnight(campaigns: Campaigns) -> None:
    await moscow(campaigns)
    campaigns.clock.set(utc(12))  # 15:00: outside 22:00–06:00
    cid = (await campaigns.create(csv_of(phones(2)), window="22:00-06:00"))["id"]
    await campaigns.act(cid, "start")
    assert await campaigns.runner.step(cid) == 0
    assert (await campaigns.get(cid))["waiting"]["until"] == "2026-01-01T19:00:00+00:00"
    campaigns.clock.set(utc(2, day=2))  # 05:00 next morning: open
    assert await campaigns.runner.step(cid) == 2


async def test_the_campaign_waits_for_its_start_time(campaigns: Campaigns) -> None:
    cid = (await campaigns.create(csv_of(phones(2)), start_at="2026-01-01T16:00:00+03:00"))["id"]
    started = await campaigns.act(cid, "start")
    assert started["start_at"] == "2026-01-01T13:00:00+00:00"
    assert await campaigns.runner.step(cid) == 0
    assert (await campaigns.get(cid))["waiting"] == {"reason": "start_at", "until": "2026-01-01T13:00:00+00:00"}
    campaigns.clock.set(utc(13))
    assert await campaigns.runner.step(cid) == 2


async def test_the_campaign_zone_can_be_its_own(campaigns: Campaigns) -> None:
    campaigns.clock.set(utc(12))  # 22:00 in Vladivostok (UTC+10)
    created = await campaigns.create(csv_of(phones(1)), window="09:00-21:00", timezone="Asia/Vladivostok")
    await campaigns.act(created["id"], "start")
    assert await campaigns.runner.step(created["id"]) == 0
    assert (await campaigns.get(created["id"]))["waiting"]["until"] == "2026-01-01T23:00:00+00:00"
