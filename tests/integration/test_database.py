"""``Database`` guarantees: group commit isolates jobs, and merged writes behave like separate ones.

Runs on both dialects. On SQLite concurrent writes share one transaction (group commit); on
PostgreSQL each plain write is its own transaction. On both, concurrent ``write_merged`` calls of
one key share ``combine`` calls. What a caller sees must be the same: its own result or its own
error, and exactly its own rows committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.store.database import Database

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)

    def create(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE probe (value TEXT NOT NULL UNIQUE)")

    await database.write(create)
    yield database
    await database.close()


async def _values(db: Database) -> list[str]:
    rows = await db.read(lambda c: c.execute(sa.text("SELECT value FROM probe ORDER BY value")).all())
    return [str(r[0]) for r in rows]


def _insert(conn: Connection, values: list[str]) -> None:
    if values:
        conn.execute(sa.text("INSERT INTO probe (value) VALUES (:value)"), [{"value": v} for v in values])


class Recorder:
    """A ``combine`` that stores each item and remembers how many items each call got."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, conn: Connection, items: list[str]) -> list[Any]:
        self.calls.append(len(items))
        good = [item for item in items if not item.startswith("refused")]
        _insert(conn, good)
        # A refused item writes nothing and gets its own exception back.
        return [ValueError(item) if item.startswith("refused") else f"stored {item}" for item in items]


async def test_merged_writes_each_get_their_own_result(db: Database) -> None:
    combine = Recorder()
    items = [f"m{i:03d}" for i in range(200)]
    results = await asyncio.gather(*(db.write_merged(combine, item, key="k") for item in items))
    assert results == [f"stored {item}" for item in items]
    assert await _values(db) == items
    assert sum(combine.calls) == 200
    # Concurrent callers shared calls: in group commits on SQLite, in gathered transactions on PostgreSQL.
    assert len(combine.calls) < 200 and max(combine.calls) > 1


async def test_an_exception_result_reaches_only_its_caller(db: Database) -> None:
    combine = Recorder()
    items = ["a", "b", "refused-c", "d"]
    results = await asyncio.gather(*(db.write_merged(combine, i, key="k") for i in items), return_exceptions=True)
    assert results[:2] == ["stored a", "stored b"] and results[3] == "stored d"
    assert isinstance(results[2], ValueError) and str(results[2]) == "refused-c"
    assert await _values(db) == ["a", "b", "d"]


async def test_a_failing_combine_is_retried_item_by_item(db: Database) -> None:
    """One poisonous item makes the shared call fail after it wrote; its neighbours still commit once."""
    calls: list[list[str]] = []

    def combine(conn: Connection, items: list[str]) -> list[Any]:
        calls.append(items)
        _insert(conn, items)  # written before the failure: must be rolled back
        if "poison" in items:
            raise RuntimeError("poisoned batch")
        return [f"stored {item}" for item in items]

    items = ["x1", "x2", "poison", "x3"]
    results = await asyncio.gather(*(db.write_merged(combine, i, key="k") for i in items), return_exceptions=True)
    assert [r for r in results if not isinstance(r, BaseException)] == ["stored x1", "stored x2", "stored x3"]
    assert isinstance(results[2], RuntimeError)
    assert await _values(db) == ["x1", "x2", "x3"]  # no duplicates, no poison
    assert ["poison"] in calls  # retried alone


async def test_different_keys_are_not_merged(db: Database) -> None:
    seen: list[tuple[str, ...]] = []

    def combine(conn: Connection, items: list[str]) -> list[Any]:
        seen.append(tuple(sorted({item[0] for item in items})))
        _insert(conn, items)
        return items

    items = [f"{prefix}{i}" for i in range(20) for prefix in "ab"]
    await asyncio.gather(*(db.write_merged(combine, item, key=item[0]) for item in items))
    assert all(len(groups) == 1 for groups in seen)  # never an "a" and a "b" item in one call
    assert len(await _values(db)) == 40


async def test_a_failing_plain_job_leaves_its_neighbours_committed(db: Database) -> None:
    def good(value: str) -> Any:
        return lambda conn: _insert(conn, [value])

    def bad(conn: Connection) -> None:
        _insert(conn, ["half-written"])
        raise LookupError("job failed after writing")

    jobs = [good("g1"), bad, good("g2"), good("g3")]
    results = await asyncio.gather(*(db.write(job) for job in jobs), return_exceptions=True)
    assert isinstance(results[1], LookupError)
    assert await _values(db) == ["g1", "g2", "g3"]


async def test_a_merged_write_is_durable_when_it_returns(db: Database, db_url: str) -> None:
    await db.write_merged(Recorder(), "durable", key="k")
    other = Database(db_url)  # a separate connection pool sees it committed
    try:
        assert await _values(other) == ["durable"]
    finally:
        await other.close()
