"""``/metrics`` labels: only known verbs, and route templates with the prefix they are mounted under."""

from __future__ import annotations

import httpx


async def test_an_invented_verb_is_counted_as_other(node: httpx.AsyncClient) -> None:
    for verb in ("BREW", "XYZZY"):
        await node.request(verb, "/v1/channels")
    text = (await node.get("/metrics")).text
    assert 'method="other"' in text
    assert "BREW" not in text and "XYZZY" not in text


async def test_a_route_label_keeps_its_mount_prefix(node: httpx.AsyncClient) -> None:
    await node.post("/sandbox/graph/v21.0/100000000000001/messages", json={}, headers={"Authorization": "Bearer x"})
    text = (await node.get("/metrics")).text
    assert 'route="/sandbox/graph/{version}/{node}/messages"' in text
    assert "100000000000001" not in text.split("wagate_http_requests_total")[1].split("\n# ")[0]
