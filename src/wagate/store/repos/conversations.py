"""Conversations and their notes; the changes of ``domain.conversations`` applied in SQL.

Every change is one statement whose new values are computed by the database from the row's
current ones (``unread + 1``, ``COALESCE(awaiting_since, :at)``): two transactions touching
the same conversation at once (PostgreSQL) serialise on the row lock and neither loses the
other's update. A conversation is created with ``INSERT … ON CONFLICT DO NOTHING``, so two
first messages at once cannot fail one another's transaction.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.conversations import State
from wagate.domain.inputs import is_row_id
from wagate.store import dialect
from wagate.store.dashboard_tables import conversation_notes, conversations, users
from wagate.store.tables import channels, contacts, messages


def _insert(conn: Connection) -> Any:
    table = conversations
    return dialect.insert(conn, table)


def _later(column: Any, at: datetime) -> Any:
    """``max(column, at)`` in SQL that both dialects run (NULL counts as earliest)."""
    value = _at(at)
    return sa.case((column.is_(None), value), (column < value, value), else_=column)


def _at(at: datetime) -> Any:
    """A typed bind: an untyped datetime would reach the SQLite driver unformatted."""
    return sa.literal(at, conversations.c.last_message_at.type)


def _create(conn: Connection, values: dict[str, Any]) -> bool:
    result = conn.execute(_insert(conn).values(**values).on_conflict_do_nothing(index_elements=["channel_id", "phone"]))
    return bool(result.rowcount)


def on_client_message(
    conn: Connection,
    *,
    tenant_id: int,
    channel_id: int,
    phone: str,
    at: datetime,
    preview: str,
    reaction: bool,
    profile_name: str | None = None,
) -> None:
    """A client wrote (or reacted): the conversation waits for a reply (a reaction only adds to unread)."""
    fresh = {
        "tenant_id": tenant_id,
        "channel_id": channel_id,
        "phone": phone,
        "state": (State.OPEN if reaction else State.WAITING).value,
        "unread": 1,
        "last_message_at": at,
        "last_inbound_at": at,
        "awaiting_since": None if reaction else at,
        "last_direction": "in",
        "last_preview": preview,
        "profile_name": profile_name,
        "created_at": at,
        "updated_at": at,
    }
    if _create(conn, fresh):
        return
    c = conversations.c
    values: dict[str, Any] = {
        "unread": c.unread + 1,
        "last_message_at": _later(c.last_message_at, at),
        "last_inbound_at": _later(c.last_inbound_at, at),
        "last_direction": "in",
        "last_preview": preview,
        "updated_at": at,
    }
    if profile_name:
        values["profile_name"] = profile_name
    if not reaction:
        values["state"] = State.WAITING.value
        values["awaiting_since"] = sa.func.coalesce(c.awaiting_since, _at(at))
    conn.execute(conversations.update().where(c.channel_id == channel_id, c.phone == phone).values(**values))


@dataclass(frozen=True, slots=True)
class Reply:
    """An operator's reply as a conversation sees it."""

    channel_id: int
    phone: str
    preview: str
    #: Takes an unassigned conversation for this dashboard user (``None``: not a user).
    assign_to: int | None


_REPLY_UPSERT: dict[str, Any] = {}


def _reply_upsert(conn: Connection) -> Any:
    """One ``INSERT … ON CONFLICT DO UPDATE`` for a whole batch of replies, built once per dialect."""
    stmt = _REPLY_UPSERT.get(conn.dialect.name)
    if stmt is None:
        insert = _insert(conn)
        c, new = conversations.c, insert.excluded
        stmt = insert.on_conflict_do_update(
            index_elements=["channel_id", "phone"],
            set_={
                "state": State.OPEN.value,
                "unread": 0,
                "awaiting_since": None,
                "last_message_at": sa.case(
                    (c.last_message_at < new.last_message_at, new.last_message_at), else_=c.last_message_at
                ),
                "last_reply_at": sa.case(
                    (c.last_reply_at.is_(None), new.last_reply_at),
                    (c.last_reply_at < new.last_reply_at, new.last_reply_at),
                    else_=c.last_reply_at,
                ),
                "last_direction": "out",
                "last_preview": new.last_preview,
                "assignee_id": sa.func.coalesce(c.assignee_id, new.assignee_id),
                "updated_at": new.updated_at,
            },
        )
        _REPLY_UPSERT[conn.dialect.name] = stmt
    return stmt


def on_operator_replies(conn: Connection, tenant_id: int, replies: list[Reply], at: datetime) -> None:
    """Operators answered (or wrote first): those clients are no longer waiting.

    One statement for the batch: a conversation that does not exist yet is created ``open``.
    """
    if not replies:
        return
    rows = [
        {
            "tenant_id": tenant_id,
            "channel_id": r.channel_id,
            "phone": r.phone,
            "state": State.OPEN.value,
            "assignee_id": r.assign_to,
            "unread": 0,
            "last_message_at": at,
            "last_reply_at": at,
            "awaiting_since": None,
            "last_direction": "out",
            "last_preview": r.preview,
            "created_at": at,
            "updated_at": at,
        }
        for r in replies
    ]
    conn.execute(_reply_upsert(conn), rows)


# ---------------------------------------------------------------- reading


def _select() -> Any:
    c = conversations.c
    return (
        sa.select(
            conversations,
            channels.c.name.label("channel_name"),
            channels.c.kind.label("channel_kind"),
            users.c.login.label("assignee_login"),
            users.c.name.label("assignee_name"),
            contacts.c.name.label("contact_name"),
            contacts.c.user_id.label("contact_user_id"),
            contacts.c.parent_user_id.label("contact_parent_user_id"),
            contacts.c.username.label("contact_username"),
            contacts.c.lid.label("contact_lid"),
        )
        .join(channels, channels.c.id == c.channel_id)
        .outerjoin(users, users.c.id == c.assignee_id)
        .outerjoin(contacts, sa.and_(contacts.c.tenant_id == c.tenant_id, contacts.c.phone == c.phone))
    )


def encode_cursor(row: Any) -> str:
    raw = orjson.dumps({"t": row.last_message_at.isoformat(), "id": row.id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    data = orjson.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    at = datetime.fromisoformat(data["t"])
    if not isinstance(data["id"], int) or not is_row_id(data["id"]) or at.tzinfo is None:
        raise ValueError("bad cursor")
    return at, data["id"]


def list_conversations(
    conn: Connection,
    tenant_id: int,
    *,
    filter: str = "all",
    user_id: int | None = None,
    assignee_id: int | None = None,
    channel_id: int | None = None,
    phone: str | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[Any]:
    """Most recent activity first; ``after`` is the keyset cursor (last row of the previous page)."""
    c = conversations.c
    query = _select().where(c.tenant_id == tenant_id)
    if filter == "mine":
        query = query.where(c.assignee_id == user_id, c.state != State.CLOSED.value)
    elif filter == "unassigned":
        query = query.where(c.assignee_id.is_(None), c.state != State.CLOSED.value)
    elif filter == "waiting":
        query = query.where(c.state == State.WAITING.value)
    elif filter == "closed":
        query = query.where(c.state == State.CLOSED.value)
    if assignee_id is not None:
        query = query.where(c.assignee_id == assignee_id)
    if channel_id is not None:
        query = query.where(c.channel_id == channel_id)
    if phone is not None:
        query = query.where(c.phone == phone)
    if after is not None:
        at, last_id = after
        query = query.where(sa.or_(c.last_message_at < at, sa.and_(c.last_message_at == at, c.id < last_id)))
    return list(conn.execute(query.order_by(c.last_message_at.desc(), c.id.desc()).limit(limit)))


def get_conversation(conn: Connection, tenant_id: int, conversation_id: int) -> Any | None:
    c = conversations.c
    return conn.execute(_select().where(c.tenant_id == tenant_id, c.id == conversation_id)).first()


def counts(conn: Connection, tenant_id: int, user_id: int | None) -> dict[str, int]:
    """How many conversations each inbox filter shows (the badges of the filter tabs)."""
    c = conversations.c
    not_closed = c.state != State.CLOSED.value
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((sa.and_(c.assignee_id == user_id, not_closed), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(c.assignee_id.is_(None), not_closed), 1), else_=0)),
            sa.func.sum(sa.case((c.state == State.WAITING.value, 1), else_=0)),
            sa.func.sum(sa.case((c.state == State.CLOSED.value, 1), else_=0)),
        ).where(c.tenant_id == tenant_id)
    ).one()
    return {
        "all": int(row[0] or 0),
        "mine": int(row[1] or 0),
        "unassigned": int(row[2] or 0),
        "waiting": int(row[3] or 0),
        "closed": int(row[4] or 0),
    }


# ---------------------------------------------------------------- changing


def set_assignee(conn: Connection, conversation_id: int, user_id: int | None, now: datetime) -> None:
    conn.execute(
        conversations.update().where(conversations.c.id == conversation_id).values(assignee_id=user_id, updated_at=now)
    )


def set_state(conn: Connection, conversation_id: int, closed: bool, now: datetime) -> None:
    c = conversations.c
    state: Any = (
        State.CLOSED.value
        if closed
        else sa.case((c.awaiting_since.is_not(None), State.WAITING.value), else_=State.OPEN.value)
    )
    conn.execute(conversations.update().where(c.id == conversation_id).values(state=state, updated_at=now))


def mark_read(conn: Connection, conversation_id: int) -> bool:
    """Reset the unread count; ``False`` when it was already 0 (nothing to tell other browsers)."""
    result = conn.execute(
        conversations.update().where(conversations.c.id == conversation_id, conversations.c.unread > 0).values(unread=0)
    )
    return bool(result.rowcount)


# ---------------------------------------------------------------- notes and the thread


def add_note(
    conn: Connection, tenant_id: int, conversation_id: int, author_id: int | None, author: str, text: str, now: datetime
) -> int:
    result = conn.execute(
        conversation_notes.insert().values(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            author_id=author_id,
            author=author,
            text=text,
            created_at=now,
        )
    )
    conn.execute(conversations.update().where(conversations.c.id == conversation_id).values(updated_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_notes(conn: Connection, conversation_id: int) -> list[Any]:
    n = conversation_notes.c
    return list(
        conn.execute(
            sa.select(conversation_notes, users.c.name.label("author_name"))
            .outerjoin(users, users.c.id == n.author_id)
            .where(n.conversation_id == conversation_id)
            .order_by(n.id)
        )
    )


def thread(conn: Connection, tenant_id: int, channel_id: int, phone: str, limit: int = 200) -> list[Any]:
    """The last ``limit`` messages between the channel and the client, oldest first."""
    m = messages.c
    rows = list(
        conn.execute(
            sa.select(messages)
            .where(m.tenant_id == tenant_id, m.channel_id == channel_id, m.phone == phone)
            .order_by(m.id.desc())
            .limit(limit)
        )
    )
    rows.reverse()
    return rows
