"""The simulator answers like Meta's Graph API where clients probe it: unknown paths, methods and
objects in Graph's error format, the business profile, phone numbers, blocked users, the template
list (summary, filters, paging, examples), statuses priced by category and window, and context on
button replies. Shapes from Meta's references: Graph errors
(https://developers.facebook.com/docs/graph-api/guides/error-handling), block users
(https://developers.facebook.com/documentation/business-messaging/whatsapp/block-users/), status
webhooks (…/webhooks/reference/messages/status/)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.sandbox import test_simulator as base
from tests.sandbox.test_simulator import AUTH, PNID, WABA, Sim, graph_error

sim = base.sim  # the same fixture: a simulator whose webhooks reach a recorder

V = "v26.0"


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "subcode"),
    [
        ("GET", f"/{V}/{PNID}/no_such_edge", 400, 2500, None),
        ("GET", f"/{V}/123456/", 400, 100, 33),
        ("GET", f"/{V}/999999", 400, 100, 33),
        ("PUT", f"/{V}/{PNID}", 400, 100, 33),
        ("PATCH", f"/{V}/{PNID}/messages", 400, 2500, None),
        ("GET", "/not-even-versioned", 400, 2500, None),
    ],
)
async def test_unknown_paths_methods_and_objects_answer_in_graph_s_error_format(
    sim: Sim, method: str, path: str, status: int, code: int, subcode: int | None
) -> None:
    response = await sim.client.request(method, path, headers=AUTH)
    assert response.status_code == status
    error = graph_error(response)
    assert (error["code"], error.get("error_subcode")) == (code, subcode)


async def test_an_unknown_path_without_a_token_is_still_error_190(sim: Sim) -> None:
    response = await sim.client.get(f"/{V}/{PNID}/no_such_edge")
    assert graph_error(response)["code"] == 190


async def test_the_business_profile_is_read_by_fields_and_updated(sim: Sim) -> None:
    update = {"messaging_product": "whatsapp", "about": "Fresh bread", "websites": ["https://bakery.example"]}
    assert (await sim.client.post(f"/{V}/{PNID}/whatsapp_business_profile", json=update, headers=AUTH)).json() == {
        "success": True
    }
    got = await sim.client.get(
        f"/{V}/{PNID}/whatsapp_business_profile", params={"fields": "about,websites"}, headers=AUTH
    )
    assert got.json() == {
        "data": [{"about": "Fresh bread", "websites": ["https://bakery.example"], "messaging_product": "whatsapp"}]
    }
    bad = await sim.client.post(
        f"/{V}/{PNID}/whatsapp_business_profile", json={"messaging_product": "whatsapp", "colour": "red"}, headers=AUTH
    )
    assert graph_error(bad)["code"] == 100


async def test_phone_numbers_carry_quality_throughput_and_the_messaging_limit(sim: Sim) -> None:
    listed = (await sim.client.get(f"/{V}/{WABA}/phone_numbers", headers=AUTH)).json()
    (number,) = listed["data"]
    assert number["id"] == PNID
    assert number["whatsapp_business_manager_messaging_limit"] == "TIER_2K"
    assert number["throughput"] == {"level": "STANDARD"}
    one = (await sim.client.get(f"/{V}/{PNID}", headers=AUTH)).json()
    assert one == number


async def test_users_are_blocked_listed_and_unblocked(sim: Sim) -> None:
    body = {"messaging_product": "whatsapp", "block_users": [{"user": "+79001234567"}]}
    added = (await sim.client.post(f"/{V}/{PNID}/block_users", json=body, headers=AUTH)).json()
    assert added["block_users"] == {"added_users": [{"input": "+79001234567", "wa_id": "79001234567"}]}
    listed = (await sim.client.get(f"/{V}/{PNID}/block_users", headers=AUTH)).json()
    assert listed["data"] == [{"messaging_product": "whatsapp", "wa_id": "79001234567"}]
    removed = (await sim.client.request("DELETE", f"/{V}/{PNID}/block_users", json=body, headers=AUTH)).json()
    assert removed["block_users"] == {"removed_users": [{"input": "+79001234567", "wa_id": "79001234567"}]}


async def test_the_template_list_has_a_summary_filters_paging_and_examples(sim: Sim) -> None:
    url = f"/{V}/{WABA}/message_templates"
    approved = (await sim.client.get(url, params={"status": "APPROVED"}, headers=AUTH)).json()
    assert {t["name"] for t in approved["data"]} == {"hello_world", "order_update"}
    assert approved["summary"]["total_count"] == 3
    marketing = (await sim.client.get(url, params={"category": "MARKETING"}, headers=AUTH)).json()
    assert {t["name"] for t in marketing["data"]} == {"spring_sale", "winback_offer"}
    by_name = (await sim.client.get(url, params={"name": "order"}, headers=AUTH)).json()
    assert {(t["name"], t["language"]) for t in by_name["data"]} == {("order_update", "en"), ("order_update", "ru")}
    body = next(c for c in by_name["data"][0]["components"] if c["type"] == "BODY")
    assert body["example"] == {"body_text": [["Anna", "#1042"]]}
    first = (await sim.client.get(url, params={"limit": 2}, headers=AUTH)).json()
    assert first["paging"]["next"].startswith(f"http://sim.test/{V}/{WABA}/message_templates")


async def test_a_template_without_examples_for_its_variables_is_refused(sim: Sim) -> None:
    body = {
        "name": "no_example",
        "language": "en",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hi {{1}}"}],
    }
    response = await sim.client.post(f"/{V}/{WABA}/message_templates", json=body, headers=AUTH)
    assert graph_error(response)["code"] == 100


async def _statuses(sim: Sim, wamid: str) -> list[dict[str, Any]]:
    for _ in range(100):
        found = [
            s
            for item in sim.recorder.received
            for e in item.body.get("entry", [])
            for c in e["changes"]
            for s in c["value"].get("statuses", [])
            if s["id"] == wamid
        ]
        if len(found) >= 3:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("no statuses")


async def test_statuses_are_priced_by_template_category_and_the_window(sim: Sim) -> None:
    template = {
        "name": "order_update",
        "language": {"code": "en"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}]}],
    }
    outside = (await sim.send({"to": "79001234567", "type": "template", "template": template})).json()
    priced = await _statuses(sim, outside["messages"][0]["id"])
    assert {tuple(sorted(s["pricing"].items())) for s in priced} == {
        (("billable", True), ("category", "utility"), ("pricing_model", "PMP"), ("type", "regular"))
    }
    await sim.client.post("/sandbox/inject", json={"from": "79001234568", "text": "hi"})
    inside = (await sim.send({"to": "79001234568", "type": "template", "template": template})).json()
    assert (await _statuses(sim, inside["messages"][0]["id"]))[0]["pricing"]["type"] == "free_customer_service"


async def test_a_button_reply_names_the_message_it_answers(sim: Sim) -> None:
    sent = (await sim.send({"to": "79001234567", "type": "text", "text": {"body": "Pick one"}})).json()
    await sim.client.post(
        "/sandbox/inject",
        json={"from": "79001234567", "interactive": {"type": "button_reply", "id": "yes", "title": "Yes"}},
    )
    message = sim.sim.inbound[-1]
    assert message["context"] == {"from": sim.sim.config.display_phone_number, "id": sent["messages"][0]["id"]}
