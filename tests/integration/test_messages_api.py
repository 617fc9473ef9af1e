"""The native messages API on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import sqlalchemy as sa

from wagate.runtime import Runtime
from wagate.store.tables import events, message_status_history, messages

pytestmark = pytest.mark.asyncio


async def count(rt: Runtime, table: sa.Table) -> int:
    return int(await rt.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()))


async def test_send_returns_202_with_normalised_phone_and_is_durable(
    gateway: tuple[Runtime, httpx.AsyncClient],
) -> None:
    rt, client = gateway
    response = await client.post("/v1/messages", json={"to": "+7 (900) 123-45-67", "text": "Hello"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["to"] == "79001234567"
    assert body["status"] == "queued"
    assert body["channel"] == "main"
    # Durable before the answer: the row, its history and its event are already committed.
    assert await count(rt, messages) == 1
    assert await count(rt, message_status_history) == 1
    assert await count(rt, events) == 1


async def test_get_shows_status_history(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    sent = (await client.post("/v1/messages", json={"to": "8 900 123 45 67", "text": "x"})).json()
    got = await client.get(f"/v1/messages/{sent['id']}")
    assert got.status_code == 200
    data = got.json()
    assert data["text"] == "x"
    assert data["direction"] == "out"
    assert [h["status"] for h in data["history"]] == ["queued"]
    assert data["history"][0]["at"]


async def test_batch_gives_one_result_per_item(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    response = await client.post(
        "/v1/messages",
        json={
            "messages": [
                {"to": "79001234567", "text": "a"},
                {"to": "12", "text": "b"},
                {"to": "79001234568", "text": ""},
                {"to": "79001234569", "text": "c", "client_ref": "crm-3"},
            ]
        },
    )
    assert response.status_code == 202
    results = response.json()["results"]
    assert [("id" in r) for r in results] == [True, False, False, True]
    assert results[1]["error"]["field"] == "messages[1].to"
    assert results[2]["error"]["field"] == "messages[2].text"
    assert results[3]["client_ref"] == "crm-3"
    assert await count(rt, messages) == 2


async def test_batch_over_1000_or_empty_is_refused(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    big = {"messages": [{"to": "79001234567", "text": "x"}] * 1001}
    response = await client.post("/v1/messages", json=big)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "messages"
    response = await client.post("/v1/messages", json={"messages": []})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "messages"
    assert await count(rt, messages) == 0


async def test_batch_of_1000_is_accepted(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    batch = {"messages": [{"to": f"7900{i:07d}", "text": f"m{i}"} for i in range(1000)]}
    response = await client.post("/v1/messages", json=batch)
    assert response.status_code == 202
    assert response.json()["accepted"] == 1000
    assert await count(rt, messages) == 1000
    assert await count(rt, events) == 1000


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"text": "x"}, "to", 422),
        ({"to": "abc", "text": "x"}, "to", 422),
        ({"to": "123", "text": "x"}, "to", 422),
        ({"to": "1234567890123456789", "text": "x"}, "to", 422),
        ({"to": "79001234567", "text": ""}, "text", 422),
        ({"to": "79001234567", "text": "y" * 4097}, "text", 422),
        ({"to": "79001234567", "type": "fax", "text": "x"}, "type", 422),
        ({"to": "79001234567", "type": "image", "media": {"caption": "c"}}, "media.url", 422),
        ({"to": "79001234567", "text": "x", "channel": "nope"}, "channel", 422),
        ({"to": "79001234567", "text": "x", "validity_seconds": 0}, "validity_seconds", 422),
        ({"to": "79001234567", "text": "x", "media": "zzz", "type": "image"}, "media", 422),
    ],
)
async def test_bad_input_gets_a_clear_error_naming_the_field(
    gateway: tuple[Runtime, httpx.AsyncClient], body: dict[str, object], field: str, status: int
) -> None:
    rt, client = gateway
    response = await client.post("/v1/messages", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert error["code"] and error["message"]
    assert await count(rt, messages) == 0


async def test_malformed_json_is_400(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    response = await client.post("/v1/messages", content=b'{"to": "7900', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


async def test_missing_or_wrong_token_is_401(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await client.post("/v1/messages", json={"to": "79001234567", "text": "x"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["field"] == "Authorization"


async def test_wrong_role_is_403(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    from wagate.store.repos import tenants

    now = rt.clock.now()

    def make(conn: sa.Connection) -> None:
        tenant = tenants.get_tenant_by_name(conn, "default")
        assert tenant is not None
        tenants.store_token(conn, tenant.id, "crm", "api", "api-token-1", now)

    await rt.db.write(make)
    response = await client.post(
        "/v1/channels", json={"name": "other", "kind": "memory"}, headers={"Authorization": "Bearer api-token-1"}
    )
    assert response.status_code == 403
    ok = await client.post(
        "/v1/messages", json={"to": "79001234567", "text": "x"}, headers={"Authorization": "Bearer api-token-1"}
    )
    assert ok.status_code == 202


async def test_idempotency_key_replays_the_first_answer(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    body = {"to": "79001234567", "text": "once"}
    first = await client.post("/v1/messages", json=body, headers={"Idempotency-Key": "k1"})
    second = await client.post("/v1/messages", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert await count(rt, messages) == 1
    conflict = await client.post("/v1/messages", json={**body, "text": "other"}, headers={"Idempotency-Key": "k1"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["field"] == "Idempotency-Key"
    assert await count(rt, messages) == 1


async def test_concurrent_requests_with_one_idempotency_key_store_one_message(
    gateway: tuple[Runtime, httpx.AsyncClient],
) -> None:
    rt, client = gateway
    body = {"to": "79001234567", "text": "race"}
    responses = await asyncio.gather(
        *[client.post("/v1/messages", json=body, headers={"Idempotency-Key": "race"}) for _ in range(5)]
    )
    assert all(r.status_code in (202, 409) for r in responses)
    ids = {r.json()["id"] for r in responses if r.status_code == 202}
    assert len(ids) == 1
    assert await count(rt, messages) == 1


async def test_concurrent_single_requests_each_get_their_own_stored_message(
    gateway: tuple[Runtime, httpx.AsyncClient],
) -> None:
    """Concurrent POSTs meet in one group commit and are stored as one batch (``write_merged``);
    each still gets its own id, its own history row and its own event, mixed with bad requests."""
    rt, client = gateway
    bodies = [{"to": f"7900{i:07d}", "text": f"concurrent {i}"} for i in range(60)]
    bodies[7] = {"to": "12", "text": "bad phone"}
    bodies[31] = {"to": "79001112233", "text": ""}
    responses = await asyncio.gather(*(client.post("/v1/messages", json=b) for b in bodies))
    good = [(b, r) for b, r in zip(bodies, responses, strict=True) if b["text"] not in ("bad phone", "")]
    assert [r.status_code for _, r in good] == [202] * 58
    assert (responses[7].status_code, responses[7].json()["error"]["field"]) == (422, "to")
    assert (responses[31].status_code, responses[31].json()["error"]["field"]) == (422, "text")
    for body, response in good:
        stored = (await client.get(f"/v1/messages/{response.json()['id']}")).json()
        assert (stored["to"], stored["text"]) == (body["to"], body["text"])
    assert len({r.json()["id"] for _, r in good}) == 58
    assert await count(rt, messages) == 58
    assert await count(rt, message_status_history) == 58
    assert await count(rt, events) == 58


async def test_cancel_only_while_queued(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    sent = (await client.post("/v1/messages", json={"to": "79001234567", "text": "x"})).json()
    cancelled = await client.post(f"/v1/messages/{sent['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert [h["status"] for h in cancelled.json()["history"]] == ["queued", "cancelled"]
    again = await client.post(f"/v1/messages/{sent['id']}/cancel")
    assert again.status_code == 409
    missing = await client.post("/v1/messages/999999/cancel")
    assert missing.status_code == 404


async def test_history_is_newest_first_with_cursor_paging(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    _rt, client = gateway
    for i in range(7):
        await client.post("/v1/messages", json={"to": "79001234567" if i % 2 else "79001112233", "text": f"m{i}"})
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/messages", params=params)).json()
        seen.extend(m["text"] for m in page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"m{i}" for i in reversed(range(7))]
    filtered = (await client.get("/v1/messages", params={"phone": "8 900 123-45-67"})).json()["data"]
    assert [m["text"] for m in filtered] == ["m5", "m3", "m1"]
    assert (await client.get("/v1/messages", params={"direction": "sideways"})).status_code == 422
    assert (await client.get("/v1/messages", params={"cursor": "garbage"})).json()["error"]["field"] == "cursor"


async def test_message_of_another_tenant_is_invisible(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    from wagate.store.repos import tenants

    now = rt.clock.now()

    def make(conn: sa.Connection) -> None:
        other = tenants.ensure_tenant(conn, "other", "RU", now)
        tenants.store_token(conn, other.id, "o", "admin", "other-token", now)

    await rt.db.write(make)
    sent = (await client.post("/v1/messages", json={"to": "79001234567", "text": "secret"})).json()
    response = await client.get(f"/v1/messages/{sent['id']}", headers={"Authorization": "Bearer other-token"})
    assert response.status_code == 404


async def test_a_media_url_of_this_gateway_must_name_a_stored_file(gateway: tuple[Runtime, httpx.AsyncClient]) -> None:
    rt, client = gateway
    missing = f"{rt.settings.base_url}/v1/media/0123456789abcdef0123456789abcdef.pdf"
    refused = await client.post(
        "/v1/messages", json={"to": "79001234567", "type": "document", "media": {"url": missing}, "channel": "main"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "media_not_found"
    assert refused.json()["error"]["field"] == "media.url"
    uploaded = await client.post("/v1/media", files={"file": ("offer.pdf", b"%PDF-1.4 tiny", "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    accepted = await client.post(
        "/v1/messages",
        json={"to": "79001234567", "type": "document", "media": {"url": uploaded.json()["url"]}, "channel": "main"},
    )
    assert accepted.status_code == 202, accepted.text
