"""``wagate bench ingest``: how fast the API accepts messages durably, beside bare baselines.

Measured in one run, on one machine, with identical uvicorn settings (httptools, uvloop,
one process):

* single-message POSTs at N concurrent connections (``wrk``) — wagate vs a bare FastAPI POST
  endpoint with a pydantic body; every wagate 202 is given only after its message, history
  row and event are committed with ``synchronous=FULL`` (group commit);
* batches of 1000 — wagate messages/s vs a raw batched SQLite insert of the same rows.

``wrk`` comes from Debian (``apt-get install wrk``); ``make bench`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from wagate.bench.servers import BENCH_TOKEN

LUA_SINGLE = """
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local body = string.format('{"to": "7900%%07d", "text": "bench %%d"}', counter %% 9000000, counter)
  return wrk.format(nil, "%(path)s", nil, body)
end
"""


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(kind: str, workdir: Path, database_url: str = "") -> Iterator[str]:
    port = _free_port()
    args = [
        sys.executable,
        "-m",
        "wagate.bench.servers",
        kind,
        "--port",
        str(port),
        "--database-url",
        database_url,
        "--data-dir",
        str(workdir / "data"),
    ]
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, path: str, connections: int, seconds: int, workdir: Path) -> WrkResult:
    script = workdir / f"post-{path.strip('/').replace('/', '-')}.lua"
    script.write_text(LUA_SINGLE % {"token": BENCH_TOKEN, "path": path})
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", out))

    def parse(v: str) -> float:
        m = re.match(r"([\d.]+)(us|ms|s)", v)
        assert m is not None
        return _ms(m.group(1), m.group(2))

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        rps,
        parse(lat["50"]),
        parse(lat["99"]),
        total,
        int(non2xx.group(1)) if non2xx else 0,
        sum(int(x) for x in errors.groups()) if errors else 0,
    )


def count_messages(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])


def batch_throughput(url: str, batches: int) -> float:
    headers = {"Authorization": f"Bearer {BENCH_TOKEN}", "Content-Type": "application/json"}
    bodies = [
        orjson.dumps(
            {"messages": [{"to": f"7901{(b * 1000 + i) % 9000000:07d}", "text": f"batch {b}/{i}"} for i in range(1000)]}
        )
        for b in range(batches)
    ]
    with httpx.Client(timeout=60) as client:
        client.post(f"{url}/v1/messages", content=bodies[0], headers=headers).raise_for_status()
        start = time.perf_counter()
        for body in bodies[1:]:
            response = client.post(f"{url}/v1/messages", content=body, headers=headers)
            assert response.status_code == 202 and response.json()["accepted"] == 1000, response.text
        elapsed = time.perf_counter() - start
    return (batches - 1) * 1000 / elapsed


def raw_sqlite(db_path: Path, batches: int) -> tuple[float, float]:
    """Raw inserts into the same ``messages`` table: batched rows/s and single-row commits/s."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    row = (1, 1, "out", "79001234567", "text", '{"text": "raw"}', "queued", "api", 0, now, now, now)
    sql = (
        "INSERT INTO messages (tenant_id, channel_id, direction, phone, type, payload, status, origin, attempts,"
        " due_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    start = time.perf_counter()
    for _ in range(batches):
        conn.execute("BEGIN")
        conn.executemany(sql, [row] * 1000)
        conn.execute("COMMIT")
    batched = batches * 1000 / (time.perf_counter() - start)
    start = time.perf_counter()
    singles = 2000
    for _ in range(singles):
        conn.execute("BEGIN")
        conn.execute(sql, row)
        conn.execute("COMMIT")
    single = singles / (time.perf_counter() - start)
    conn.close()
    return batched, single


def run(*, seconds: int = 10, connections: int = 50, batches: int = 30) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk (make bench does it)")
    workdir = Path(tempfile.mkdtemp(prefix="wagate-bench-"))
    db_path = workdir / "data" / "wagate.db"
    url_db = f"sqlite+aiosqlite:///{db_path}"
    print(
        f"wagate bench ingest — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"{connections} connections, {seconds} s per run"
    )
    with server("bare", workdir) as bare_url:
        run_wrk(bare_url, "/bare", connections, 2, workdir)  # warm-up
        bare = run_wrk(bare_url, "/bare", connections, seconds, workdir)
    with server("wagate", workdir, url_db) as url:
        headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
        httpx.post(f"{url}/v1/channels", json={"name": "bench", "kind": "memory"}, headers=headers).raise_for_status()
        run_wrk(url, "/v1/messages", connections, 2, workdir)  # warm-up
        before = count_messages(db_path)
        single = run_wrk(url, "/v1/messages", connections, seconds, workdir)
        stored = count_messages(db_path) - before
        batch_rate = batch_throughput(url, batches)
    raw_batched, raw_single = raw_sqlite(db_path, batches)
    accepted = single.requests - single.non_2xx
    print()
    print(f"{'':34}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    print(f"{'bare FastAPI POST (pydantic)':34}{bare.requests_per_second:>10.0f}{bare.p50_ms:>9.2f}{bare.p99_ms:>9.2f}")
    print(
        f"{'wagate POST /v1/messages':34}{single.requests_per_second:>10.0f}{single.p50_ms:>9.2f}{single.p99_ms:>9.2f}"
    )
    print(
        f"  ratio wagate / bare: {single.requests_per_second / bare.requests_per_second:.2f}  "
        f"(target ≥ 0.60, p99 ≤ 25 ms)"
    )
    print(
        f"  durability: {accepted} answered 2xx, {stored} stored (non-2xx {single.non_2xx}, socket errors "
        f"{single.errors})"
    )
    print()
    print(f"{'raw SQLite single-row commits/s':34}{raw_single:>10.0f}")
    print(f"  ratio wagate single POST / raw single commit: {single.requests_per_second / raw_single:.2f}")
    print(f"{'raw SQLite batched rows/s':34}{raw_batched:>10.0f}")
    print(f"{'wagate batches of 1000, msg/s':34}{batch_rate:>10.0f}")
    print(f"  ratio wagate batch / raw batch: {batch_rate / raw_batched:.2f}  (target ≥ 20,000 msg/s)")
    shutil.rmtree(workdir, ignore_errors=True)
