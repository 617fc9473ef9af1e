"""Start, pause, resume, cancel; bounded batches; what the policy says at send time; live stats."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tests.campaigns.conftest import START, Campaigns
from tests.conftest import make_settings, running_app
from wagate.clock import FakeClock
from wagate.dispatch.campaigns import CampaignRunner, campaigns_plugin
from wagate.domain.statuses import Status
from wagate.services.inbound import record_inbound, record_provider_status
from wagate.store.repos.events import events_after

pytestmark = pytest.mark.asyncio


def phones(count: int, start: int = 1) -> list[str]:
    return [f"7900{i:07d}" for i in range(start, start + count)]


def csv_of(numbers: list[str]) -> str:
    return "phone,name,param1,param2\n" + "".join(f"{p},N{i},N{i},A-{i}\n" for i, p in enumerate(numbers))


async def run_to_end(campaigns: Campaigns, campaign_id: int, limit: int = 100) -> dict[str, object]:
    """Alternate runner steps and dispatcher sends until the campaign leaves ``running``."""
    for _ in range(limit):
        current = await campaigns.get(campaign_id)
        if current["state"] != "running":
            return current
        await campaigns.runner.step(campaign_id)
        await campaigns.send_all()
    raise AssertionError("the campaign did not finish")


async def test_pause_and_resume_keep_file_order_and_send_nothing_twice(campaigns: Campaigns) -> None:
    numbers = phones(25)
    cid = (await campaigns.create(csv_of(numbers), max_in_flight=4))["id"]
    await campaigns.act(cid, "start")
    await campaigns.runner.step(cid)
    await campaigns.send_all()
    await campaigns.runner.step(cid)  # four more wait in the queue …
    paused = await campaigns.act(cid, "pause")  # … and come back
    assert (paused["state"], paused["paused_code"], paused["stats"]["queued"]) == ("paused", "manual", 0)
    assert await campaigns.runner.step(cid) == 0
    assert await campaigns.send_all() == 0
    await campaigns.act(cid, "resume")
    finished = await run_to_end(campaigns, cid)
    assert finished["state"] == "completed"
    channel = await campaigns.channel()
    assert [m.phone for m in channel.sent] == numbers
    assert set(channel.counts.values()) == {1}
    pulled = [m for m in await campaigns.outbound() if m["status"] == "cancelled"]
    assert len(pulled) == 4


async def test_no_more_than_max_in_flight_messages_wait_in_the_queue(campaigns: Campaigns) -> None:
    cid = (await campaigns.create(csv_of(phones(30)), max_in_flight=7))["id"]
    await campaigns.act(cid, "start")
    assert await campaigns.runner.step(cid) == 7
    assert await campaigns.runner.step(cid) == 0
    stats = (await campaigns.get(cid))["stats"]
    assert (stats["queued"], stats["pending"]) == (7, 23)
    assert await campaigns.send_all() == 7
    assert await campaigns.runner.step(cid) == 7


async def test_two_runners_at_once_never_enqueue_a_recipient_twice(campaigns: Campaigns) -> None:
    cid = (await campaigns.create(csv_of(phones(40)), max_in_flight=10))["id"]
    await campaigns.act(cid, "start")
    other = CampaignRunner(campaigns.rt)
    results = await asyncio.gather(campaigns.runner.step(cid), other.step(cid), campaigns.runner.step(cid))
    assert sum(results) == 10
    outbound = await campaigns.outbound()
    assert len(outbound) == 10
    assert len({m["to"] for m in outbound}) == 10
    enqueued = await campaigns.recipients(cid, state="enqueued")
    assert sorted(r["message_id"] for r in enqueued) == sorted(m["id"] for m in outbound)


async def test_cancel_cancels_queued_messages_and_stops(campaigns: Campaigns) -> None:
    cid = (await campaigns.create(csv_of(phones(10)), max_in_flight=3))["id"]
    await campaigns.act(cid, "start")
    await campaigns.runner.step(cid)
    cancelled = await campaigns.act(cid, "cancel")
    assert cancelled["state"] == "cancelled"
    assert cancelled["finished_at"] is not None
    assert {m["status"] for m in await campaigns.outbound()} == {"cancelled"}
    assert await campaigns.runner.step(cid) == 0
    assert await campaigns.send_all() == 0
    refused = await campaigns.act(cid, "resume", expect=409)
    assert refused["error"]["code"] == "invalid_state"


@pytest.mark.parametrize(("state_action", "action"), [(None, "pause"), (None, "resume"), ("start", "start")])
async def test_actions_only_from_their_states(campaigns: Campaigns, state_action: str | None, action: str) -> None:
    cid = (await campaigns.create(csv_of(phones(2))))["id"]
    if state_action:
        await campaigns.act(cid, state_action)
    assert (await campaigns.act(cid, action, expect=409))["error"]["field"] == "state"


async def test_unknown_campaign_is_404(campaigns: Campaigns) -> None:
    assert (await campaigns.act(999, "start", expect=404))["error"]["code"] == "not_found"
    assert (await campaigns.client.get("/v1/campaigns/999")).status_code == 404


async def test_completed_when_every_recipient_is_handled(campaigns: Campaigns) -> None:
    cid = (await campaigns.create(csv_of(phones(3)) + "bad,x,x,x\n"))["id"]
    await campaigns.act(cid, "start")
    finished = await run_to_end(campaigns, cid)
    assert finished["state"] == "completed"
    assert finished["finished_at"] is not None
    assert finished["stats"]["sent"] == 3


async def test_policy_refusal_at_send_time_refuses_the_recipient_only(campaigns: Campaigns) -> None:
    await campaigns.set_policy(consent="enforce")
    consented, silent = phones(2)
    await campaigns.opt_in(consented)
    cid = (await campaigns.create(csv_of([consented, silent])))["id"]
    await campaigns.act(cid, "start")
    finished = await run_to_end(campaigns, cid)
    assert finished["stats"]["refused"] == {"count": 1, "by_reason": {"consent_required": 1}}
    assert [m.phone for m in (await campaigns.channel()).sent] == [consented]


async def test_a_client_who_opts_out_before_their_turn_is_skipped(campaigns: Campaigns) -> None:
    first, second = phones(2)
    cid = (await campaigns.create(csv_of([first, second])))["id"]
    await campaigns.opt_out(second)  # after the dry run, before the send
    await campaigns.act(cid, "start")
    finished = await run_to_end(campaigns, cid)
    assert finished["stats"]["refused"]["by_reason"] == {"opted_out": 1}
    assert [m.phone for m in (await campaigns.channel()).sent] == [first]


async def test_daily_cap_makes_the_campaign_wait_not_refuse(campaigns: Campaigns) -> None:
    assert (await campaigns.client.patch("/v1/policy", json={"daily_cap": 3})).status_code == 200
    cid = (await campaigns.create(csv_of(phones(5))))["id"]
    await campaigns.act(cid, "start")
    assert await campaigns.runner.step(cid) == 3
    waiting = await campaigns.get(cid)
    assert waiting["waiting"] == {"reason": "daily_cap_exceeded", "until": "2026-01-02T00:00:00+00:00"}
    assert waiting["stats"]["pending"] == 2
    assert await campaigns.runner.step(cid) == 0
    campaigns.clock.advance(timedelta(hours=12).total_seconds())
    assert await campaigns.runner.step(cid) == 2
    assert (await campaigns.get(cid))["waiting"] is None


async def test_a_template_withdrawn_mid_campaign_pauses_it(campaigns: Campaigns) -> None:
    cid = (await campaigns.create(csv_of(phones(4))))["id"]
    await campaigns.act(cid, "start")
    response = await campaigns.client.patch("/v1/templates/notice", json={"status": "rejected"})
    assert response.status_code == 200, response.text
    assert await campaigns.runner.step(cid) == 0
    paused = await campaigns.get(cid)
    assert (paused["state"], paused["paused_code"]) == ("paused", "blocked")
    assert "template_not_approved" in paused["paused_reason"]
    assert paused["stats"]["pending"] == 4


async def test_failure_spike_pauses_the_campaign_and_says_why(campaigns: Campaigns) -> None:
    numbers = phones(20)
    response = await campaigns.client.post(
        "/v1/channels", json={"name": "flaky", "kind": "memory", "settings": {"fail_permanent": numbers[:4]}}
    )
    assert response.status_code == 201
    protection = '{"window": 10, "min_sample": 5, "max_failure_rate": 0.5}'
    cid = (await campaigns.create(csv_of(numbers), channel="flaky", max_in_flight=5, protection=protection))["id"]
    await campaigns.act(cid, "start")
    await campaigns.runner.step(cid)
    await campaigns.send_all()  # 4 of the first 5 fail
    await campaigns.runner.step(cid)
    paused = await campaigns.get(cid)
    assert (paused["state"], paused["paused_code"]) == ("paused", "failure_rate")
    assert paused["paused_reason"] == "failure rate 80% (4 of the last 5 messages) passed the 50% limit"
    assert paused["stats"]["failed"] == {"count": 4, "by_reason": {"recipient_refused": 4}}
    assert paused["stats"]["pending"] == 15
    events = await campaigns.rt.db.read(lambda c: events_after(c, after_id=0, limit=100, types=["campaign.paused"]))
    assert [(e["payload"]["campaign_id"], e["payload"]["code"]) for e in events] == [(cid, "failure_rate")]
    await campaigns.act(cid, "resume")  # protection starts over: the old failures do not re-trip it
    assert (await run_to_end(campaigns, cid))["state"] == "completed"


async def test_live_stats_count_delivery_reads_failures_replies_and_opt_outs(campaigns: Campaigns) -> None:
    numbers = phones(6)
    response = await campaigns.client.post(
        "/v1/channels", json={"name": "stats", "kind": "memory", "settings": {"fail_permanent": [numbers[5]]}}
    )
    assert response.status_code == 201
    cid = (await campaigns.create(csv_of(numbers), channel="stats"))["id"]
    await campaigns.act(cid, "start")
    await run_to_end(campaigns, cid)
    tenant = await campaigns.tenant()
    row = (await campaigns.rt.channels_of(tenant.id, fresh=True))["stats"]
    by_phone = {m["to"]: m for m in await campaigns.outbound()}
    for phone, status in ((numbers[0], Status.DELIVERED), (numbers[1], Status.READ), (numbers[2], Status.READ)):
        provider_id = by_phone[phone]["provider_id"]
        assert await record_provider_status(campaigns.rt, row, provider_id=provider_id, status=status)
    await record_inbound(
        campaigns.rt, row, phone=numbers[1], type="text", payload={"text": "Thanks!"}, provider_id="r1"
    )
    await record_inbound(campaigns.rt, row, phone=numbers[2], type="text", payload={"text": "STOP"}, provider_id="r2")
    stats = (await campaigns.get(cid))["stats"]
    assert (stats["sent"], stats["delivered"], stats["read"]) == (5, 3, 2)
    assert stats["failed"] == {"count": 1, "by_reason": {"recipient_refused": 1}}
    assert (stats["replied"], stats["opted_out"]) == (1, 1)
    assert stats["conversion"] == {"delivered": 0.6, "read": 0.4, "replied": 0.2}


async def test_list_and_delete(campaigns: Campaigns) -> None:
    first = (await campaigns.create(csv_of(phones(1))))["id"]
    second = (await campaigns.create(csv_of(phones(1)), name="Spring reminders"))["id"]
    listing = (await campaigns.client.get("/v1/campaigns")).json()["data"]
    assert [c["id"] for c in listing] == [second, first]
    assert listing[0]["name"] == "Spring reminders"
    await campaigns.act(second, "start")
    assert (await campaigns.client.delete(f"/v1/campaigns/{second}")).status_code == 409
    assert (await campaigns.client.delete(f"/v1/campaigns/{first}")).status_code == 204
    assert (await campaigns.client.get(f"/v1/campaigns/{first}")).status_code == 404


async def test_a_restart_mid_campaign_continues_in_order_without_resending(db_url: str, tmp_path: Path) -> None:
    numbers = phones(12)
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    clock = FakeClock(START)
    plugins = [campaigns_plugin(background=False)]
    async with running_app(settings, clock=clock, plugins=plugins) as (_app, rt, client):
        first = Campaigns(rt, client, clock)
        assert (await client.post("/v1/channels", json={"name": "main", "kind": "memory"})).status_code == 201
        body = {"name": "notice", "language": "en", "category": "utility", "body": "{{1}} {{2}}", "status": "approved"}
        assert (await client.post("/v1/templates", json=body)).status_code == 201
        cid = (await first.create(csv_of(numbers), max_in_flight=5))["id"]
        await first.act(cid, "start")
        await first.runner.step(cid)
        await first.send_all()
        await first.runner.step(cid)  # five more queued when the node stops
    async with running_app(settings, clock=clock, plugins=plugins) as (_app, rt, client):
        second = Campaigns(rt, client, clock)
        assert (await run_to_end(second, cid))["state"] == "completed"
        outbound = await second.outbound()
    assert sorted(m["to"] for m in outbound) == numbers
    assert [m["to"] for m in sorted(outbound, key=lambda m: m["id"])] == numbers


async def test_a_batch_of_only_opted_out_clients_sends_nothing_and_completes(campaigns: Campaigns) -> None:
    numbers = phones(3)
    cid = (await campaigns.create(csv_of(numbers)))["id"]
    await campaigns.opt_out(*numbers)
    await campaigns.act(cid, "start")
    finished = await run_to_end(campaigns, cid)
    assert finished["state"] == "completed"
    assert finished["stats"]["refused"] == {"count": 3, "by_reason": {"opted_out": 3}}
    assert await campaigns.outbound() == []


async def test_the_runner_polls_fast_only_while_a_campaign_is_sending(campaigns: Campaigns) -> None:
    """Topped up once a second, a campaign with max_in_flight 5 could not pass 5 messages/s."""
    runner = campaigns.runner
    await runner.run_once()
    assert runner.poll_interval == runner.interval  # nothing running
    later = (await campaigns.create(csv_of(phones(3)), start_at="2026-01-02T10:00:00+00:00"))["id"]
    await campaigns.act(later, "start")
    await runner.run_once()
    assert runner.poll_interval == runner.interval  # running, but waiting for its start time
    now = (await campaigns.create(csv_of(phones(20, start=100)), max_in_flight=5))["id"]
    await campaigns.act(now, "start")
    assert await runner.run_once() == 5
    assert runner.poll_interval == runner.busy_interval < runner.interval
    await run_to_end(campaigns, now)
    await runner.run_once()
    assert runner.poll_interval == runner.interval  # done: back to the slow poll
