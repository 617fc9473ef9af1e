"""``wagate bench dispatch``: N messages through an ``http`` channel paced at R/s into a local sink.

For each configured rate it starts a fresh database, queues N messages on a paused channel,
resumes it and measures, at the receiving end (a separate sink process), the achieved rate
against the configured one, the messages lost (queued but never received) and the messages
received twice. A bare baseline is measured in the same run: the same JSON POSTs sent to the
same sink straight from httpx, as fast as 16 concurrent requests go — what the machine can do
without the gateway — so the dispatcher's ceiling is seen next to its pacing accuracy.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import sqlalchemy as sa

from wagate.bench.sink import start_sink, stop_sink
from wagate.config import Settings

PHONE_BASE = 79_000_000_000
BATCH = 1000


@dataclass
class RateResult:
    configured: float
    messages: int
    achieved: float
    elapsed: float
    received: int
    lost: int
    duplicates: int
    statuses: dict[str, int]


async def bare_baseline(url: str, messages: int, concurrency: int = 16) -> float:
    """POSTs per second the sink takes straight from aiohttp (the http channel's client), no gateway."""
    counter = iter(range(messages))
    headers = {"content-type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in counter:
            body = {"id": 10_000_000_000 + i, "to": str(PHONE_BASE + i), "type": "text", "payload": {"text": "bench"}}
            async with session.post(url, data=orjson.dumps(body), headers=headers) as response:
                await response.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return messages / elapsed


async def run_rate(
    rate: float,
    messages: int,
    *,
    sink_url: str,
    database_url: str | None,
    workers: int,
    workdir: Path,
    progress: Any = None,
) -> RateResult:
    from wagate.app import create_app
    from wagate.domain.messages import OutboundDraft
    from wagate.node import node_registry
    from wagate.services import channels as channel_service
    from wagate.services.messages import accept_messages
    from wagate.store.repos import tenants
    from wagate.store.tables import messages as messages_table

    settings = Settings(
        database_url=database_url or f"sqlite+aiosqlite:///{workdir}/bench-{int(rate)}.db",
        data_dir=workdir / "data",
        admin_token="bench-admin-token",
        sandbox=False,
        dispatcher=True,
        dispatcher_workers=workers,
        log_level="WARNING",
    )
    app = create_app(settings, registry=node_registry(), plugins=[])
    async with app.router.lifespan_context(app):
        rt = app.state.runtime
        tenant = await rt.db.read(lambda c: tenants.get_tenant_by_name(c, "default"))
        name = f"bench{int(rate)}"
        body = {"name": name, "kind": "http", "settings": {"url": sink_url}, "pacing": {"per_second": rate}}
        await channel_service.create_channel(rt, tenant, body)
        await channel_service.update_channel(rt, tenant, name, {"status": "paused"})
        for start in range(0, messages, BATCH):
            drafts = [
                OutboundDraft(to=str(PHONE_BASE + i), text=f"bench {i}", channel=name)
                for i in range(start, min(messages, start + BATCH))
            ]
            await accept_messages(rt, tenant, drafts, render=lambda outcomes: (202, None))
        started = time.perf_counter()
        await channel_service.update_channel(rt, tenant, name, {"status": "active"})

        def open_count(conn: sa.Connection) -> int:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(messages_table)
                    .where(messages_table.c.status.in_(["queued", "sending"]))
                ).scalar_one()
            )

        while True:
            await asyncio.sleep(0.5)
            remaining = await rt.db.read(open_count)
            if progress is not None:
                progress(messages - remaining, messages)
            if remaining == 0:
                break
        elapsed = time.perf_counter() - started

        def statuses(conn: sa.Connection) -> dict[str, int]:
            rows = conn.execute(sa.select(messages_table.c.status, sa.func.count()).group_by(messages_table.c.status))
            return {r[0]: int(r[1]) for r in rows}

        by_status = await rt.db.read(statuses)
    async with httpx.AsyncClient() as client:
        stats = (await client.get(f"{sink_url}/_stats")).json()
        await client.post(f"{sink_url}/_reset")
    span = (stats["last"] - stats["first"]) if stats["first"] else 0.0
    achieved = (stats["unique"] - 1) / span if span > 0 else 0.0
    return RateResult(
        configured=rate,
        messages=messages,
        achieved=achieved,
        elapsed=elapsed,
        received=stats["received"],
        lost=messages - stats["unique"],
        duplicates=stats["duplicates"],
        statuses=by_status,
    )


async def bench(
    rates: list[float],
    messages: list[int],
    *,
    port: int,
    database_url: str | None,
    workers: int,
    echo: Any = print,
) -> list[RateResult]:
    proc = start_sink(port)
    sink_url = f"http://127.0.0.1:{port}"
    results: list[RateResult] = []
    try:
        baseline_n = min(20_000, max(messages))
        baseline = await bare_baseline(f"{sink_url}/in", baseline_n)
        async with httpx.AsyncClient() as client:
            await client.post(f"{sink_url}/_reset")
        echo(f"bare baseline: {baseline:,.0f} POST/s straight to the sink ({baseline_n:,} requests)")
        with tempfile.TemporaryDirectory(prefix="wagate-bench-") as tmp:
            for rate, count in zip(rates, messages, strict=True):
                echo(f"rate {rate:g}/s: {count:,} messages …")
                result = await run_rate(
                    rate, count, sink_url=sink_url, database_url=database_url, workers=workers, workdir=Path(tmp)
                )
                results.append(result)
                echo(
                    f"  configured {rate:,.0f}/s · achieved {result.achieved:,.1f}/s "
                    f"({result.achieved / rate:.1%} of configured; {result.achieved / baseline:.1%} of bare HTTP) · "
                    f"elapsed {result.elapsed:,.1f} s · lost {result.lost} · duplicates {result.duplicates} · "
                    f"statuses {result.statuses}"
                )
    finally:
        stop_sink(proc)
    return results
