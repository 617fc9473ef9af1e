"""The schema that migrations build equals the schema the code declares, on both dialects."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from wagate.store.database import make_sqlite_engine
from wagate.store.schema import metadata


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def test_migrations_match_the_declared_schema(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        engine = make_sqlite_engine(db_url)
        with engine.connect() as conn:
            diff = _diff(conn)
        engine.dispose()
    else:

        async def run() -> list[object]:
            aengine = create_async_engine(db_url)
            async with aengine.connect() as conn:
                result = await conn.run_sync(_diff)
            await aengine.dispose()
            return result

        diff = asyncio.run(run())
    assert diff == [], diff


@pytest.mark.parametrize("times", [2])
def test_migrate_is_idempotent(sqlite_url: str, times: int) -> None:
    from wagate.store.migrate import migrate

    for _ in range(times):
        migrate(sqlite_url)
