"""kill -9 in the middle of a run: nothing lost, nothing received twice, everything accounted for.

``wagate serve`` runs as a subprocess with an ``http`` channel pointed at a sink in another
process (the receiving end, which outlives the gateway and counts receipts per message id).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, free_port
from tests.e2e.test_serve_subprocess import WAGATE, wait_ready
from wagate.bench.sink import start_sink, stop_sink

pytestmark = pytest.mark.slow
FINAL = {"sent", "delivered", "read", "failed", "expired", "unknown"}
TOTAL = 5000
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def sink() -> Iterator[str]:
    port = free_port()
    proc = start_sink(port, delay_ms=20)  # a slow provider: 20 ms per message
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_sink(proc)


def serve(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [WAGATE, "serve"], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )


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


def test_sigkill_mid_run_loses_nothing_and_sends_nothing_twice(db_url: str, tmp_path: Path, sink: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "WAGATE_PORT": str(port),
        "WAGATE_DATA_DIR": str(tmp_path / "data"),
        "WAGATE_DATABASE_URL": db_url,
        "WAGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "WAGATE_SANDBOX": "0",
        "WAGATE_LEASE_SECONDS": "3",
    }
    first = serve(env, tmp_path)
    try:
        wait_ready(url, first)
        channel = {
            "name": "slow",
            "kind": "http",
            "settings": {"url": f"{sink}/in"},
            "pacing": {"per_second": 400, "recipient_interval_s": 0},
        }
        assert httpx.post(f"{url}/v1/channels", json=channel, headers=HEADERS).status_code == 201
        httpx.patch(f"{url}/v1/channels/slow", json={"status": "paused"}, headers=HEADERS)
        for start in range(0, TOTAL, 1000):
            items = [
                {"to": str(79000000000 + i), "text": f"m{i}", "channel": "slow"} for i in range(start, start + 1000)
            ]
            response = httpx.post(f"{url}/v1/messages", json={"messages": items}, headers=HEADERS, timeout=60)
            assert response.status_code == 202 and response.json()["accepted"] == 1000
        httpx.patch(f"{url}/v1/channels/slow", json={"status": "active"}, headers=HEADERS)
        deadline = time.monotonic() + 60
        while httpx.get(f"{sink}/_stats").json()["received"] < 1500:
            assert time.monotonic() < deadline, "the gateway did not get going"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    received_at_kill = httpx.get(f"{sink}/_stats").json()["received"]
    assert received_at_kill < TOTAL  # killed mid-run

    second = serve(env, tmp_path)
    try:
        wait_ready(url, second)
        deadline = time.monotonic() + 120
        while True:
            found = statuses(url)
            if all(s in FINAL for s in found.values()):
                break
            assert time.monotonic() < deadline, "messages still queued or sending after restart"
            time.sleep(0.5)
    finally:
        second.terminate()
        second.wait(timeout=15)

    counts = {int(k): v for k, v in httpx.get(f"{sink}/_counts").json().items()}
    assert len(found) == TOTAL  # none missing
    assert max(counts.values()) == 1  # none received twice
    for mid, status in found.items():
        if status == "sent":
            assert counts.get(mid) == 1, f"message {mid} is sent but was never received"
        elif status == "unknown":
            assert counts.get(mid, 0) <= 1
        else:
            pytest.fail(f"message {mid} ended {status}")
    assert set(counts) <= set(found)
    print("after kill -9:", Counter(found.values()), "received at kill:", received_at_kill)
