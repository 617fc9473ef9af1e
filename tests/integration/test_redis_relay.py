"""Cross-node signals through a real Redis (``WAGATE_REDIS_URL``): wake-ups, events, deliveries.

Nodes here are ``create_app`` instances with their own lifespans in one process, sharing one
database (the same SQLite file, or one PostgreSQL database) and the local Redis
(127.0.0.1:6379). Tests skip when Redis is absent only while ``CI`` is unset; in CI an absent
Redis is a failure. A second, private ``redis-server`` is started on a free port where a test
needs to stop Redis under a running node.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from typer.testing import CliRunner

from tests.conftest import free_port, fresh_sqlite, make_settings, running_app
from wagate.app import Plugin
from wagate.config import Settings
from wagate.dispatch.dispatcher import Dispatcher
from wagate.dispatch.redis_relay import RedisRelay
from wagate.dispatch.wakeups import PgWakeupRelay
from wagate.runtime import Runtime
from wagate.store.repos.events import append_event
from wagate.webhooks.plugin import WebhookNode, webhooks_plugin

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
UNPACED = {"per_second": 100000, "recipient_interval_s": 0}
Node = tuple[FastAPI, Runtime, httpx.AsyncClient]


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection((REDIS_HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _reachable(REDIS_PORT):
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} and CI is set")
        pytest.skip("Redis not available (and CI unset)")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def relay_of(rt: Runtime) -> RedisRelay:
    relay: RedisRelay = rt.components.get(RedisRelay)
    return relay


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@asynccontextmanager
async def node(
    db_url: str, directory: Path, *, plugins: list[Plugin] | None = None, **overrides: Any
) -> AsyncIterator[Node]:
    settings = make_settings(db_url, directory, **{"dispatcher": False, **overrides})
    async with running_app(settings, plugins=plugins) as started:
        yield started


# -- wake-ups --------------------------------------------------------------------------------------


async def test_a_message_accepted_on_one_node_is_sent_by_the_idle_dispatcher_of_another(
    db_url: str, tmp_path: Path, redis_url: str
) -> None:
    async with (
        node(db_url, tmp_path / "b", dispatcher=True, dispatcher_workers=1, redis_url=redis_url) as (_b, rt_b, _cb),
        node(db_url, tmp_path / "a", redis_url=redis_url) as (_a, rt_a, client),
    ):
        # Redis replaces NOTIFY on PostgreSQL: only the Redis relay can wake B.
        assert rt_a.components.find(PgWakeupRelay) is None and rt_b.components.find(PgWakeupRelay) is None
        assert relay_of(rt_a).namespace == relay_of(rt_b).namespace
        assert (
            await client.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": UNPACED})
        ).is_success
        dispatcher: Dispatcher = rt_b.components.get(Dispatcher)
        # B's dispatcher looks at the new channel and goes idle: it then sleeps until a wake-up,
        # with no timer at all.
        await until(lambda: dispatcher.next_wake() is None, "node B's dispatcher to go idle")
        woken_before = relay_of(rt_b).received["wakeup"]

        mid = (await client.post("/v1/messages", json={"to": "79001234567", "text": "hi"})).json()["id"]

        async def sent() -> bool:
            return bool((await client.get(f"/v1/messages/{mid}")).json()["status"] == "sent")

        await until(sent, "node B to send the message")
        assert relay_of(rt_b).received["wakeup"] > woken_before
        assert relay_of(rt_b).published["wakeup"] == 0  # what came from Redis is not published again
        assert relay_of(rt_a).received["wakeup"] == 0


async def test_a_burst_of_local_wakeups_is_coalesced_and_never_echoed(
    db_url: str, tmp_path: Path, redis_url: str
) -> None:
    async with (
        node(db_url, tmp_path / "a", redis_url=redis_url) as (_a, rt_a, _ca),
        node(db_url, tmp_path / "b", redis_url=redis_url) as (_b, rt_b, client_b),
    ):
        a, b = relay_of(rt_a), relay_of(rt_b)
        heard = 0

        def count() -> None:
            nonlocal heard
            heard += 1

        rt_b.wakeup.listeners.append(count)
        for _ in range(100):
            rt_a.wakeup.notify()
        await until(lambda: a.published["wakeup"] >= 1 and "wakeup" not in a._in_flight, "A to publish")
        await until(lambda: b.received["wakeup"] == a.published["wakeup"], "B to hear every publish")
        await until(lambda: a.own_heard >= a.published["wakeup"], "A to hear its own signals back")
        assert a.published["wakeup"] <= 3  # one in flight plus one pending, not 100
        assert a.received["wakeup"] == 0  # its own signals are ignored
        assert heard == b.received["wakeup"]
        assert b.published["wakeup"] == 0  # no echo back to A
        metrics = (await client_b.get("/metrics")).text
        assert f'wagate_redis_signals_received_total{{kind="wakeup"}} {float(b.received["wakeup"])}' in metrics


# -- events and deliveries -------------------------------------------------------------------------


async def test_an_event_committed_on_one_node_is_fanned_out_at_once_by_another(
    db_url: str, tmp_path: Path, redis_url: str
) -> None:
    hooks: dict[str, Any] = {"webhook_retry_schedule": [600.0], "redis_url": redis_url}
    async with (
        node(db_url, tmp_path / "b", plugins=[webhooks_plugin], **hooks) as (_b, rt_b, _cb),
        node(db_url, tmp_path / "a", plugins=[webhooks_plugin], webhooks=False, **hooks) as (app_a, rt_a, client),
    ):
        fanout = rt_b.components.get(WebhookNode)
        assert isinstance(fanout, WebhookNode)
        response = await client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["consent.changed"]}
        )
        assert response.status_code == 201
        await until(lambda: relay_of(rt_b).received["events"] >= 1, "B to hear of the subscription's commit")
        events_before = relay_of(rt_b).received["events"]
        tenant_id = app_a.state.bootstrap.tenant.id
        now = rt_a.clock.now()
        # A bare event: no rt.wakeup on A, so only the ``events`` signal can poke B's fan-out
        # (idle for 30 s after its last pass; on PostgreSQL NOTIFY wagate_events may poke it too).
        event_id = await rt_a.db.write(
            lambda c: append_event(c, tenant_id=tenant_id, type="consent.changed", payload={"phone": "7900"}, now=now)
        )
        await until(lambda: fanout.fanout.cursor >= event_id, "node B's fan-out to pass the event")
        assert relay_of(rt_b).received["events"] > events_before
        # B created a delivery for it and told the other nodes' senders.
        await until(lambda: relay_of(rt_a).received["deliveries"] >= 1, "the deliveries signal on A")


# -- Redis absent, refused, or shared by two deployments -------------------------------------------


async def test_with_redis_down_the_node_starts_serves_and_warns(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="wagate.dispatch.redis")
    closed = f"redis://127.0.0.1:{free_port()}/0"
    async with node(sqlite_url, tmp_path, dispatcher=True, redis_url=closed) as (_app, rt, client):
        assert any("redis_url" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
        assert not relay_of(rt).connected
        ready = await client.get("/readyz")
        assert ready.status_code == 200  # Redis accelerates; it never decides readiness
        assert ready.json()["redis"] == "down"
        await client.post("/v1/channels", json={"name": "main", "kind": "memory", "pacing": UNPACED})
        mid = (await client.post("/v1/messages", json={"to": "79001234567", "text": "hi"})).json()["id"]

        async def sent() -> bool:  # local wake-ups still work
            return bool((await client.get(f"/v1/messages/{mid}")).json()["status"] == "sent")

        await until(sent, "the local dispatcher to send")
        publish_warnings = [r for r in caplog.records if "PUBLISH" in r.getMessage()]
        assert publish_warnings == []  # one warning at start, not one per commit


def test_a_url_that_is_not_a_redis_url_is_refused_naming_redis_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError, match="redis_url"):
        make_settings("sqlite+aiosqlite:///x.db", tmp_path, redis_url="http://x")
    with pytest.raises(ValidationError, match=r"redis_url\n.*not a valid Redis URL"):
        make_settings("sqlite+aiosqlite:///x.db", tmp_path, redis_url="redis://host:port/0")
    monkeypatch.setenv("WAGATE_REDIS_URL", "http://x")
    with pytest.raises(ValidationError, match="redis_url"):
        Settings()
    monkeypatch.setenv("WAGATE_REDIS_URL", "")
    assert Settings().redis_url is None  # set but empty: unset
    for good in ("redis://h:6379/0", "rediss://u:p@h/1", "unix:///run/redis.sock"):
        assert make_settings("sqlite+aiosqlite:///x.db", tmp_path, redis_url=good).redis_url == good
    monkeypatch.delenv("WAGATE_REDIS_URL")

    from wagate.cli.main import app as cli

    result = CliRunner().invoke(cli, ["serve", "--redis-url", "http://x"])
    assert result.exit_code == 2  # refused at start, naming the flag
    assert "--redis-url" in result.stderr and "Redis URL" in result.stderr


async def test_two_deployments_on_one_redis_do_not_hear_each_other(
    sqlite_template: Path, tmp_path: Path, redis_url: str
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = fresh_sqlite(sqlite_template, tmp_path / "one")
    second = fresh_sqlite(sqlite_template, tmp_path / "two")
    async with (
        node(first, tmp_path / "a", redis_url=redis_url) as (_a, rt_a, _ca),
        node(second, tmp_path / "b", redis_url=redis_url) as (_b, rt_b, _cb),
    ):
        a, b = relay_of(rt_a), relay_of(rt_b)
        assert a.namespace != b.namespace
        rt_a.wakeup.notify()
        # A hears its own signal back: had B subscribed to the same channel, it would have heard it too.
        await until(lambda: a.own_heard >= 1, "A to hear its own signal")
        await asyncio.sleep(0.05)
        assert sum(b.received.values()) == 0 and sum(a.received.values()) == 0


# -- Redis lost and back ---------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of our own on a free port and a Unix socket; ``start()`` (re)starts it."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.socket = directory / "redis.sock"
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        proc = subprocess.Popen([self.binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=5)


@pytest.fixture
def private_redis(redis_url: str) -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed and CI is set")
        pytest.skip("redis-server not installed (and CI unset)")
    # A short directory: a Unix socket path must fit in about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="wgr", dir="/tmp") as directory:
        server = PrivateRedis(binary, Path(directory))
        yield server
        server.stop()


async def test_after_losing_redis_the_node_reconnects_and_wakes_itself_once(
    sqlite_url: str, tmp_path: Path, private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="wagate.dispatch.redis")
    server = private_redis.start()
    await until(lambda: _reachable(private_redis.port), "the private redis-server")
    url = f"redis://127.0.0.1:{private_redis.port}/0"
    async with node(sqlite_url, tmp_path, redis_url=url) as (_app, rt, client):
        relay = relay_of(rt)
        assert relay.connected
        woken = 0

        def count() -> None:
            nonlocal woken
            woken += 1

        rt.wakeup.listeners.append(count)
        server.terminate()
        server.wait(timeout=5)
        await until(lambda: not relay.connected, "the relay to notice Redis is gone")
        assert (await client.get("/readyz")).json() == {
            "status": "ready",
            "database": True,
            "redis": "down",
            "warnings": [],
        }
        assert any("lost the Redis connection" in r.getMessage() for r in caplog.records)
        private_redis.start()
        await until(lambda: relay.connected, "the relay to reconnect", timeout=3.0)
        assert relay.reconnects == 1
        assert woken == 1  # something may have been missed: the node woke itself once
        assert relay.received["wakeup"] == 0
        assert (await client.get("/readyz")).json()["redis"] == "ok"


async def test_a_unix_socket_url_carries_signals_between_nodes(
    sqlite_url: str, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    private_redis.start()
    await until(private_redis.socket.exists, "the private redis-server's socket")
    url = f"unix://{private_redis.socket}?db=0"
    async with (
        node(sqlite_url, tmp_path / "a", redis_url=url) as (_a, rt_a, _ca),
        node(sqlite_url, tmp_path / "b", redis_url=url) as (_b, rt_b, client_b),
    ):
        assert relay_of(rt_a).connected and relay_of(rt_b).connected
        rt_a.wakeup.notify()
        await until(lambda: relay_of(rt_b).received["wakeup"] == 1, "B to hear A over the Unix socket")
        assert (await client_b.get("/readyz")).json()["redis"] == "ok"
