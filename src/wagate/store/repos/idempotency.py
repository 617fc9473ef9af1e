"""Idempotency keys: a repeated POST with the same key and body gets the first answer back.

The key is *reserved* first with ``INSERT … ON CONFLICT DO NOTHING``: on PostgreSQL a
concurrent request with the same key blocks on that insert until the first transaction
commits, then sees its answer — so two racing requests never both create messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.store import dialect
from wagate.store.tables import idempotency_keys

TTL = timedelta(hours=24)
PENDING = 0


def reserve(conn: Connection, tenant_id: int, key: str, request_hash: str, now: datetime) -> Any | None:
    """Reserve ``key`` for this request. Returns ``None`` when reserved, else the earlier live record."""
    values = {
        "tenant_id": tenant_id,
        "key": key,
        "request_hash": request_hash,
        "status_code": PENDING,
        "response": {},
        "created_at": now,
    }
    inserted = conn.execute(dialect.insert(conn, idempotency_keys).values(**values).on_conflict_do_nothing())
    if inserted.rowcount == 1:
        return None
    where = (idempotency_keys.c.tenant_id == tenant_id, idempotency_keys.c.key == key)
    row = conn.execute(sa.select(idempotency_keys).where(*where)).one()
    if row.created_at <= now - TTL:
        conn.execute(idempotency_keys.update().where(*where).values(**values))
        return None
    return row


def remember(conn: Connection, tenant_id: int, key: str, status_code: int, response: Any) -> None:
    conn.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.tenant_id == tenant_id, idempotency_keys.c.key == key)
        .values(status_code=status_code, response=response)
    )


def purge_expired(conn: Connection, now: datetime) -> int:
    result = conn.execute(idempotency_keys.delete().where(idempotency_keys.c.created_at <= now - TTL))
    return int(result.rowcount)
