"""Retention: message bodies and media files past the tenant's ``retention_days`` are pruned in
batches by the dispatcher's housekeeping; status, times, phone, operator and channel stay."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import make_settings, running_app
from tests.integration.dispatch_support import dispatch_registry
from wagate.dispatch.dispatcher import Dispatcher
from wagate.services.media import tenant_dir
from wagate.store.repos import housekeeping

pytestmark = pytest.mark.asyncio
UNPACED = {"per_second": 100000, "recipient_interval_s": 0}


async def test_bodies_and_media_past_the_tenant_retention_are_pruned_and_metadata_kept(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(housekeeping, "BATCH", 2)  # several batches, each its own transaction
    settings = make_settings(db_url, tmp_path, dispatcher=True, dispatcher_workers=1)
    async with running_app(settings, registry=dispatch_registry()) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": UNPACED})
        ids = []
        for i in range(5):
            body = {"to": f"7900123456{i}", "text": f"secret {i}", "operator": "anna"}
            ids.append((await client.post("/v1/messages", json=body)).json()["id"])
        for mid in ids:
            for _ in range(200):
                if (await client.get(f"/v1/messages/{mid}")).json()["status"] == "sent":
                    break
                await asyncio.sleep(0.02)
        await client.patch("/v1/channels/main", json={"status": "paused"})
        waiting = (await client.post("/v1/messages", json={"to": "79001234599", "text": "still queued"})).json()["id"]

        [tenant_id] = await rt.db.read(housekeeping.tenant_retentions)  # the bootstrap tenant
        media = tenant_dir(rt.settings, tenant_id)
        media.mkdir(parents=True, exist_ok=True)
        old, new = media / ("a" * 32 + ".jpg"), media / ("b" * 32 + ".jpg")
        old.write_bytes(b"old")
        new.write_bytes(b"new")
        now = rt.clock.now()
        month_ago = (now - timedelta(days=40)).timestamp()
        os.utime(old, (month_ago, month_ago))

        dispatcher = rt.components.get(Dispatcher)
        assert isinstance(dispatcher, Dispatcher)
        assert await dispatcher.retain(now + timedelta(days=31)) == (0, 0)  # nothing configured: kept

        bad = await client.patch("/v1/policy", json={"retention_days": 0})
        assert bad.status_code in (400, 422)
        response = await client.patch("/v1/policy", json={"retention_days": 30})
        assert response.status_code == 200 and response.json()["retention_days"] == 30

        assert await dispatcher.retain(now + timedelta(days=29)) == (0, 1)  # young bodies kept; the old file goes
        assert not old.exists() and new.exists()
        assert await dispatcher.retain(now + timedelta(days=31)) == (5, 1)
        assert await dispatcher.retain(now + timedelta(days=31)) == (0, 0)  # nothing twice

        for i, mid in enumerate(ids):
            message = (await client.get(f"/v1/messages/{mid}")).json()
            assert message["pruned"] is True and "text" not in message
            assert message["status"] == "sent" and message["operator"] == "anna" and message["channel"] == "main"
            assert message["to"] == f"7900123456{i}" and message["created_at"]
        queued = (await client.get(f"/v1/messages/{waiting}")).json()
        assert queued["status"] == "queued" and queued["text"] == "still queued"  # still needed to send it

        assert (await client.patch("/v1/policy", json={"retention_days": None})).json()["retention_days"] is None


async def test_the_deployment_default_applies_to_tenants_without_their_own(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, dispatcher=True, dispatcher_workers=1, retention_days=7)
    async with running_app(settings, registry=dispatch_registry()) as (_app, rt, client):
        await client.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": UNPACED})
        mid = (await client.post("/v1/messages", json={"to": "79001234567", "text": "hello"})).json()["id"]
        for _ in range(200):
            if (await client.get(f"/v1/messages/{mid}")).json()["status"] == "sent":
                break
            await asyncio.sleep(0.02)
        dispatcher = rt.components.get(Dispatcher)
        assert isinstance(dispatcher, Dispatcher)
        assert await dispatcher.retain(rt.clock.now() + timedelta(days=6)) == (0, 0)
        assert await dispatcher.retain(rt.clock.now() + timedelta(days=8)) == (1, 0)
        message = (await client.get(f"/v1/messages/{mid}")).json()
        assert message["pruned"] is True and message["status"] == "sent"
