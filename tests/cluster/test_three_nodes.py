"""Three ``wagate serve`` processes on one PostgreSQL database and Redis, one killed with SIGKILL.

Real processes end to end: three nodes (free ports, ``WAGATE_SANDBOX=0``) share a fresh
PostgreSQL database and the local Redis; an ``http`` channel sends to a receiver run by this
test (an aiohttp server in a thread, so it outlives any node), which notes the arrival time of
every message per id and every webhook request with its ``webhook-id``. Messages are posted
round-robin across the nodes while the channel is active, one node is killed with SIGKILL
mid-run and started again. Then:

* every message ends in a final state or ``unknown`` (none left ``queued``/``sending`` after
  the short lease of the killed node ran out);
* no message reached the receiver twice;
* over any one-second window the nodes handed at most ``per_second`` + ``burst`` messages to the
  channel (the moments recorded in ``channel_sends``: the token bucket is shared by the nodes
  through the ``channel_pacing`` row); the receiver's arrival times add the HTTP delivery's own
  jitter (three processes on two cores: up to 244/s seen against 220), so they only guard against a storm;
* the receiver got a ``message.status`` webhook for every message's final status, and any
  event that came twice came with the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from tests.conftest import ADMIN_TOKEN, free_port
from tests.e2e.test_serve_subprocess import WAGATE, wait_ready

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FINAL = {"sent", "delivered", "read", "failed", "expired", "unknown"}
TOTAL = 2000
BATCH = 100
PER_SECOND = 200
BURST = PER_SECOND // 10  # the documented default depth: a tenth of a second's worth
PROVIDER_DELAY = 0.02
REDIS_DB = 13
SECRET_KEY = (
    Fernet.generate_key().decode()
)  # channel names also carry the deployment id, so parallel runs never hear each other


class Receiver:
    """The far end of the ``http`` channel and of the webhook subscription."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.hooks: list[tuple[str, dict[str, Any]]] = []
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self.runner: web.AppRunner | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def message(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self.lock:
            self.arrivals[int(body["id"])].append(time.monotonic())
        await asyncio.sleep(PROVIDER_DELAY)  # a provider that takes its time: sends are in flight at the kill
        return web.json_response({"ok": True})

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self.lock:
            self.hooks.append((request.headers["webhook-id"], body))
        return web.json_response({"ok": True})

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/in", self.message)
        app.router.add_post("/hook", self.hook)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def received(self) -> int:
        with self.lock:
            return sum(len(times) for times in self.arrivals.values())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    target.start()
    try:
        yield target
    finally:
        target.stop()


def serve(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """A node; its log goes to DATA_DIR/../<port>.log (appended across restarts) for a failing run."""
    log = (cwd / f"node-{env['WAGATE_PORT']}.log").open("a")
    with log:
        return subprocess.Popen([WAGATE, "serve"], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def statuses(url: str) -> dict[int, str]:
    found: dict[int, str] = {}
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 500, "direction": "out"}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{url}/v1/messages", params=params, headers=HEADERS, timeout=30).json()
        found.update({m["id"]: m["status"] for m in page["data"]})
        cursor = page["next_cursor"]
        if not cursor:
            return found


def answers(url: str, node: subprocess.Popen[str]) -> bool:
    if node.poll() is not None:
        return False
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def kill_and_restart(
    nodes: list[subprocess.Popen[str]], envs: list[dict[str, str]], cwd: Path, receiver: Receiver
) -> int:
    """SIGKILL node 2 (it holds claims and webhook leases) and start it again at once."""
    nodes[2].send_signal(signal.SIGKILL)
    nodes[2].wait(timeout=10)
    received = receiver.received()
    nodes[2] = serve(envs[2], cwd)
    return received


async def hand_over_times(database_url: str) -> list[float]:
    """When the nodes handed each message to the channel, as the pacing recorded it (seconds)."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch("SELECT extract(epoch FROM at) AS at FROM channel_sends")
    finally:
        await conn.close()
    return [float(row["at"]) for row in rows]


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s) starting at an arrival."""
    times = sorted(times)
    return max((bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def test_three_nodes_one_killed_lose_nothing_send_nothing_twice_and_keep_the_rate(
    fresh_pg: str, tmp_path: Path, receiver: Receiver
) -> None:
    began = time.monotonic()
    ports = [free_port() for _ in range(3)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    envs = [
        {
            **os.environ,
            "WAGATE_PORT": str(port),
            "WAGATE_DATA_DIR": str(tmp_path / f"node{i}"),
            "WAGATE_DATABASE_URL": fresh_pg,
            "WAGATE_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "WAGATE_ADMIN_TOKEN": ADMIN_TOKEN,
            "WAGATE_SECRET_KEY": SECRET_KEY,  # one key: every node decrypts the webhook secret
            "WAGATE_SANDBOX": "0",
            "WAGATE_LEASE_SECONDS": "3",
            "WAGATE_DISPATCHER_WORKERS": "2",
            "WAGATE_WEBHOOK_TIMEOUT_SECONDS": "2",
        }
        for i, port in enumerate(ports)
    ]
    nodes = [serve(env, tmp_path) for env in envs]
    try:
        for url, node in zip(urls, nodes, strict=True):
            wait_ready(url, node, timeout=60)
        channel = {
            "name": "relay",
            "kind": "http",
            "settings": {"url": f"http://127.0.0.1:{receiver.port}/in", "timeout_s": 2},
            "pacing": {"per_second": PER_SECOND, "recipient_interval_s": 0},
        }
        response = httpx.post(f"{urls[0]}/v1/channels", json=channel, headers=HEADERS, timeout=30)
        assert response.status_code == 201, response.text
        hook = {"url": f"http://127.0.0.1:{receiver.port}/hook", "events": ["message.status"]}
        response = httpx.post(f"{urls[1]}/v1/webhooks", json=hook, headers=HEADERS, timeout=30)
        assert response.status_code == 201, response.text

        killed_at = None
        for n, start in enumerate(range(0, TOTAL, BATCH)):
            items = [
                {"to": str(79000000000 + i), "text": f"m{i}", "channel": "relay"} for i in range(start, start + BATCH)
            ]
            live = [url for url, node in zip(urls, nodes, strict=True) if answers(url, node)]
            response = httpx.post(
                f"{live[n % len(live)]}/v1/messages", json={"messages": items}, headers=HEADERS, timeout=60
            )
            assert response.status_code == 202 and response.json()["accepted"] == BATCH, response.text
            if killed_at is None and receiver.received() >= TOTAL // 5:
                killed_at = kill_and_restart(nodes, envs, tmp_path, receiver)
        if killed_at is None:  # posting outran sending: kill while the queue drains
            deadline = time.monotonic() + 60
            while receiver.received() < TOTAL // 5:
                assert time.monotonic() < deadline, "the nodes did not get going"
                time.sleep(0.05)
            killed_at = kill_and_restart(nodes, envs, tmp_path, receiver)
        wait_ready(urls[2], nodes[2], timeout=60)
        assert killed_at < TOTAL, "the kill came after the run"

        deadline = time.monotonic() + 90
        while True:
            found = statuses(urls[2])
            if len(found) == TOTAL and all(s in FINAL for s in found.values()):
                break
            assert time.monotonic() < deadline, f"not all final: {Counter(found.values())}"
            time.sleep(0.5)

        while True:
            seen: defaultdict[int, set[str]] = defaultdict(set)
            with receiver.lock:
                for _id, body in receiver.hooks:
                    seen[int(body["data"]["message_id"])].add(body["data"]["status"])
            missing = [mid for mid, status in found.items() if status not in seen[mid]]
            if not missing:
                break
            assert time.monotonic() < deadline, f"{len(missing)} final statuses never reached the webhook"
            time.sleep(0.5)
    finally:
        for node in nodes:
            if node.poll() is None:
                node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=15)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()

    with receiver.lock:
        arrivals = {mid: list(times) for mid, times in receiver.arrivals.items()}
        hooks = list(receiver.hooks)
    assert set(arrivals) <= set(found)
    assert max(len(times) for times in arrivals.values()) == 1, "a message reached the receiver twice"
    for mid, status in found.items():
        if status == "sent":
            assert len(arrivals.get(mid, [])) == 1, f"message {mid} is sent but never arrived"
        else:
            assert status == "unknown", f"message {mid} ended {status}"
    handed = asyncio.run(hand_over_times(fresh_pg))
    peak = busiest_second(handed)
    assert peak <= PER_SECOND + BURST, f"{peak} hand-overs in one second, configured {PER_SECOND} + burst {BURST}"
    arrived = busiest_second([t for times in arrivals.values() for t in times])
    # Arrivals add the HTTP delivery's own jitter (measured up to 244/s here while the hand-overs
    # held 220): only a storm — twice the bound — would say something about the gateway.
    assert arrived <= (PER_SECOND + BURST) * 2, f"{arrived} arrivals in one second (delivery jitter included)"

    ids_per_event: defaultdict[tuple[int, str, str | None], set[str]] = defaultdict(set)
    for webhook_id, body in hooks:
        data = body["data"]
        ids_per_event[(int(data["message_id"]), data["status"], data.get("previous_status"))].add(webhook_id)
    assert all(len(ids) == 1 for ids in ids_per_event.values()), "one event delivered under two webhook-ids"
    print(
        f"three nodes: {Counter(found.values())}, received at the kill: {killed_at}, busiest second: {peak},"
        f" webhook requests: {len(hooks)}, wall time: {time.monotonic() - began:.1f} s"
    )
