"""The published description: valid OpenAPI, every ``$ref`` resolves, errors and security documented."""

from __future__ import annotations

from typing import Any

import httpx
from openapi_spec_validator import validate

#: Native write operations that take no body (an action on the resource in the path).
BODILESS = {
    ("post", "/v1/messages/{message_id}/cancel"),
    ("post", "/v1/messages/{message_id}/read"),
    ("post", "/v1/templates/sync"),
    ("post", "/v1/conversations/{conversation_id}/close"),
    ("post", "/v1/conversations/{conversation_id}/reopen"),
    ("post", "/v1/campaigns/{campaign_id}/start"),
    ("post", "/v1/campaigns/{campaign_id}/pause"),
    ("post", "/v1/campaigns/{campaign_id}/resume"),
    ("post", "/v1/campaigns/{campaign_id}/cancel"),
    ("post", "/sandbox/webhooks/verify"),
    ("post", "/v1/channels/{name}/session/logout"),
    ("post", "/v1/channels/{name}/session/restart"),
}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_the_document_is_valid_openapi_and_every_ref_resolves(node: httpx.AsyncClient) -> None:
    spec = await document(node)
    validate(spec)
    found = refs(spec)
    assert len(found) > 100
    for ref in set(found):
        resolve(spec, ref)


async def test_every_native_operation_documents_the_error_body_and_its_security(node: httpx.AsyncClient) -> None:
    spec = await document(node)
    assert set(spec["components"]["securitySchemes"]) >= {"bearer", "deviceToken", "devinoKey"}
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                assert operation["security"] == [{"bearer": []}], (method, path)
            if path.startswith("/device/v1/"):
                assert operation["security"] == [{"deviceToken": []}], (method, path)
            if path.startswith(("/v1/", "/device/v1/")):
                for status in ("401", "404", "422"):
                    schema = operation["responses"][status]["content"]["application/json"]["schema"]
                    assert "Error" in str(schema), (method, path, status)
                assert "HTTPValidationError" not in str(operation), (method, path)


async def test_operation_ids_are_unique_and_named_for_their_resource(node: httpx.AsyncClient) -> None:
    spec = await document(node)
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "messages_send_messages" in ids
    assert "channels_create_channel" in ids


async def test_native_write_operations_document_their_request_body(node: httpx.AsyncClient) -> None:
    spec = await document(node)
    missing = [
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if path.startswith(("/v1/", "/device/v1/", "/sandbox/"))
        and not path.startswith("/sandbox/graph/")
        and method in ("post", "put", "patch")
        and (method, path) not in BODILESS
        and "requestBody" not in operation
    ]
    assert missing == []


async def test_lists_document_their_paging_envelope(node: httpx.AsyncClient) -> None:
    spec = await document(node)
    schema = spec["paths"]["/v1/messages"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = resolve(spec, schema["$ref"])
    assert set(page["properties"]) == {"data", "next_cursor"}
    item = resolve(spec, page["properties"]["data"]["items"]["$ref"])
    assert {"id", "status", "direction", "history"} <= set(item["properties"])


async def test_unknown_fields_are_refused_by_name_on_typed_bodies(node: httpx.AsyncClient) -> None:
    response = await node.post("/v1/channels", json={"name": "x", "kind": "memory", "pacng": {}})
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "unknown_field", "message": "unknown field pacng", "field": "pacng"}
