"""Automation settings, the bot's per-conversation state, callback requests: reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from wagate.store.automation_tables import automation_settings, automation_states, callback_requests
from wagate.store.dashboard_tables import conversations
from wagate.store.tables import channels

CALLBACK_STATUSES = ("open", "taken", "done")


def _insert(conn: Connection, table: sa.Table) -> Any:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def get_settings(conn: Connection, tenant_id: int) -> tuple[dict[str, Any], datetime] | None:
    row = conn.execute(
        sa.select(automation_settings.c.body, automation_settings.c.updated_at).where(
            automation_settings.c.tenant_id == tenant_id
        )
    ).first()
    return (dict(row.body), row.updated_at) if row else None


def put_settings(conn: Connection, tenant_id: int, body: dict[str, Any], now: datetime) -> None:
    statement = _insert(conn, automation_settings).values(tenant_id=tenant_id, body=body, updated_at=now)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id"], set_={"body": statement.excluded.body, "updated_at": now}
        )
    )


def conversation_of(conn: Connection, channel_id: int, phone: str) -> Any | None:
    c = conversations.c
    return conn.execute(
        sa.select(c.id, c.state, c.assignee_id).where(c.channel_id == channel_id, c.phone == phone)
    ).first()


def get_state(conn: Connection, conversation_id: int) -> tuple[dict[str, Any], datetime] | None:
    s = automation_states.c
    row = conn.execute(sa.select(s.state, s.last_at).where(s.conversation_id == conversation_id)).first()
    return (dict(row.state), row.last_at) if row else None


def put_state(conn: Connection, tenant_id: int, conversation_id: int, state: dict[str, Any], at: datetime) -> None:
    statement = _insert(conn, automation_states).values(
        conversation_id=conversation_id, tenant_id=tenant_id, state=state, last_at=at
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={"state": statement.excluded.state, "last_at": statement.excluded.last_at},
        )
    )


def states_of(conn: Connection, tenant_id: int, pairs: set[tuple[int, str]]) -> list[Any]:
    """The bot states of the conversations of ``(channel_id, phone)`` pairs (only those that have one)."""
    if not pairs:
        return []
    c, s = conversations.c, automation_states.c
    return list(
        conn.execute(
            sa.select(s.conversation_id, s.state, s.last_at)
            .join(conversations, c.id == s.conversation_id)
            .where(c.tenant_id == tenant_id, sa.tuple_(c.channel_id, c.phone).in_(sorted(pairs)))
        )
    )


def add_callback(
    conn: Connection,
    *,
    tenant_id: int,
    conversation_id: int,
    channel_id: int,
    phone: str,
    due_at: datetime | None,
    asap: bool,
    text: str,
    now: datetime,
) -> int:
    result = conn.execute(
        callback_requests.insert().values(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            channel_id=channel_id,
            phone=phone,
            due_at=due_at,
            asap=asap,
            text=text[:2000],
            status="open",
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _callbacks() -> Any:
    r, ch, c = callback_requests.c, channels.c, conversations.c
    return (
        sa.select(
            r.id,
            r.conversation_id,
            r.phone,
            r.due_at,
            r.asap,
            r.text,
            r.status,
            r.taken_by,
            r.taken_at,
            r.done_at,
            r.created_at,
            ch.name.label("channel"),
            c.phone.label("client_phone"),
        )
        .join(channels, ch.id == r.channel_id)
        .join(conversations, c.id == r.conversation_id)
    )


def list_callbacks(
    conn: Connection,
    tenant_id: int,
    *,
    statuses: list[str],
    conversation_id: int | None = None,
    limit: int = 100,
) -> list[Any]:
    """Callback requests by due time (as-soon-as-possible and unclear ones first), then age."""
    r = callback_requests.c
    query = _callbacks().where(r.tenant_id == tenant_id, r.status.in_(statuses))
    if conversation_id is not None:
        query = query.where(r.conversation_id == conversation_id)
    order = sa.case((r.due_at.is_(None), 0), else_=1)
    return list(conn.execute(query.order_by(order, r.due_at, r.id).limit(limit)))


def get_callback(conn: Connection, tenant_id: int, callback_id: int) -> Any | None:
    r = callback_requests.c
    return conn.execute(_callbacks().where(r.tenant_id == tenant_id, r.id == callback_id)).first()


def set_callback_status(conn: Connection, callback_id: int, status: str, by: str | None, now: datetime) -> None:
    r = callback_requests.c
    values: dict[str, Any] = {"status": status}
    if status == "taken":
        values.update(taken_by=by, taken_at=now, done_at=None)
    elif status == "done":
        values.update(
            done_at=now,
            taken_by=sa.func.coalesce(r.taken_by, by),
            taken_at=sa.func.coalesce(r.taken_at, sa.literal(now, r.taken_at.type)),
        )
    else:
        values.update(taken_by=None, taken_at=None, done_at=None)
    conn.execute(callback_requests.update().where(r.id == callback_id).values(**values))
