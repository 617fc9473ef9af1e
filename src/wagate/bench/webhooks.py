"""``wagate bench webhooks``: events per second from the outbox to a local receiver, signed and verified.

1. A receiver process (``wagate.bench.receiver``: uvicorn + ``standardwebhooks`` verification).
2. **Baseline**: the same receiver hit directly with pre-rendered, signed requests by the same
   HTTP client (aiohttp) at the same concurrency — no database, no outbox. httpx is measured too,
   for the record of why the sender uses aiohttp.
3. **wagate**: N ``message.status`` events (4 per message, so per-message ordering is exercised)
   are committed to the outbox of a fresh database; then the webhook node starts and the clock
   runs until the receiver has verified all N. This includes fan-out, claims, signing, sending
   and recording every attempt durably.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from wagate.config import Settings
from wagate.webhooks.formats import Event, render
from wagate.webhooks.signer import signature_headers, webhook_id

STATUSES = ("sent", "delivered", "read", "sent")


@dataclass
class Result:
    name: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _payload(message_id: int, status: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "direction": "out",
        "channel": "main",
        "phone": f"7900{message_id:07d}",
        "status": status,
        "previous_status": None,
        "reason": "bench",
        "error": None,
        "provider_id": f"wamid.{message_id}",
        "client_ref": f"crm-{message_id}",
        "callback_url": None,
        "callback_data": None,
        "operator": None,
        "origin": "api",
        "type": "text",
        "at": datetime.now(UTC).isoformat(),
    }


class ReceiverProcess:
    def __init__(self, secret: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wagate.bench.receiver", str(self.port), secret],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/count", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    async def count(self, session: aiohttp.ClientSession) -> tuple[int, int]:
        async with session.get(f"http://127.0.0.1:{self.port}/count") as resp:
            ok, failed = (await resp.text()).split()
            return int(ok), int(failed)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def _wait_for(receiver: ReceiverProcess, expected: int, timeout: float) -> tuple[int, int]:
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + timeout
        ok = failed = 0
        while time.monotonic() < deadline:
            ok, failed = await receiver.count(session)
            if ok + failed >= expected:
                return ok, failed
            await asyncio.sleep(0.05)
        return ok, failed


def _signed_requests(secret: str, count: int) -> list[tuple[str, dict[str, str]]]:
    now = datetime.now(UTC)
    out = []
    for i in range(count):
        event = Event(i + 1, 1, "message.status", i // 4 + 1, _payload(i // 4 + 1, STATUSES[i % 4]), now)
        body = render("native", event).body
        headers = signature_headers(webhook_id(i + 1), body, now, [secret])
        headers["content-type"] = "application/json"
        out.append((body, headers))
    return out


async def baseline_aiohttp(url: str, requests: list[tuple[str, dict[str, str]]], concurrency: int) -> Result:
    """The receiver hit directly: signing and rendering done beforehand, then only HTTP."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        queue = iter(requests)

        async def worker() -> None:
            for body, headers in queue:
                async with session.post(url, data=body.encode(), headers=headers) as resp:
                    await resp.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return Result("baseline: aiohttp straight to the receiver", len(requests), time.perf_counter() - started)


async def baseline_httpx(url: str, requests: list[tuple[str, dict[str, str]]], concurrency: int) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        queue = iter(requests)

        async def worker() -> None:
            for body, headers in queue:
                await client.post(url, content=body.encode(), headers=headers)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return Result("reference: httpx straight to the receiver", len(requests), time.perf_counter() - started)


async def run_outbox(
    database_url: str, data_dir: Path, events: int, concurrency: int, receiver_factory: Any
) -> tuple[Result, int, int, ReceiverProcess]:
    """Fill the outbox, then time the webhook node delivering all of it."""
    from wagate.app import create_app
    from wagate.store.repos import webhooks as repo
    from wagate.store.tables import events as events_table
    from wagate.webhooks import service
    from wagate.webhooks.plugin import WebhookNode, webhooks_plugin

    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        admin_token="bench-admin-token",
        sandbox=False,
        dispatcher=False,
        webhooks=False,  # the node is started by hand once the outbox is full
        webhook_target_concurrency=concurrency,
        log_level="WARNING",
    )
    app = create_app(settings, plugins=[webhooks_plugin])
    async with app.router.lifespan_context(app):
        rt = app.state.runtime
        tenant = app.state.bootstrap.tenant
        created = await service.create(rt, tenant, {"url": "http://127.0.0.1:1/hook", "events": ["message.status"]})
        receiver: ReceiverProcess = receiver_factory(created.secret)
        await asyncio.to_thread(receiver.wait_ready)
        now = rt.clock.now()
        await rt.db.write(lambda c: repo.update_subscription(c, int(created.row.id), {"url": receiver.url}, now))
        rows = [
            {
                "tenant_id": tenant.id,
                "type": "message.status",
                "message_id": i // 4 + 1,
                "payload": _payload(i // 4 + 1, STATUSES[i % 4]),
                "created_at": now,
            }
            for i in range(events)
        ]
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            await rt.db.write(lambda c, part=chunk: c.execute(events_table.insert(), part))
        node = WebhookNode(rt)
        started = time.perf_counter()
        await node.start()
        try:
            ok, failed = await _wait_for(receiver, events, timeout=600)
            seconds = time.perf_counter() - started
        finally:
            await node.stop()
        return Result("wagate: outbox → fan-out → signed delivery", ok, seconds), ok, failed, receiver


async def main_async(events: int, concurrency: int, database_url: str | None, include_httpx: bool) -> list[str]:
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wagate-bench-") as tmp:
        data_dir = Path(tmp)
        url = database_url or f"sqlite+aiosqlite:///{data_dir}/bench.db"
        receivers: list[ReceiverProcess] = []

        def factory(secret: str) -> ReceiverProcess:
            receiver = ReceiverProcess(secret)
            receivers.append(receiver)
            return receiver

        try:
            outbox, ok, failed, receiver = await run_outbox(url, data_dir, events, concurrency, factory)
            secret_requests = _signed_requests(_secret_of(receiver), events)
            base = await baseline_aiohttp(receiver.url, secret_requests, concurrency)
            results = [base, outbox]
            if include_httpx:
                results.append(await baseline_httpx(receiver.url, secret_requests[: min(events, 5000)], concurrency))
        finally:
            for receiver in receivers:
                receiver.close()
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    lines.append(
        f"wagate bench webhooks — {events} events, {events // 4} messages, {concurrency} in flight per target, "
        f"{dialect}, {os.cpu_count()} CPUs"
    )
    for result in results:
        lines.append(f"  {result.name:<48} {result.rate:>9,.0f} events/s  ({result.events} in {result.seconds:.2f} s)")
    lines.append(f"  signatures verified by the receiver: {ok} ok, {failed} failed")
    lines.append(f"  ratio wagate / baseline: {outbox.rate / base.rate:.2f}")
    lines.append(f"  target ≥ 2,000 events/s: {'met' if outbox.rate >= 2000 else 'NOT met'}")
    return lines


def _secret_of(receiver: ReceiverProcess) -> str:
    args = receiver.proc.args
    assert isinstance(args, list)
    return str(args[-1])


def run(
    events: int = 20000, concurrency: int = 16, database_url: str | None = None, include_httpx: bool = True
) -> None:
    for line in asyncio.run(main_async(events, concurrency, database_url, include_httpx)):
        print(line, flush=True)
