"""Dispatcher behaviour on SQLite and PostgreSQL: validity, cancel races, retries, recovery, resolution."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import make_settings, running_app
from tests.integration.dispatch_support import dispatch_registry, fake_clock_node
from wagate.channels.base import SendResult
from wagate.dispatch.claim import AttemptResult, claim_next, complete, next_slot
from wagate.dispatch.dispatcher import Dispatcher
from wagate.runtime import Runtime
from wagate.store.tables import events

pytestmark = pytest.mark.asyncio
FAST = {"per_second": 1000, "recipient_interval_s": 0}


def history(message: dict[str, object]) -> list[str]:
    return [h["status"] for h in message["history"] if h["applied"]]  # type: ignore[attr-defined, index]


async def test_a_message_whose_validity_passes_while_paced_expires_and_is_never_sent(
    db_url: str, tmp_path: Path
) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel(
            "main", pacing={"min_interval_s": 60, "max_interval_s": 60, "recipient_interval_s": 0}
        )
        first, second = await node.send(["79001110001", "79001110002"], validity_seconds=30)
        await node.drain()
        assert await node.statuses([first, second]) == {first: "sent", second: "expired"}
        assert [m.id for m in (await node.memory("main")).sent] == [first]
        message = await node.message(second)
        assert message["error"]["code"] == "expired"
        assert history(message) == ["queued", "expired"]


async def test_validity_expires_on_a_paused_channel_too(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing=FAST)
        await node.client.patch("/v1/channels/main", json={"status": "paused"})
        [mid] = await node.send(["79001110001"], validity_seconds=60)
        assert await node.dispatcher.housekeep() is not None  # the validity is the next deadline
        node.clock.advance(61)
        await node.dispatcher.housekeep()
        assert (await node.statuses([mid]))[mid] == "expired"


async def test_cancel_racing_a_claim_ends_one_way_or_the_other_cleanly(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", pacing=FAST)
        ids = await node.send([str(79001110000 + i) for i in range(60)])

        async def cancel(mid: int) -> int:
            return (await node.client.post(f"/v1/messages/{mid}/cancel")).status_code

        async def dispatch() -> None:
            while await node.dispatcher.run_once():
                pass

        results = await asyncio.gather(dispatch(), *(cancel(m) for m in ids))
        codes = dict(zip(ids, results[1:], strict=True))
        statuses = await node.statuses(ids)
        sent = {m.id for m in (await node.memory("main")).sent}
        for mid in ids:
            if codes[mid] == 200:
                assert statuses[mid] == "cancelled" and mid not in sent
            else:
                assert codes[mid] == 409 and statuses[mid] == "sent" and mid in sent
        assert len(sent) == len([m for m in (await node.memory("main")).sent])  # nothing sent twice


async def test_transient_errors_are_retried_with_backoff_until_success(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path, retry_base_seconds=2.0) as node:
        await node.create_channel("main", settings={"fail_transient": {"79001234567": 2}}, pacing=FAST)
        [mid] = await node.send(["79001234567"])
        await node.drain()
        message = await node.message(mid)
        assert message["status"] == "sent" and message["attempts"] == 3
        assert history(message) == ["queued", "sending", "queued", "sending", "queued", "sending", "sent"]
        times = await node.send_times()
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert 1.0 <= gaps[0] <= 2.0 and 2.0 <= gaps[1] <= 4.0  # exponential, jittered


async def test_retries_stop_after_the_configured_attempts(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path, retry_max_attempts=3) as node:
        await node.create_channel("main", settings={"fail_transient": {"79001234567": 99}}, pacing=FAST)
        [mid] = await node.send(["79001234567"])
        await node.drain()
        message = await node.message(mid)
        assert message["status"] == "failed" and message["attempts"] == 3
        assert message["error"]["code"] == "temporary"
        assert history(message).count("sending") == 3


async def test_a_permanent_error_fails_at_once_with_the_channels_code(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", settings={"fail_permanent": ["79001234567"]}, pacing=FAST)
        [mid] = await node.send(["79001234567"])
        await node.drain()
        message = await node.message(mid)
        assert (message["status"], message["attempts"]) == ("failed", 1)
        assert message["error"] == {"code": "recipient_refused", "message": "recipient refused"}


async def test_an_expired_lease_becomes_unknown_is_listed_and_an_admin_resolves_it(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path, lease_seconds=30) as node:
        await node.create_channel("main", pacing=FAST)
        [mid] = await node.send(["79001234567"])
        claimed = await claim_next(node.rt, await node.channel("main"), owner="a-process-that-dies")
        assert claimed is not None and claimed.id == mid
        node.clock.advance(31)
        requeued, unknown = await node.dispatcher.recover()
        assert (requeued, unknown) == ([], [mid])
        listed = (await node.client.get("/v1/messages", params={"status": "unknown"})).json()["data"]
        assert [m["id"] for m in listed] == [mid]
        assert listed[0]["error"]["code"] == "unknown_outcome"
        await node.drain()
        assert (await node.memory("main")).sent == []  # never resent blindly
        bad = await node.client.post(f"/v1/messages/{mid}/resolve", json={"status": "queued"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
        resolved = await node.client.post(f"/v1/messages/{mid}/resolve", json={"status": "delivered", "note": "seen"})
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["status"] == "delivered"
        assert "resolved by" in resolved.json()["history"][-1]["reason"]
        again = await node.client.post(f"/v1/messages/{mid}/resolve", json={"status": "failed"})
        assert again.status_code == 409


async def test_an_expired_lease_on_a_resend_safe_channel_is_offered_again(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path, lease_seconds=30) as node:
        await node.create_channel("safe", kind="memsafe", pacing=FAST)
        [mid] = await node.send(["79001234567"], channel="safe")
        assert await claim_next(node.rt, await node.channel("safe"), owner="a-process-that-dies") is not None
        node.clock.advance(31)
        assert await node.dispatcher.recover() == ([mid], [])
        await node.drain()
        message = await node.message(mid)
        assert message["status"] == "sent" and message["attempts"] == 2
        assert [m.id for m in (await node.memory("safe")).sent] == [mid]


async def test_pull_channels_are_left_to_claim_next(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("phone", kind="mempull", pacing={"min_interval_s": 5, "max_interval_s": 5})
        first, second = await node.send(["79001110001", "79001110002"], channel="phone")
        assert not await node.dispatcher.run_once()
        assert await node.statuses([first, second]) == {first: "queued", second: "queued"}
        row = await node.channel("phone")
        claimed = await claim_next(node.rt, row, owner="device-1")
        assert claimed is not None and claimed.id == first and claimed.status == "sending"
        assert await claim_next(node.rt, row, owner="device-1") is None  # the 5 s pause holds
        assert await next_slot(node.rt, row) == node.clock.now() + timedelta(seconds=5)
        await complete(node.rt, row, [AttemptResult(first, 1, SendResult("dev-1"))], resend_safe=False)
        assert (await node.message(first))["status"] == "sent"


async def test_the_dispatcher_counts_status_transitions_in_metrics(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", settings={"fail_permanent": ["79001110002"]}, pacing=FAST)
        await node.send(["79001110001", "79001110002"])
        await node.drain()
        text = (await node.client.get("/metrics")).text
        assert 'wagate_message_status_total{channel="main",status="sending"} 2.0' in text
        assert 'wagate_message_status_total{channel="main",status="sent"} 1.0' in text
        assert 'wagate_message_status_total{channel="main",status="failed"} 1.0' in text


async def _wait_sent(rt: Runtime, client: httpx.AsyncClient, mid: int, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if (await client.get(f"/v1/messages/{mid}")).json()["status"] == "sent":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"message {mid} was not sent within {timeout} s")


async def test_a_new_message_wakes_an_idle_dispatcher_at_once(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, dispatcher=True, dispatcher_workers=2)
    async with running_app(settings, registry=dispatch_registry()) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": FAST})
        await asyncio.sleep(0.2)
        dispatcher = rt.components.get(Dispatcher)
        assert dispatcher.next_wake() is None  # idle: workers sleep with no timer at all
        mid = (await client.post("/v1/messages", json={"to": "79001234567", "text": "hi"})).json()["id"]
        await _wait_sent(rt, client, mid, timeout=5.0)


async def test_every_transition_the_dispatcher_makes_has_its_outbox_event_in_order(db_url: str, tmp_path: Path) -> None:
    async with fake_clock_node(db_url, tmp_path) as node:
        await node.create_channel("main", settings={"fail_transient": {"79001234567": 1}}, pacing=FAST)
        [mid] = await node.send(["79001234567"])
        await node.drain()
        query = sa.select(events.c.payload).where(events.c.message_id == mid).order_by(events.c.id)
        payloads = [r.payload for r in await node.rt.db.read(lambda c: list(c.execute(query)))]
        assert [p["status"] for p in payloads] == history(await node.message(mid))
        assert [p["previous_status"] for p in payloads] == [None, "queued", "sending", "queued", "sending"]
