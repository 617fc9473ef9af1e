"""Templates on cloud channels are Meta's: submitted to the channel's WABA with examples, reviewed,
recategorized and rated by Meta's webhooks (the simulator plays Meta), refused at acceptance until
approved on that channel. Webhook shapes follow Meta's references:
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/template_category_update
and message_template_status_update / message_template_quality_update of the same reference."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.channels.cloud.live import Live, live_gateway, sandbox_plugins
from tests.channels.cloud.test_sandbox_gateway import PHONE, gateway_settings
from wagate.channels.cloud.payloads import template_submission
from wagate.channels.cloud.template_sync import TemplateSyncer
from wagate.channels.cloud.webhook import parse_template_events
from wagate.store.repos import events as events_repo

BODY = {"name": "delivery_slot", "language": "en", "category": "utility", "body": "Hi {{1}}, your slot is {{2}}."}


@pytest.fixture
async def live(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=sandbox_plugins()) as gateway:
        await gateway.client.patch("/sandbox/config", json={"template_review_seconds": None})
        yield gateway


async def template(live: Live, template_id: int) -> dict[str, Any]:
    response = await live.client.get(f"/v1/templates/{template_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def until(live: Live, template_id: int, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        current = await template(live, template_id)
        if check(current):
            return current
        assert time.monotonic() < deadline, current
        await asyncio.sleep(0.05)


async def template_events(live: Live) -> list[dict[str, Any]]:
    rows = await live.rt.db.read(
        lambda c: events_repo.events_after(c, after_id=0, limit=500, types=["template.status"])
    )
    return [dict(r["payload"]) for r in rows]


def test_the_submission_carries_one_example_per_variable_and_meta_s_spelling() -> None:
    content = {**BODY, "footer": "Reply STOP to opt out", "buttons": [{"type": "quick_reply", "text": "Change"}]}
    assert template_submission("delivery_slot", "en", content, ["Anna"]) == {
        "name": "delivery_slot",
        "language": "en",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, your slot is {{2}}.", "example": {"body_text": [["Anna", "sample 2"]]}},
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Change"}]},
        ],
    }


async def test_a_template_for_a_cloud_channel_is_submitted_reviewed_and_then_sendable(live: Live) -> None:
    created = await live.client.post(
        "/v1/templates", json={**BODY, "channel": "sandbox", "examples": ["Anna", "10:00"]}
    )
    assert created.status_code == 201, created.text
    stored = created.json()
    assert (stored["source"], stored["status"], stored["provider_status"]) == ("cloud", "pending", "PENDING")
    assert stored["provider_id"]
    at_meta = (await live.client.get("/sandbox/templates/delivery_slot")).json()["data"][0]
    assert at_meta["components"][0]["example"] == {"body_text": [["Anna", "10:00"]]}

    send = {
        "to": PHONE,
        "type": "template",
        "template": {"name": "delivery_slot", "language": "en", "params": ["A", "B"]},
    }
    refused = await live.client.post("/v1/messages", json=send)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "template_not_approved"

    review = await live.client.post(
        "/sandbox/templates", json={"name": "delivery_slot", "language": "en", "status": "APPROVED"}
    )
    assert review.status_code == 200
    await until(live, stored["id"], lambda t: t["status"] == "approved")
    message = await live.wait((await live.send(send))["id"])
    assert message["status"] == "read"
    events = await template_events(live)
    assert [(e["name"], e["status"], e["provider_status"]) for e in events] == [
        ("delivery_slot", "approved", "APPROVED")
    ]


async def test_meta_owns_the_status_of_a_cloud_template(live: Live) -> None:
    with_status = await live.client.post("/v1/templates", json={**BODY, "channel": "sandbox", "status": "approved"})
    assert with_status.status_code == 422
    assert with_status.json()["error"]["code"] == "meta_owned"
    created = (await live.client.post("/v1/templates", json={**BODY, "channel": "sandbox"})).json()
    patched = await live.client.patch(f"/v1/templates/{created['id']}", json={"status": "approved"})
    assert patched.status_code == 409


async def test_a_rejection_pause_recategorization_and_quality_change_follow_meta_s_webhooks(live: Live) -> None:
    created = (await live.client.post("/v1/templates", json={**BODY, "channel": "sandbox"})).json()
    approve = {"name": "delivery_slot", "language": "en", "status": "APPROVED"}
    await live.client.post("/sandbox/templates", json=approve)
    await until(live, created["id"], lambda t: t["status"] == "approved")

    impending = {"language": "en", "category": "MARKETING", "impending": True}
    assert (await live.client.post("/sandbox/templates/delivery_slot/category", json=impending)).status_code == 200
    current = await until(live, created["id"], lambda t: bool((t["provider_info"] or {}).get("category_change")))
    assert current["category"] == "utility"
    assert current["provider_info"]["category_change"]["to"] == "marketing"

    done = {"language": "en", "category": "MARKETING"}
    await live.client.post("/sandbox/templates/delivery_slot/category", json=done)
    current = await until(live, created["id"], lambda t: t["category"] == "marketing")
    assert "category_change" not in current["provider_info"]
    assert current["provider_info"]["previous_category"] == "utility"

    await live.client.post("/sandbox/templates/delivery_slot/quality", json={"language": "en", "quality": "RED"})
    await until(live, created["id"], lambda t: t["provider_info"].get("quality") == "RED")

    paused = {"name": "delivery_slot", "language": "en", "status": "PAUSED", "reason": "LOW_QUALITY"}
    await live.client.post("/sandbox/templates", json=paused)
    current = await until(live, created["id"], lambda t: t["provider_status"] == "PAUSED")
    assert current["status"] == "rejected"
    assert current["provider_info"]["reason"] == "LOW_QUALITY"
    changes = [e["change"] for e in await template_events(live)]
    assert changes == [
        "message_template_status_update",
        "template_category_update",
        "template_category_update",
        "message_template_quality_update",
        "message_template_status_update",
    ]


def test_template_webhooks_carry_entry_time_and_are_parsed() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "time": 1767268800,
                "changes": [
                    {
                        "field": "template_category_update",
                        "value": {
                            "message_template_id": 12345,
                            "message_template_name": "delivery_slot",
                            "message_template_language": "en",
                            "correct_category": "MARKETING",
                            "new_category": "UTILITY",
                            "category_update_timestamp": 1767355200,
                        },
                    }
                ],
            }
        ],
    }
    (event,) = parse_template_events(body)
    assert event.impending
    assert (event.template_id, event.correct_category, event.new_category) == ("12345", "MARKETING", "UTILITY")
    assert event.at is not None and event.at.timestamp() == 1767268800


async def test_the_periodic_sync_catches_a_change_whose_webhook_was_lost(live: Live) -> None:
    created = (await live.client.post("/v1/templates", json={**BODY, "channel": "sandbox"})).json()
    at_meta = live.sim.find_template("delivery_slot", "en")
    assert at_meta is not None
    at_meta.status = "APPROVED"  # Meta approved it; the webhook never arrived
    assert await TemplateSyncer(live.rt).sync_once() == 1
    assert (await template(live, created["id"]))["status"] == "approved"
    assert [(e["change"], e["status"]) for e in await template_events(live)] == [("sync", "approved")]
