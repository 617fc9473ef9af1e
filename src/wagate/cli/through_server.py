"""``token create`` and ``user create`` through the running server (``--url``), with the typed client.

The direct form writes to a database file; this one cannot pick the wrong database, because the
server makes the token or user in the database it serves from. It needs an admin token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx
import typer

from wagate.client import ApiError, Client

__all__ = ["through_server"]

Result = TypeVar("Result")


def through_server(url: str, token: str | None, call: Callable[[Client], Result]) -> Result:
    """Run ``call`` against the server at ``url``; errors are said on stderr (exit 1, or 2 for bad input)."""
    if not token:
        typer.echo("an admin token is needed with --url: --admin-token or WAGATE_TOKEN", err=True)
        raise typer.Exit(2)
    typer.echo(f"wagate: asking the server at {url.rstrip('/')}", err=True)
    try:
        with Client(url, token=token) as client:
            return call(client)
    except ApiError as exc:
        where = f" ({exc.field})" if exc.field else ""
        typer.echo(f"the server refused: {exc.message}{where}", err=True)
        raise typer.Exit(2 if exc.status in (400, 409, 422) else 1) from None
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach {url}: {exc}", err=True)
        raise typer.Exit(1) from None
