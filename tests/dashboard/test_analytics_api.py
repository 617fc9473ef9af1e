"""``/v1/analytics``: numbers computed from the stored messages, over the API, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.dashboard.conftest import Desk

PHONE = "79001234567"


async def test_an_operators_response_time_is_measured_from_the_stored_messages(desk: Desk) -> None:
    await desk.user("anna", name="Anna")
    await desk.inbound(PHONE, "hello?")
    desk.clock.advance(60)
    await desk.inbound(PHONE, "anyone?")
    desk.clock.advance(240)
    await desk.api_reply(PHONE, "here!", operator="anna")
    report = (await desk.client.get("/v1/analytics/operators")).json()
    (anna,) = report["operators"]
    assert anna["operator"] == "anna"
    assert anna["name"] == "Anna"
    assert anna["responses"] == 1
    assert anna["response_time"] == {"median_s": 300.0, "p90_s": 300.0}
    assert anna["first_response_time"]["median_s"] == 300.0
    assert anna["conversations"] == 1
    assert anna["messages_sent"] == 1
    assert anna["within_sla"] == 1
    assert report["team"]["client_messages"] == 2
    assert report["settings"]["sla_minutes"] == 15


async def test_a_wait_that_began_before_the_period_is_measured_from_its_start(desk: Desk) -> None:
    await desk.inbound(PHONE, "yesterday's question")
    start = desk.clock.now()
    desk.clock.advance(3 * 3600)
    since = desk.clock.now().isoformat()
    desk.clock.advance(600)
    await desk.api_reply(PHONE, "sorry for the wait", operator="anna")
    report = (await desk.client.get("/v1/analytics/operators", params={"since": since})).json()
    (anna,) = report["operators"]
    assert anna["response_time"]["median_s"] == (desk.clock.now() - start).total_seconds()


async def test_an_earlier_reply_before_the_period_ends_the_old_wait(desk: Desk) -> None:
    await desk.inbound(PHONE, "first")
    desk.clock.advance(60)
    await desk.api_reply(PHONE, "answer", operator="anna")
    desk.clock.advance(60)
    await desk.inbound(PHONE, "second")
    since = (desk.clock.now() + timedelta(seconds=1)).isoformat()
    desk.clock.advance(100)
    await desk.api_reply(PHONE, "again", operator="boris")
    report = (await desk.client.get("/v1/analytics/operators", params={"since": since})).json()
    assert [o["operator"] for o in report["operators"]] == ["boris"]
    assert report["operators"][0]["response_time"]["median_s"] == 100.0


async def test_unanswered_conversations_count_for_their_assignee(desk: Desk) -> None:
    await desk.user("anna")
    await desk.inbound(PHONE)
    conversation = (await desk.client.get("/v1/conversations")).json()["data"][0]
    await desk.client.post(f"/v1/conversations/{conversation['id']}/assign", json={"assignee": "anna"})
    await desk.inbound("79000000002")
    desk.clock.advance(60)
    report = (await desk.client.get("/v1/analytics/operators")).json()
    assert report["operators"][0]["unanswered"] == 1
    assert report["team"]["unanswered"] == 2
    assert report["team"]["unassigned_unanswered"] == 1


async def test_csv_export_has_the_same_numbers(desk: Desk) -> None:
    await desk.inbound(PHONE)
    desk.clock.advance(90)
    await desk.api_reply(PHONE, "hi", operator="anna")
    response = await desk.client.get("/v1/analytics/operators", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    period = [r for r in rows if r["day"] == "" and r["operator"] == "anna"]
    assert period[0]["response_median_s"] == "90.0"
    assert period[0]["responses"] == "1"
    days = [r for r in rows if r["day"] and r["operator"] == "*"]
    assert len(days) == 7


async def test_the_sla_can_be_set_for_the_tenant_and_per_report(desk: Desk) -> None:
    await desk.inbound(PHONE)
    desk.clock.advance(600)
    await desk.api_reply(PHONE, "hi", operator="anna")
    patched = await desk.client.patch("/v1/analytics/settings", json={"sla_minutes": 5})
    assert patched.json()["sla_minutes"] == 5
    tenant_sla = (await desk.client.get("/v1/analytics/operators")).json()["operators"][0]
    assert tenant_sla["sla_share"] == 0.0
    override = await desk.client.get("/v1/analytics/operators", params={"sla_minutes": "20"})
    assert override.json()["operators"][0]["sla_share"] == 1.0


async def test_working_hours_are_settings_checked_field_by_field(desk: Desk) -> None:
    good = {"tz": "Europe/Moscow", "days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}
    response = await desk.client.patch("/v1/analytics/settings", json={"working_hours": good})
    assert response.status_code == 200
    assert response.json()["working_hours"] == good
    assert response.json()["timezone"] == "Europe/Moscow"
    bad = await desk.client.patch("/v1/analytics/settings", json={"working_hours": {**good, "end": "08:00"}})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "working_hours.end"
    cleared = await desk.client.patch("/v1/analytics/settings", json={"working_hours": None})
    assert cleared.json()["working_hours"] is None


async def test_only_admins_change_the_settings(desk: Desk) -> None:
    from wagate.store.repos import tenants as tenant_repo

    tenant = await desk.tenant()
    now = desk.clock.now()
    await desk.rt.db.write(lambda c: tenant_repo.store_token(c, tenant.id, "op", "operator", "op-token", now))
    response = await desk.client.patch(
        "/v1/analytics/settings", json={"sla_minutes": 1}, headers={"Authorization": "Bearer op-token"}
    )
    assert response.status_code == 403


async def test_a_period_is_checked(desk: Desk) -> None:
    backwards = await desk.client.get("/v1/analytics/operators", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert backwards.status_code == 422
    assert backwards.json()["error"]["field"] == "since"
    garbage = await desk.client.get("/v1/analytics/operators", params={"until": "yesterday"})
    assert garbage.json()["error"]["field"] == "until"
    too_long = await desk.client.get("/v1/analytics/operators", params={"since": "2024-01-01", "until": "2026-01-01"})
    assert too_long.status_code == 422


async def test_dates_are_whole_local_days(desk: Desk) -> None:
    report = (
        await desk.client.get("/v1/analytics/operators", params={"since": "2026-01-01", "until": "2026-01-01"})
    ).json()
    assert report["since"] == "2026-01-01T00:00:00+00:00"
    assert report["until"] == "2026-01-02T00:00:00+00:00"
    assert [d["day"] for d in report["daily"]] == ["2026-01-01"]
