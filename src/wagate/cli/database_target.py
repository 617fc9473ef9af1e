"""Which database a CLI command acts on, said out loud.

``token create`` and ``user create`` write to the database directly. Run from the wrong directory
they used to create a fresh ``./data/wagate.db`` there and print a token the running server then
rejected. Now they name the database on stderr and refuse a SQLite file that does not exist yet.
"""

from __future__ import annotations

import typer

from wagate.config import Settings

__all__ = ["announce_database"]


def announce_database(settings: Settings) -> None:
    """Print the database on stderr; exit 2 when its SQLite file is missing."""
    path = settings.sqlite_path
    if path is None:
        host = settings.database_url.split("@")[-1]
        typer.echo(f"wagate: using database {host}", err=True)
        return
    resolved = path.resolve()
    if not resolved.exists():
        typer.echo(
            f"wagate: no database at {resolved}. Run this where the server runs, set WAGATE_DATA_DIR or "
            "WAGATE_DATABASE_URL to the server's, or create it with `wagate migrate`.",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(f"wagate: using database {resolved}", err=True)
