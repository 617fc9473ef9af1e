"""The SQLite/PostgreSQL differences of the repositories, in one place.

* ``insert(conn, table)`` — the dialect's ``INSERT`` with ``ON CONFLICT`` (upserts);
* ``for_update(query, conn, …)`` — row locks on PostgreSQL. SQLite has a single writer
  (``store.database``): a write transaction already excludes every other, so the same query
  runs without the lock clause;
* ``is_postgres(conn)`` — for the few decisions that are neither (a statement cache per dialect,
  a query shape only one planner likes).
"""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

__all__ = ["Insert", "for_update", "insert", "is_postgres"]

#: An ``INSERT … ON CONFLICT`` of either dialect (both have ``on_conflict_do_nothing/update``, ``excluded``).
Insert = postgresql.Insert | sqlite.Insert
Q = TypeVar("Q", bound=sa.Select)  # type: ignore[type-arg]


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def insert(conn: Connection, table: sa.Table) -> Insert:
    """The dialect's ``INSERT`` that can say what to do on a conflict."""
    return postgresql.insert(table) if is_postgres(conn) else sqlite.insert(table)


def for_update(
    query: Q,
    conn: Connection,
    *,
    skip_locked: bool = False,
    read: bool = False,
    of: sa.Table | None = None,
) -> Q:
    """``query`` with ``FOR UPDATE`` (``SKIP LOCKED``, ``FOR SHARE`` with ``read``, ``OF``) on
    PostgreSQL; unchanged on SQLite, whose single writer serialises transactions anyway."""
    if not is_postgres(conn):
        return query
    locked: Q = query.with_for_update(skip_locked=skip_locked, read=read, of=of)
    return locked
