"""The business profile of a cloud channel (``GET/PATCH /v1/channels/{name}/profile``) and the typing
indicator on ``POST /v1/messages/{id}/read`` ({"typing": true}), against the in-process sandbox."""

from __future__ import annotations

import pytest

from tests.channels.cloud.live import Live
from tests.channels.cloud.test_sandbox_gateway import live  # noqa: F401  (the fixture)


async def test_the_profile_is_read_and_changed_through_the_channel(live: Live) -> None:  # noqa: F811
    before = (await live.client.get("/v1/channels/sandbox/profile")).json()
    assert before["about"] == "Hello from the wagate sandbox"
    changes = {
        "about": "Fresh bread daily",
        "address": "Moscow, Tverskaya 1",
        "email": "shop@example.com",
        "websites": ["https://bakery.example"],
        "description": "Family bakery",
    }
    after = await live.client.patch("/v1/channels/sandbox/profile", json=changes)
    assert after.status_code == 200, after.text
    assert {k: after.json()[k] for k in changes} == changes
    assert live.sim.profile["about"] == "Fresh bread daily"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"about": "x" * 140}, "about"),
        ({"websites": ["a", "b", "c"]}, "websites"),
        ({"photo": "x"}, "photo"),
        ({}, "body"),
    ],
)
async def test_a_bad_profile_change_names_its_field(live: Live, body: dict[str, object], field: str) -> None:  # noqa: F811
    response = await live.client.patch("/v1/channels/sandbox/profile", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_read_with_typing_shows_the_typing_indicator(live: Live) -> None:  # noqa: F811
    await live.client.post("/sandbox/inject", json={"from": "79001234567", "text": "are you there?"})
    inbound = (await live.client.get("/v1/messages", params={"direction": "in"})).json()["data"][0]
    response = await live.client.post(f"/v1/messages/{inbound['id']}/read", json={"typing": True})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": inbound["id"], "marked_read": True, "typing": True}
    receipts = (await live.client.get("/sandbox/read-receipts")).json()
    assert receipts["typing"] == [inbound["provider_id"]]
    assert inbound["provider_id"] in receipts["data"]
    plain = await live.client.post(f"/v1/messages/{inbound['id']}/read")
    assert plain.json()["typing"] is False
    bad = await live.client.post(f"/v1/messages/{inbound['id']}/read", json={"typing": "yes"})
    assert bad.status_code == 422
