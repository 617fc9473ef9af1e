"""``wagate bench dispatch``: the dispatcher's pacing accuracy and loss/duplicate count (docs/performance.md)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer


def dispatch(
    rate: Annotated[list[float] | None, typer.Option(help="Configured per_second; repeat for several runs")] = None,
    messages: Annotated[
        list[int] | None, typer.Option(help="Messages per run (one value for all runs, or one per --rate)")
    ] = None,
    workers: Annotated[int, typer.Option(help="Dispatcher workers")] = 4,
    port: Annotated[int, typer.Option(help="Port of the local HTTP sink (0: a free one)")] = 0,
    database_url: Annotated[str | None, typer.Option(help="Default: a fresh SQLite file per run")] = None,
) -> None:
    """N messages through an http channel paced at 80/s, then 1,000/s, into a local sink."""
    from wagate.bench.dispatch import bench

    rates = rate or [80.0, 1000.0]
    counts = messages or [100_000]
    if len(counts) == 1:
        counts = counts * len(rates)
    if len(counts) != len(rates):
        typer.echo("give one --messages, or one per --rate", err=True)
        raise typer.Exit(2)
    if port == 0:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
    results = asyncio.run(bench(rates, counts, port=port, database_url=database_url, workers=workers, echo=typer.echo))
    if any(r.lost or r.duplicates for r in results):
        raise typer.Exit(1)


def web(
    events: Annotated[int, typer.Option(help="Inbound events emitted by the fake session")] = 2000,
    rate: Annotated[float, typer.Option(help="Inbound events per second")] = 200.0,
    sends: Annotated[int, typer.Option(help="Messages sent through the session, pacing off")] = 2000,
    sessions: Annotated[int, typer.Option(help="Real neonize clients for the memory figure (0: skip)")] = 50,
    database_url: Annotated[str | None, typer.Option(help="Default: a fresh SQLite file")] = None,
) -> None:
    """The web channel with the fake WhatsApp: inbound latency, sends/s, memory per neonize client."""
    from wagate.bench import web as bench_web

    asyncio.run(bench_web.run(events, rate, sends, database_url, typer.echo))
    if sessions:
        asyncio.run(bench_web.memory(sessions, typer.echo))
