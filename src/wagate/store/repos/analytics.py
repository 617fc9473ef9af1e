"""What the response analytics read: the period's client messages and operator messages, and
where each of their threads stood when the period began.

Three grouped queries per chunk of phones give a thread's state before the period (its last
operator reply, the first client message after that reply, its last client message), so a
reply today to a client who wrote last month is measured from last month without reading
the month in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.analytics import NOT_A_CLIENT_MESSAGE, NOT_DELIVERED
from wagate.store.dashboard_tables import conversations, users
from wagate.store.repos import tenants as tenant_repo
from wagate.store.tables import messages

CHUNK = 500
Key = tuple[int, str]


def _aware(value: Any) -> datetime | None:
    """Aggregates lose the column type on SQLite: accept text or naive values back."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _client(m: Any) -> Any:
    # Past chats imported from the Business app (origin "history") are not activity.
    return sa.and_(m.direction == "in", m.type.not_in(NOT_A_CLIENT_MESSAGE), m.origin != "history")


def _reply(m: Any) -> Any:
    return sa.and_(m.direction == "out", m.operator.is_not(None), m.operator != "", m.status.not_in(NOT_DELIVERED))


def period_messages(conn: Connection, tenant_id: int, since: datetime, until: datetime) -> list[Any]:
    """Client messages and operator messages created in ``[since, until)``, oldest first."""
    m = messages.c
    return list(
        conn.execute(
            sa.select(m.channel_id, m.phone, m.direction, m.operator, m.status, m.type, m.created_at)
            .where(
                m.tenant_id == tenant_id,
                m.created_at >= since,
                m.created_at < until,
                m.origin != "history",
                sa.or_(m.direction == "in", sa.and_(m.operator.is_not(None), m.operator != "")),
            )
            .order_by(m.created_at, m.id)
        )
    )


def _chunks(keys: Iterable[Key]) -> Iterable[list[Key]]:
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def before(conn: Connection, tenant_id: int, keys: set[Key], since: datetime) -> dict[Key, dict[str, Any]]:
    """Per thread, before ``since``: ``last_reply``, ``first_unanswered`` and ``last_client``."""
    m = messages.c
    out: dict[Key, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        phones = sorted({phone for _, phone in chunk})
        wanted = set(chunk)
        base = (m.tenant_id == tenant_id, m.phone.in_(phones), m.created_at < since)
        for name, condition, aggregate in (
            ("last_reply", _reply(m), sa.func.max(m.created_at)),
            ("last_client", _client(m), sa.func.max(m.created_at)),
        ):
            rows = conn.execute(
                sa.select(m.channel_id, m.phone, aggregate).where(*base, condition).group_by(m.channel_id, m.phone)
            )
            for row in rows:
                if (row[0], row[1]) in wanted:
                    out.setdefault((row[0], row[1]), {})[name] = _aware(row[2])
        r = messages.alias("r")
        later_than_reply = sa.or_(
            ~sa.exists().where(
                r.c.channel_id == m.channel_id, r.c.phone == m.phone, r.c.created_at < since, _reply(r.c)
            ),
            m.created_at
            > sa.select(sa.func.max(r.c.created_at))
            .where(r.c.channel_id == m.channel_id, r.c.phone == m.phone, r.c.created_at < since, _reply(r.c))
            .scalar_subquery(),
        )
        rows = conn.execute(
            sa.select(m.channel_id, m.phone, sa.func.min(m.created_at))
            .where(*base, _client(m), later_than_reply)
            .group_by(m.channel_id, m.phone)
        )
        for row in rows:
            if (row[0], row[1]) in wanted:
                out.setdefault((row[0], row[1]), {})["first_unanswered"] = _aware(row[2])
    return out


def assignees(conn: Connection, tenant_id: int, keys: set[Key]) -> dict[Key, str]:
    """(channel id, phone) → the assignee's login, for those of ``keys`` that are assigned."""
    c = conversations.c
    out: dict[Key, str] = {}
    for chunk in _chunks(keys):
        wanted = set(chunk)
        rows = conn.execute(
            sa.select(c.channel_id, c.phone, users.c.login)
            .join(users, users.c.id == c.assignee_id)
            .where(c.tenant_id == tenant_id, c.phone.in_(sorted({phone for _, phone in chunk})))
        )
        out.update({(r[0], r[1]): r[2] for r in rows if (r[0], r[1]) in wanted})
    return out


tenant_settings = tenant_repo.tenant_settings


def set_analytics_settings(conn: Connection, tenant_id: int, analytics: dict[str, Any]) -> dict[str, Any]:
    return tenant_repo.set_tenant_setting(conn, tenant_id, "analytics", analytics)
