"""The input rules every route applies: ids and dates in range, JSON only, depth, size, unknown fields."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

HUGE = str(2**63)

HUGE_ID_PATHS = [
    ("GET", f"/v1/messages/{HUGE}"),
    ("POST", f"/v1/messages/{HUGE}/cancel"),
    ("GET", f"/v1/campaigns/{HUGE}"),
    ("POST", f"/v1/campaigns/{HUGE}/start"),
    ("GET", f"/v1/campaigns/{HUGE}/recurrence"),
    ("GET", f"/v1/webhooks/{HUGE}"),
    ("GET", f"/v1/conversations/{HUGE}"),
    ("GET", f"/v1/templates/{HUGE}"),
    ("GET", f"/v1/contacts?cursor={HUGE}"),
    ("GET", f"/v1/templates?cursor={HUGE}"),
    ("GET", f"/v1/consents?cursor={HUGE}"),
    ("GET", f"/v1/campaigns?cursor={HUGE}"),
    ("GET", "/v1/events?cursor=evt_99999999999999999999999"),
    ("GET", "/v1/events?cursor=evt_²"),
    ("GET", "/v1/messages?cursor=" + base64.urlsafe_b64encode(orjson.dumps({"before": 2**63})).decode()),
    ("GET", "/v1/messages?cursor=" + base64.urlsafe_b64encode(b"[1]").decode()),
]


@pytest.mark.parametrize(("method", "path"), HUGE_ID_PATHS)
async def test_an_id_or_cursor_beyond_64_bits_is_refused_not_a_server_error(
    node_any: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await node_any.request(method, path)
    assert response.status_code in (404, 422), response.text
    assert response.json()["error"]["code"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/analytics/operators?since=9999-12-31&until=9999-12-31",
        "/v1/analytics/operators?since=0001-01-01",
        "/v1/messages?since=9999-12-31T23:59:59Z",
        "/v1/policy/refusals?since=0001-01-01T00:00:00Z",
    ],
)
async def test_a_date_out_of_range_is_422(node: httpx.AsyncClient, path: str) -> None:
    response = await node.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] in ("since", "until")


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_a_deeply_nested_contacts_message_is_422_naming_the_field(node: httpx.AsyncClient) -> None:
    body = {"to": "79001234567", "type": "contacts", "contacts": [nested(250)]}
    response = await node.post("/v1/messages", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "too_deep"
    assert error["field"].startswith("contacts[0].a.a")


async def test_a_deeply_nested_sandbox_inject_is_422(node: httpx.AsyncClient) -> None:
    response = await node.post("/sandbox/inject", json={"from": "79001234567", "text": "hi", "media": nested(250)})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "too_deep"


async def test_nesting_beyond_the_json_parser_limit_is_422_too(node: httpx.AsyncClient) -> None:
    raw = b'{"to": "79001234567", "contacts": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for path in ("/v1/messages", "/v1/channels"):
        response = await node.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "too_deep"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/channels", "/v1/consents", "/sandbox/inject"])
async def test_a_body_that_is_not_json_is_415(node: httpx.AsyncClient, path: str) -> None:
    response = await node.post(path, content=b'{"to": "79001234567"}', headers={"content-type": "text/plain"})
    assert response.status_code == 415, response.text
    assert response.json()["error"] == {
        "code": "unsupported_media_type",
        "message": "this endpoint takes application/json, not text/plain",
        "field": "Content-Type",
    }
    form = await node.post(path, data={"to": "79001234567"})
    assert form.status_code == 415, form.text


async def test_curl_d_with_a_json_body_is_accepted(node: httpx.AsyncClient) -> None:
    """``curl -d '{…}'`` labels the body as a form; the README's tour relies on it."""
    headers = {"content-type": "application/x-www-form-urlencoded"}
    sent = await node.post("/v1/messages", content=b'{"to": "79001234567", "text": "hi"}', headers=headers)
    assert sent.status_code == 202, sent.text
    contact = await node.put("/v1/contacts/79001234567", content=b'{"name": "Anna"}', headers=headers)
    assert contact.status_code == 201, contact.text
    no_type = await node.post("/sandbox/inject", content=b'{"from": "79001234567", "text": "hi"}')
    assert no_type.status_code == 200, no_type.text


async def test_an_unknown_message_field_is_named(node: httpx.AsyncClient) -> None:
    response = await node.post("/v1/messages", json={"to": "79001234567", "txt": "x"})
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "unknown_field", "message": "unknown field txt", "field": "txt"}
    batch = await node.post("/v1/messages", json={"messages": [{"to": "79001234567", "text": "a", "prio": 1}]})
    assert batch.json()["results"][0]["error"]["field"] == "messages[0].prio"


async def test_an_enum_query_parameter_is_validated(node: httpx.AsyncClient) -> None:
    response = await node.get("/v1/messages?status=bogus")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "status"


async def test_one_body_limit_applies_to_every_route(node: httpx.AsyncClient) -> None:
    big = b'{"name": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    for method, path in (("PUT", "/v1/contacts/79001234567"), ("POST", "/v1/messages"), ("POST", "/sandbox/inject")):
        response = await node.request(method, path, content=big, headers={"content-type": "application/json"})
        assert response.status_code == 413, (path, response.text)
        assert response.json()["error"]["code"] == "too_large"
