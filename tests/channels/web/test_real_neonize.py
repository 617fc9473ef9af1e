"""The real neonize client, here where WhatsApp's servers cannot be reached: it degrades cleanly.

These start whatsmeow for real (the Go library inside neonize): the channel must show
``disconnected`` with the error, retry with backoff, and not spin.
"""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path

import pytest

from tests.channels.web.conftest import FAST, eventually, web_registry
from tests.conftest import make_settings, running_app
from wagate.channels.web import neonize_session, web_plugin
from wagate.channels.web.session import SessionError, SessionSpec, sqlite_store

#: These load the Go library and let whatsmeow dial: seconds each on a busy machine.
pytestmark = pytest.mark.slow


class NoPreflight(neonize_session.NeonizeSession):
    """Skips the reachability check, so whatsmeow itself dials (and fails)."""

    async def _preflight(self) -> None:
        return None


async def test_whatsmeow_connecting_without_a_network_fails_fast(tmp_path: Path) -> None:
    session = NoPreflight(SessionSpec(channel_id=1, store=sqlite_store(tmp_path, 1), jid=None))
    started = time.monotonic()
    with pytest.raises(SessionError) as raised:
        await asyncio.wait_for(session.run(lambda _event: None), 30)
    assert time.monotonic() - started < 30
    assert "whatsapp" in str(raised.value).lower()
    await session.stop()
    assert (tmp_path / "web" / "channel-1.db").exists()  # the device store is in the data dir


async def test_a_real_web_channel_shows_disconnected_and_retries_without_spinning(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url, tmp_path)
    plugins = [web_plugin(renew_seconds=0.5, scan_gap=0.05)]
    async with running_app(settings, registry=web_registry(), plugins=plugins) as (_app, _rt, client):  # type: ignore[list-item]
        cpu_before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
        response = await client.post("/v1/channels", json={"name": "wa", "kind": "web", "pacing": FAST})
        assert response.status_code == 201

        async def disconnected() -> dict[str, object] | None:
            data: dict[str, object] = (await client.get("/v1/channels/wa/session")).json()
            return data if data["state"] == "disconnected" else None

        state = await eventually(disconnected, timeout=20)
        assert "web.whatsapp.com" in str(state["error"])
        await asyncio.sleep(2)
        cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu_before
        assert cpu < 2.0, f"{cpu:.2f} s of CPU in ~2 s of waiting"
        queued = await client.post("/v1/messages", json={"channel": "wa", "to": "79001234567", "text": "later"})
        assert queued.status_code == 202
        await asyncio.sleep(0.3)
        message = (await client.get(f"/v1/messages/{queued.json()['id']}")).json()
        assert message["status"] == "queued"
    assert (tmp_path / "data" / "web").is_dir()


async def test_on_postgresql_the_device_store_is_the_gateways_database(pg_db_url: str) -> None:
    import asyncpg

    from wagate.channels.web.session import postgres_store

    store = postgres_store(pg_db_url)
    assert store.startswith("postgres://") and "sslmode=disable" in store
    session = NoPreflight(SessionSpec(channel_id=1, store=store, jid=None))
    with pytest.raises(SessionError) as raised:
        await asyncio.wait_for(session.run(lambda _event: None), 60)
    assert "dial" in str(raised.value).lower() or "whatsapp" in str(raised.value).lower()  # the store opened
    await session.stop()
    conn = await asyncpg.connect(pg_db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
    finally:
        await conn.close()
    assert "whatsmeow_device" in tables


async def test_a_device_missing_from_whatsmeows_store_is_not_resumed(web_both: object) -> None:
    """Resuming a device the store lost would crash whatsmeow; the keeper looks first."""
    from tests.channels.web.conftest import WebGateway

    assert isinstance(web_both, WebGateway)
    web = web_both
    channel_id = await web.create()
    row = (await web.rt.channels_of(1, fresh=True))["wa"]
    sessions = web.rt.extras["web_sessions"]
    assert await sessions.device_stored(row, "79001110000:7@s.whatsapp.net") is False
    if not web.rt.db.is_postgres:
        import sqlite3

        path = sqlite_store(web.rt.settings.data_dir, channel_id)
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY)")
            db.execute("INSERT INTO whatsmeow_device VALUES ('79001110000:7@s.whatsapp.net')")
        assert await sessions.device_stored(row, "79001110000:7@s.whatsapp.net") is True
