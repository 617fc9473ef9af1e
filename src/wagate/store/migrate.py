"""Apply Alembic migrations programmatically (``wagate migrate``, ``wagate serve`` on start, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from wagate.store.database import make_sqlite_engine, sqlite_path

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``. Safe to run on every start."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_sqlite_engine(url)
        try:
            with engine.begin() as conn:
                _upgrade(conn, revision)
        finally:
            engine.dispose()
        return
    asyncio.run(migrate_async(url, revision))


async def migrate_async(url: str, revision: str = "head") -> None:
    """The same for callers already inside an event loop (PostgreSQL via asyncpg)."""
    if url.startswith("sqlite"):
        await asyncio.to_thread(migrate, url, revision)
        return
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()
