"""Recurring campaigns: a draft as the pattern, each run a child campaign with its own dry run
(consent checked again at that run), a run skipped while the previous one still sends."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.campaigns.conftest import Campaigns
from tests.campaigns.test_lifecycle import csv_of, phones, run_to_end
from wagate.services import recurring

#: 10:00 in Moscow on the next two days.
DAY2 = datetime(2026, 1, 2, 7, 0, tzinfo=UTC)
DAY3 = datetime(2026, 1, 3, 7, 0, tzinfo=UTC)
DAY4 = datetime(2026, 1, 4, 7, 0, tzinfo=UTC)
RULE = {"every_days": 1, "at": "10:00", "timezone": "Europe/Moscow", "until": "2026-01-03"}


async def recurrence(campaigns: Campaigns, campaign_id: int) -> dict[str, object]:
    response = await campaigns.client.get(f"/v1/campaigns/{campaign_id}/recurrence")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_each_run_is_a_child_campaign_with_consent_checked_again(campaigns: Campaigns) -> None:
    numbers = phones(3)
    await campaigns.opt_in(*numbers)
    pattern = await campaigns.create(csv_of(numbers), name="Weekly news")
    set_rule = await campaigns.client.put(f"/v1/campaigns/{pattern['id']}/recurrence", json=RULE)
    assert set_rule.status_code == 200, set_rule.text
    assert set_rule.json()["next_run_at"] == "2026-01-02T07:00:00+00:00"
    assert await recurring.run_due(campaigns.rt) == 0  # not yet

    campaigns.clock.set(DAY2)
    assert await recurring.run_due(campaigns.rt) == 1
    [run] = (await recurrence(campaigns, pattern["id"]))["runs"]  # type: ignore[misc]
    assert run["outcome"] == "started"
    child = await campaigns.get(run["campaign_id"])
    assert child["state"] == "running" and child["name"] == "Weekly news · 2026-01-02 10:00"
    assert child["report"]["sendable"] == 3
    assert (await run_to_end(campaigns, child["id"]))["state"] == "completed"

    await campaigns.opt_out(numbers[0])
    campaigns.clock.set(DAY3)
    assert await recurring.run_due(campaigns.rt) == 1
    body = await recurrence(campaigns, pattern["id"])
    second = await campaigns.get(body["runs"][1]["campaign_id"])  # type: ignore[index]
    assert second["report"]["sendable"] == 2 and second["report"]["opted_out"]["count"] == 1
    assert body["state"] == "ended" and body["next_run_at"] is None  # the end date is reached
    assert (await campaigns.get(pattern["id"]))["state"] == "draft"  # the pattern never sends itself


async def test_a_run_is_skipped_while_the_previous_one_still_sends(campaigns: Campaigns) -> None:
    numbers = phones(2)
    await campaigns.opt_in(*numbers)
    pattern = await campaigns.create(csv_of(numbers))
    await campaigns.client.put(f"/v1/campaigns/{pattern['id']}/recurrence", json={**RULE, "until": None})
    campaigns.clock.set(DAY2)
    await recurring.run_due(campaigns.rt)
    campaigns.clock.set(DAY3)  # the first child was never sent: still running
    await recurring.run_due(campaigns.rt)
    runs = (await recurrence(campaigns, pattern["id"]))["runs"]
    assert [(r["outcome"], r["reason"]) for r in runs] == [  # type: ignore[attr-defined]
        ("started", None),
        ("skipped", "the previous run is still running"),
    ]
    assert (await recurrence(campaigns, pattern["id"]))["next_run_at"] == DAY4.isoformat()


async def test_only_a_draft_can_recur_and_errors_name_the_field(campaigns: Campaigns) -> None:
    pattern = await campaigns.create(csv_of(phones(1)))
    bad = await campaigns.client.put(f"/v1/campaigns/{pattern['id']}/recurrence", json={"cron": "0 10 * *"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cron"
    await campaigns.act(pattern["id"], "start")
    refused = await campaigns.client.put(f"/v1/campaigns/{pattern['id']}/recurrence", json=RULE)
    assert refused.status_code == 409
