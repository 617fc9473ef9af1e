"""Conversations: kept up to date from messages, listed, assigned, closed, annotated, answered.

``install`` wires two hooks that run inside the transactions storing messages, so a
conversation never disagrees with its messages:

* the inbound hook (``services.inbound``) — every channel's client messages;
* the outbound hook (``services.messages``) — replies that name an ``operator``, from the
  dashboard or from a CRM (``POST /v1/messages`` with ``operator``). A reply by a dashboard
  user takes an unassigned conversation for that user.

Messages without an operator (notifications, campaigns, bots) leave conversations alone:
they show in the thread, which is read from ``messages``, but answer nobody.

Changes made here (assign, close, notes, read) are announced to ``change_listeners`` after
their commit — the dashboard pushes them to browsers; message news reaches it through the
events outbox instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.conversations import check_filter, is_reaction, preview
from wagate.domain.identities import identities_of_key, phone_of
from wagate.domain.messages import OutboundDraft
from wagate.domain.phones import normalize_phone
from wagate.domain.records import ChannelRow, Tenant, User
from wagate.errors import NotFoundError, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services.messages import Accepted, Outcome, accept_messages, resolve_channel
from wagate.store.repos import conversations as repo
from wagate.store.repos import users as user_repo
from wagate.store.tables import messages

MAX_PAGE = 200
MAX_NOTE = 4000
#: Doors whose messages never answer a client, even when they name an operator.
NOT_REPLIES = frozenset({"campaign"})


def _changed(rt: Runtime, tenant_id: int, conversation_id: int) -> None:
    for listener in rt.hooks.conversation_listeners:
        listener(tenant_id, conversation_id)


# ---------------------------------------------------------------- the hooks


def inbound_hook(
    conn: Connection,
    rt: Runtime,
    channel: ChannelRow,
    message_id: int,
    phone: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """A client's message moves their conversation (in the message's own transaction)."""
    message_type = conn.execute(messages.select().with_only_columns(messages.c.type).where(messages.c.id == message_id))
    kind = str(message_type.scalar() or "text")
    repo.on_client_message(
        conn,
        tenant_id=channel.tenant_id,
        channel_id=channel.id,
        phone=phone,
        at=now,
        preview=preview(kind, payload),
        reaction=kind == "reaction" or is_reaction(payload),
        profile_name=str(payload["profile_name"])[:100] if payload.get("profile_name") else None,
    )


def outbound_hook(
    conn: Connection, rt: Runtime, tenant: Tenant, stored: list[tuple[int, dict[str, Any]]], now: datetime
) -> None:
    """Operator replies answer their conversation; other outbound messages are skipped cheaply.

    A batch touches each conversation once (its last reply wins) and looks each operator up once.
    Campaign messages are never replies, whoever started the campaign.
    """
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for _message_id, values in stored:
        if values.get("operator") and values.get("origin") not in NOT_REPLIES:
            latest[(values["channel_id"], values["phone"])] = values
    users: dict[str, int | None] = {}
    replies = []
    for (channel_id, phone), values in latest.items():
        login = str(values["operator"]).lower()
        if login not in users:
            user = user_repo.get_user_by_login(conn, tenant.id, login)
            users[login] = user.id if user else None
        replies.append(repo.Reply(channel_id, phone, preview(values["type"], values["payload"]), users[login]))
    repo.on_operator_replies(conn, tenant.id, replies, now)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


async def list_conversations(
    rt: Runtime,
    tenant: Tenant,
    *,
    filter: str | None = None,
    user: User | None = None,
    assignee: str | None = None,
    channel: str | None = None,
    phone: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    name = check_filter(filter, has_user=user is not None)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit is 1 to {MAX_PAGE}", field="limit")
    after = None
    if cursor:
        try:
            after = repo.decode_cursor(cursor)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError("invalid cursor", field="cursor") from exc
    channel_id = (await resolve_channel(rt, tenant, channel)).id if channel else None
    normalized = normalize_phone(phone, tenant.default_region, "phone") if phone else None

    def job(conn: Connection) -> Page:
        assignee_id = None
        if assignee:
            found = user_repo.get_user_by_login(conn, tenant.id, assignee.lower())
            if found is None:
                raise ValidationError(f"no user {assignee!r}", field="assignee")
            assignee_id = found.id
        rows = repo.list_conversations(
            conn,
            tenant.id,
            filter=name,
            user_id=user.id if user else None,
            assignee_id=assignee_id,
            channel_id=channel_id,
            phone=normalized,
            after=after,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, repo.encode_cursor(rows[-1]) if more and rows else None)

    return await rt.db.read(job)


async def get_conversation(rt: Runtime, tenant: Tenant, conversation_id: int) -> Any:
    row = await rt.db.read(lambda c: repo.get_conversation(c, tenant.id, conversation_id))
    if row is None:
        raise NotFoundError(f"conversation {conversation_id} not found", field="id")
    return row


async def notes(rt: Runtime, tenant: Tenant, conversation_id: int) -> list[Any]:
    await get_conversation(rt, tenant, conversation_id)
    return await rt.db.read(lambda c: repo.list_notes(c, conversation_id))


async def counts(rt: Runtime, tenant: Tenant, user: User | None) -> dict[str, int]:
    return await rt.db.read(lambda c: repo.counts(c, tenant.id, user.id if user else None))


async def thread(rt: Runtime, tenant: Tenant, row: Any, limit: int = 200) -> list[Any]:
    return await rt.db.read(lambda c: repo.thread(c, tenant.id, row.channel_id, row.phone, limit))


# ---------------------------------------------------------------- changing


async def _change(rt: Runtime, tenant: Tenant, conversation_id: int, work: Callable[[Connection, Any], None]) -> Any:
    def job(conn: Connection) -> Any:
        row = repo.get_conversation(conn, tenant.id, conversation_id)
        if row is None:
            raise NotFoundError(f"conversation {conversation_id} not found", field="id")
        work(conn, row)
        return repo.get_conversation(conn, tenant.id, conversation_id)

    row = await rt.db.write(job)
    _changed(rt, tenant.id, conversation_id)
    return row


async def assign(rt: Runtime, tenant: Tenant, conversation_id: int, login: str | None) -> Any:
    """Assign to a user of the tenant by login, or unassign with ``None``."""
    now = rt.clock.now()

    def work(conn: Connection, _row: Any) -> None:
        user_id = None
        if login:
            user = user_repo.get_user_by_login(conn, tenant.id, login.lower())
            if user is None:
                raise ValidationError(f"no user {login!r} in this tenant", field="assignee")
            user_id = user.id
        repo.set_assignee(conn, conversation_id, user_id, now)

    return await _change(rt, tenant, conversation_id, work)


async def set_closed(rt: Runtime, tenant: Tenant, conversation_id: int, closed: bool) -> Any:
    now = rt.clock.now()
    return await _change(
        rt, tenant, conversation_id, lambda conn, _row: repo.set_state(conn, conversation_id, closed, now)
    )


async def mark_read(rt: Runtime, tenant: Tenant, conversation_id: int) -> None:
    changed = await rt.db.write(lambda c: repo.mark_read(c, conversation_id))
    if changed:
        _changed(rt, tenant.id, conversation_id)


async def add_note(
    rt: Runtime, tenant: Tenant, conversation_id: int, text: object, *, author: str, author_id: int | None
) -> int:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("a note needs text", field="text", code="required")
    if len(text) > MAX_NOTE:
        raise ValidationError(f"a note is at most {MAX_NOTE} characters", field="text")
    now = rt.clock.now()
    note_id: list[int] = []

    def work(conn: Connection, _row: Any) -> None:
        note_id.append(repo.add_note(conn, tenant.id, conversation_id, author_id, author[:100], text.strip(), now))

    await _change(rt, tenant, conversation_id, work)
    return note_id[0]


async def reply(rt: Runtime, user: User, conversation_id: int, draft: dict[str, Any]) -> Accepted:
    """Send an operator's reply through the one door every message takes (policy included).

    ``draft`` is ``{"text"}`` or ``{"template": {"name", "language", "params"}}``; the
    channel and recipient come from the conversation, the operator is the user's login.
    """
    row = await get_conversation(rt, user.tenant, conversation_id)
    fields: dict[str, Any] = {"to": row.phone, "channel": row.channel_name, "operator": user.login}
    if draft.get("template") is not None:
        fields["type"] = "template"
        fields["template"] = draft["template"]
    else:
        fields["text"] = draft.get("text")
    outcome: list[Outcome] = []

    def render(outcomes: list[Outcome]) -> tuple[int, Any]:
        outcome.extend(outcomes)
        return 202, None

    await accept_messages(rt, user.tenant, [OutboundDraft(**fields, origin="dashboard")], render=render)
    result = outcome[0]
    if isinstance(result, WagateError):
        raise result
    _changed(rt, user.tenant.id, conversation_id)
    return result


# ---------------------------------------------------------------- the native representation


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def conversation_json(row: Any) -> dict[str, Any]:
    assignee = {"login": row.assignee_login, "name": row.assignee_name} if row.assignee_login else None
    return {
        "id": row.id,
        "channel": row.channel_name,
        # The person: phone null when WhatsApp withholds it; identities from their contact card.
        "phone": phone_of(row.phone),
        "identities": {
            **identities_of_key(row.phone).as_json(),
            **{
                k: v
                for k, v in (
                    ("user_id", row.contact_user_id),
                    ("parent_user_id", row.contact_parent_user_id),
                    ("username", row.contact_username),
                    ("lid", row.contact_lid),
                )
                if v is not None
            },
        },
        "contact_name": row.contact_name,
        "profile_name": row.profile_name,
        "state": row.state,
        "assignee": assignee,
        "unread": row.unread,
        "last_message_at": _iso(row.last_message_at),
        "last_direction": row.last_direction,
        "preview": row.last_preview,
        "last_inbound_at": _iso(row.last_inbound_at),
        "last_reply_at": _iso(row.last_reply_at),
        "awaiting_since": _iso(row.awaiting_since),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def note_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "author": row.author,
        "author_name": row.author_name or row.author,
        "text": row.text,
        "created_at": _iso(row.created_at),
    }
