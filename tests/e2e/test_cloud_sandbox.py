"""The sandbox as users meet it: a real ``wagate serve`` on a fresh data dir, and ``wagate sim`` alone.

CONTRACT §7 and issue 4's "done when": a message to 79001234567 reaches ``read`` within
seconds with its full history, one to 79001230000 ends ``failed`` (not on WhatsApp), and
``POST /sandbox/inject`` produces an inbound message; the standalone simulator is driven by
the real cloud channel over TCP.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.channels.cloud.live import Live, live_gateway
from tests.conftest import free_port, make_settings
from tests.e2e.test_serve_subprocess import WAGATE, wait_ready
from wagate.channels.cloud.channel import CloudChannel

pytestmark = pytest.mark.slow
TOKEN = "e2e-admin-token"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, httpx.Client]]:
    """``wagate serve`` with nothing but a fresh data directory: the sandbox is on by default."""
    home = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {**os.environ, "WAGATE_PORT": str(port), "WAGATE_DATA_DIR": str(home / "data"), "WAGATE_ADMIN_TOKEN": TOKEN}
    for name in ("WAGATE_DATABASE_URL", "WAGATE_SANDBOX", "WAGATE_PUBLIC_URL"):
        env.pop(name, None)
    env["WAGATE_DATABASE_URL"] = f"sqlite+aiosqlite:///{home}/data/wagate.db"
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen([WAGATE, "serve"], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
            yield url, client
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def wait_status(client: httpx.Client, message_id: int, final: set[str], timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = client.get(f"/v1/messages/{message_id}").json()
        if message["status"] in final or time.monotonic() > deadline:
            return message
        time.sleep(0.1)


def test_serve_sends_to_a_sandbox_number_until_read_within_seconds(served: tuple[str, httpx.Client]) -> None:
    _url, client = served
    started = time.monotonic()
    accepted = client.post("/v1/messages", json={"to": "79001234567", "text": "Hello from wagate"}).json()
    assert accepted["channel"] == "sandbox"
    message = wait_status(client, accepted["id"], {"read", "failed"})
    assert message["status"] == "read"
    assert time.monotonic() - started < 10
    assert [h["status"] for h in message["history"] if h["applied"]] == [
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
    ]


def test_serve_fails_a_number_that_is_not_on_whatsapp(served: tuple[str, httpx.Client]) -> None:
    _url, client = served
    accepted = client.post("/v1/messages", json={"to": "79001230000", "text": "Hello"}).json()
    message = wait_status(client, accepted["id"], {"read", "failed"})
    assert message["status"] == "failed"
    assert message["error"]["code"] == "not_on_whatsapp"


def test_serve_shows_an_injected_message_as_inbound(served: tuple[str, httpx.Client]) -> None:
    _url, client = served
    inject = client.post("/sandbox/inject", json={"from": "79001234567", "text": "Когда доставка?"}, headers={})
    assert inject.status_code == 200
    inbound = client.get("/v1/messages", params={"direction": "in"}).json()["data"]
    assert [m["text"] for m in inbound] == ["Когда доставка?"]
    assert inbound[0]["from"] == "79001234567"


# the standalone simulator, driven by the real channel over TCP ---------------------------


@pytest.fixture
async def against_sim(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[Live, str]]:
    settings = make_settings(sqlite_url, tmp_path, sandbox=False, port=free_port(), dispatcher_workers=2)
    async with live_gateway(settings, plugins=[]) as live:
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        channel = {
            "name": "meta",
            "kind": "cloud",
            "settings": {
                "graph_url": sim_url,
                "phone_number_id": "100000000000001",
                "waba_id": "200000000000001",
                "access_token": "sandbox-token",
                "app_secret": "ci-app-secret",
                "verify_token": "sandbox-verify-token",
                "webhook_id": "ci",
            },
            # This test is about the channel and the simulator speaking over TCP, not the rules.
            "policy": {"service_window": False, "consent": "off", "duplicate_window_s": 0},
        }
        assert (await live.client.post("/v1/channels", json=channel)).status_code == 201
        log = tmp_path / "sim.log"
        with log.open("w") as out:
            proc = await asyncio.create_subprocess_exec(
                WAGATE,
                "sim",
                "--port",
                str(sim_port),
                "--webhook-url",
                f"{live.url}/webhooks/cloud/ci",
                "--app-secret",
                "ci-app-secret",
                "--delays",
                "0.05,0.05,0.05",
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        try:
            async with httpx.AsyncClient(base_url=sim_url, timeout=10) as sim:
                deadline = time.monotonic() + 20
                while True:
                    try:
                        if (await sim.get("/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    assert proc.returncode is None, log.read_text()
                    assert time.monotonic() < deadline, "wagate sim did not start"
                    await asyncio.sleep(0.05)
            yield live, sim_url
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 15)


async def test_the_standalone_simulator_takes_a_message_to_read(against_sim: tuple[Live, str]) -> None:
    live, _sim_url = against_sim
    message = await live.wait((await live.send({"to": "79001234567", "text": "hi"}))["id"])
    assert message["status"] == "read"
    assert [h["status"] for h in message["history"] if h["applied"]] == [
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
    ]


async def test_the_standalone_simulator_fails_a_number_ending_in_0000(against_sim: tuple[Live, str]) -> None:
    live, _sim_url = against_sim
    message = await live.wait((await live.send({"to": "79001230000", "text": "hi"}))["id"])
    assert message["error"]["code"] == "not_on_whatsapp"


async def test_the_standalone_simulator_injects_inbound_media(against_sim: tuple[Live, str]) -> None:
    live, sim_url = against_sim
    async with httpx.AsyncClient(base_url=sim_url) as sim:
        response = await sim.post("/sandbox/inject", json={"from": "79001234567", "media": {"type": "image"}})
    assert response.json()["webhook"]["delivered"] is True
    [message] = await live.inbound()
    assert message["type"] == "image"
    download = await live.client.get(message["media"]["url"])
    assert download.content.startswith(b"\x89PNG")


async def test_the_standalone_simulator_verifies_the_callback(against_sim: tuple[Live, str]) -> None:
    _live, sim_url = against_sim
    async with httpx.AsyncClient(base_url=sim_url) as sim:
        assert (await sim.post("/sandbox/webhooks/verify")).json()["delivered"] is True


async def test_the_standalone_simulator_lists_templates_to_the_channel(against_sim: tuple[Live, str]) -> None:
    live, _sim_url = against_sim
    tenant_id = live.app.state.bootstrap.tenant.id
    rows = await live.rt.channels_of(tenant_id, fresh=True)
    channel = await live.rt.channel_instance(rows["meta"])
    assert isinstance(channel, CloudChannel)
    names = {(t.name, t.language, t.status) for t in await channel.list_templates()}
    assert ("hello_world", "en_US", "approved") in names


async def test_another_token_is_refused_by_the_standalone_simulator(against_sim: tuple[Live, str]) -> None:
    _live, sim_url = against_sim
    async with httpx.AsyncClient(base_url=sim_url) as sim:
        response = await sim.post(
            "/v21.0/100000000000001/messages",
            json={"messaging_product": "whatsapp", "to": "79001234567", "text": {"body": "x"}},
            headers={"Authorization": "Bearer other"},
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190
