"""``/v1/consents``: opt-in, list, history, opt-out — each change recorded with a ``consent.changed`` event."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.policy.conftest import Gateway
from wagate.store.tables import events

pytestmark = pytest.mark.asyncio


async def consent_events(gw: Gateway) -> list[dict[str, Any]]:
    rows = await gw.rt.db.read(
        lambda c: list(c.execute(sa.select(events).where(events.c.type == "consent.changed").order_by(events.c.id)))
    )
    return [r.payload for r in rows]


async def test_opt_in_records_scopes_source_and_evidence(gw: Gateway) -> None:
    response = await gw.client.post(
        "/v1/consents",
        json={
            "phone": "8 900 123-45-67",
            "source": "qr",
            "scopes": ["Marketing", "utility", "utility"],
            "evidence": {"poster": "shop #4"},
        },
    )
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["phone"] == "79001234567"
    assert (data["status"], data["scopes"], data["source"]) == ("active", ["marketing", "utility"], "qr")
    assert data["evidence"] == {"poster": "shop #4"}
    assert data["consented_at"] == "2026-01-01T12:00:00+00:00"
    [event] = await consent_events(gw)
    assert (event["phone"], event["action"], event["status"], event["previous_status"]) == (
        "79001234567",
        "opt_in",
        "active",
        None,
    )


async def test_opting_in_again_replaces_the_scopes(gw: Gateway) -> None:
    await gw.consent("79001234567", "marketing", "utility")
    again = await gw.client.post("/v1/consents", json={"phone": "79001234567", "scopes": ["utility"]})
    assert again.status_code == 200
    assert again.json()["scopes"] == ["utility"] and again.json()["source"] == "api"
    events_seen = await consent_events(gw)
    assert events_seen[-1]["previous_scopes"] == ["marketing", "utility"]


async def test_the_same_opt_in_twice_is_history_but_not_an_event(gw: Gateway) -> None:
    await gw.consent("79001234567", "utility")
    await gw.consent("79001234567", "utility")
    history = (await gw.client.get("/v1/consents/79001234567")).json()["history"]
    assert [h["action"] for h in history] == ["opt_in", "opt_in"]
    assert len(await consent_events(gw)) == 1


async def test_opt_out_by_api_revokes_and_is_recorded(gw: Gateway) -> None:
    await gw.consent("79001234567", "utility")
    response = await gw.client.delete("/v1/consents/+79001234567")
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["scopes"], data["revoked_via"]) == ("revoked", [], "api")
    assert [e["action"] for e in await consent_events(gw)] == ["opt_in", "opt_out"]


async def test_opt_out_without_earlier_consent_is_remembered(gw: Gateway) -> None:
    assert (await gw.client.delete("/v1/consents/79001234567")).json()["status"] == "revoked"
    assert (await gw.client.get("/v1/consents/79001234567")).json()["status"] == "revoked"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["utility"]}, "phone"),
        ({"phone": "12", "scopes": ["utility"]}, "phone"),
        ({"phone": "79001234567", "scopes": []}, "scopes"),
        ({"phone": "79001234567", "scopes": ["bad scope"]}, "scopes[0]"),
        ({"phone": "79001234567", "scopes": ["utility"], "source": "telepathy"}, "source"),
        ({"phone": "79001234567", "scopes": ["utility"], "evidence": 5}, "evidence"),
    ],
)
async def test_bad_opt_ins_name_the_field(gw: Gateway, body: dict[str, Any], field: str) -> None:
    response = await gw.client.post("/v1/consents", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert await consent_events(gw) == []


async def test_batch_import_stores_valid_items_and_reports_each(gw: Gateway) -> None:
    response = await gw.client.post(
        "/v1/consents",
        json={
            "consents": [
                {"phone": "79001234567", "source": "import", "scopes": ["utility"]},
                {"phone": "nope", "source": "import", "scopes": ["utility"]},
                {
                    "phone": "79001234568",
                    "source": "import",
                    "scopes": ["marketing"],
                    "consented_at": "2025-06-01T10:00:00Z",
                },
            ]
        },
    )
    body = response.json()
    assert (response.status_code, body["accepted"], body["rejected"]) == (200, 2, 1)
    assert body["results"][1]["error"]["field"] == "consents[1].phone"
    assert body["results"][2]["consented_at"] == "2025-06-01T10:00:00+00:00"


async def test_list_filters_by_status_and_scope(gw: Gateway) -> None:
    await gw.consent("79001234567", "utility")
    await gw.consent("79001234568", "marketing")
    await gw.client.delete("/v1/consents/79001234569")
    active = (await gw.client.get("/v1/consents", params={"status": "active"})).json()["data"]
    assert [c["phone"] for c in active] == ["79001234567", "79001234568"]
    marketing = (await gw.client.get("/v1/consents", params={"scope": "marketing"})).json()["data"]
    assert [c["phone"] for c in marketing] == ["79001234568"]
    page = (await gw.client.get("/v1/consents", params={"limit": 2})).json()
    rest = (await gw.client.get("/v1/consents", params={"cursor": page["next_cursor"]})).json()["data"]
    assert [c["phone"] for c in rest] == ["79001234569"]


async def test_unknown_phone_has_no_consent(gw: Gateway) -> None:
    assert (await gw.client.get("/v1/consents/79001234567")).status_code == 404
