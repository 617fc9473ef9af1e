"""``wagate bench policy``: the cost of the policy layer on the accept path (docs/performance.md)."""

from __future__ import annotations

from typing import Annotated

import typer


def policy(
    singles: Annotated[int, typer.Option(help="single-message requests per scenario")] = 3000,
    batches: Annotated[int, typer.Option(help="batches of 1000 per scenario")] = 5,
    concurrency: Annotated[int, typer.Option(help="concurrent single-message senders")] = 64,
    repeat: Annotated[int, typer.Option(help="rounds; each scenario's best is kept")] = 3,
) -> None:
    """Accept throughput with policy rules off (baseline) and on; prints msg/s and ratios."""
    from wagate.bench.policy import run

    for line in run(singles, batches, concurrency, repeat):
        typer.echo(line)
