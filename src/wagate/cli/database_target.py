"""Which database a CLI command acts on, said out loud.

``token create`` and ``user create`` write to the database directly. Run from the wrong directory
they used to create a fresh ``./data/wagate.db`` there and print a token the running server then
rejected. Now they name the database on stderr, and when the location is only the default (neither
``WAGATE_DATABASE_URL`` nor ``WAGATE_DATA_DIR`` given) they refuse a SQLite file that does not exist:
that is the wrong-directory case. A location given on purpose is created, as a set-up script expects.
"""

from __future__ import annotations

import os

import typer

from wagate.config import Settings

__all__ = ["announce_database", "location_given"]


def location_given(database_url_flag: str | None = None) -> bool:
    """True when the user named the database or the data dir (flag or environment), not the default."""
    return bool(database_url_flag or os.environ.get("WAGATE_DATABASE_URL") or os.environ.get("WAGATE_DATA_DIR"))


def announce_database(settings: Settings, *, given: bool) -> None:
    """Print the database on stderr; exit 2 when it is only the default and its SQLite file is missing."""
    path = settings.sqlite_path
    if path is None:
        host = settings.database_url.split("@")[-1]
        typer.echo(f"wagate: using database {host}", err=True)
        return
    resolved = path.resolve()
    if not resolved.exists() and given:
        typer.echo(f"wagate: creating database {resolved}", err=True)
        return
    if not resolved.exists():
        typer.echo(
            f"wagate: no database at {resolved}. Run this where the server runs, set WAGATE_DATA_DIR or "
            "WAGATE_DATABASE_URL to the server's, or create it with `wagate migrate`.",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(f"wagate: using database {resolved}", err=True)
