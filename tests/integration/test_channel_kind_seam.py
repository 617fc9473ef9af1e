"""The channel seam: a kind is one descriptor, registered with one line, and talks to the gateway
only through ``ChannelBackend`` (docs/architecture.md, "Adding a channel kind")."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings, running_app
from tests.conftest import test_registry as base_registry
from tests.integration import toykind
from wagate.channels.registry import UnknownKind, default_registry

PHONE = "79001234567"


async def _wait_status(client: httpx.AsyncClient, message_id: int, status: str) -> dict[str, Any]:
    for _ in range(200):
        message: dict[str, Any] = (await client.get(f"/v1/messages/{message_id}")).json()
        if message["status"] == status:
            return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"message {message_id} never became {status}: {message}")


@pytest.mark.asyncio
async def test_a_kind_from_one_package_sends_and_receives_end_to_end(db_url: str, tmp_path: Path) -> None:
    registry = base_registry()
    registry.add(toykind.KIND)  # the one line that makes a node run the kind
    settings = make_settings(db_url, tmp_path)
    async with running_app(settings, registry=registry) as (_app, _rt, client):
        created = await client.post("/v1/channels", json={"name": "t", "kind": "toy", "settings": {"secret": "s3"}})
        assert created.status_code == 201, created.text
        assert created.json()["settings"]["secret"] == "***"  # the kind's secret field is masked
        assert created.json()["policy"]["consent"] == "off"  # the kind's default policy
        assert created.json()["pacing"]["per_second"] == 80.0  # the kind's default pacing

        accepted = await client.post("/v1/messages", json={"to": PHONE, "text": "hello", "channel": "t"})
        assert accepted.status_code == 202, accepted.text
        message_id = accepted.json()["id"]
        sent = await _wait_status(client, message_id, "sent")
        delivered_to = toykind.DELIVERED[sent["provider_id"]]
        assert (delivered_to.phone, delivered_to.payload["text"]) == (PHONE, "hello")

        callback = {"id": sent["provider_id"], "status": "delivered", "secret": "s3"}
        assert (await client.post("/toy/t/status", json=callback)).json() == {"found": True}
        await _wait_status(client, message_id, "delivered")

        inbound = {"id": "toy-in-1", "from": PHONE, "text": "hi back", "secret": "s3"}
        first = (await client.post("/toy/t/inbound", json=inbound)).json()
        again = (await client.post("/toy/t/inbound", json=inbound)).json()
        assert first["created"] is True
        assert again == {"message_id": first["message_id"], "created": False}  # deduplicated by provider id
        received = (await client.get(f"/v1/messages/{first['message_id']}")).json()
        assert (received["direction"], received["status"], received["text"]) == ("in", "received", "hi back")

        phones = (await client.get(f"/v1/phones/{PHONE}")).json()
        assert phones["whatsapp"] == "exists"  # reported through the backend by the send


@pytest.mark.asyncio
async def test_the_registry_refuses_a_kind_it_does_not_hold(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(UnknownKind):
        default_registry().get("toy")
    async with running_app(make_settings(db_url, tmp_path, dispatcher=False)) as (_app, _rt, client):
        refused = await client.post("/v1/channels", json={"name": "t", "kind": "toy", "settings": {"secret": "x"}})
        assert refused.status_code == 422
        assert refused.json()["error"]["field"] == "kind"


def test_the_toy_kind_imports_nothing_but_the_channel_contract() -> None:
    tree = ast.parse(Path(toykind.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    wagate = {m for m in imported if m.startswith("wagate")}
    forbidden = ("wagate.store", "wagate.dispatch", "wagate.api", "wagate.runtime", "wagate.services", "wagate.app")
    assert wagate and not [m for m in wagate if m.startswith(forbidden)]
