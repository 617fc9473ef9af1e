"""Campaigns and their recipients: plain functions over a ``Connection`` (see ``campaign_tables``).

What keeps a campaign honest lives here as SQL: a recipient moves ``pending → enqueued`` only
with a conditional update in the transaction that creates its message, and pulling messages
back (pause, a closed window) cancels a queued message and returns its recipient to
``pending`` in one step, so a recipient never has two messages that could both be sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain import campaigns as domain
from wagate.domain.campaigns import Sample, StatsRow
from wagate.domain.consent import REVOKED
from wagate.domain.statuses import Status
from wagate.errors import ConflictError
from wagate.store import dialect
from wagate.store.campaign_tables import campaign_recipients, campaigns
from wagate.store.database import json_dumps
from wagate.store.policy_tables import consents
from wagate.store.repos.messages import apply_status
from wagate.store.tables import channels, messages

recipients = campaign_recipients

_WITH_CHANNEL = sa.select(campaigns, channels.c.name.label("channel_name"), channels.c.kind.label("channel_kind")).join(
    channels, channels.c.id == campaigns.c.channel_id
)


def insert_campaign(conn: Connection, values: dict[str, Any]) -> int:
    result = conn.execute(campaigns.insert().values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_campaign(conn: Connection, tenant_id: int | None, campaign_id: int, *, lock: bool = False) -> Any | None:
    """The campaign with its channel's name; ``lock`` takes its row lock (PostgreSQL) for this transaction."""
    query = _WITH_CHANNEL.where(campaigns.c.id == campaign_id)
    if tenant_id is not None:
        query = query.where(campaigns.c.tenant_id == tenant_id)
    if lock:
        query = dialect.for_update(query, conn, of=campaigns)
    return conn.execute(query).first()


def list_campaigns(
    conn: Connection, tenant_id: int, *, state: str | None = None, before_id: int | None = None, limit: int = 20
) -> list[Any]:
    """Newest first; importing campaigns are not shown (they are not campaigns yet)."""
    query = (
        _WITH_CHANNEL.where(campaigns.c.tenant_id == tenant_id, campaigns.c.state != domain.IMPORTING)
        .order_by(campaigns.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(campaigns.c.state == state)
    if before_id is not None:
        query = query.where(campaigns.c.id < before_id)
    return list(conn.execute(query))


def update_campaign(conn: Connection, campaign_id: int, values: dict[str, Any], *, state: str | None = None) -> bool:
    """Update; with ``state`` only while the campaign is still in it (a lost race changes nothing)."""
    query = campaigns.update().where(campaigns.c.id == campaign_id)
    if state is not None:
        query = query.where(campaigns.c.state == state)
    return bool(conn.execute(query.values(**values)).rowcount)


def delete_campaign(conn: Connection, campaign_id: int) -> None:
    conn.execute(recipients.delete().where(recipients.c.campaign_id == campaign_id))
    conn.execute(campaigns.delete().where(campaigns.c.id == campaign_id))


def stale_imports(conn: Connection, before: datetime) -> list[int]:
    """Imports nobody has touched since ``before``: their process died mid-file."""
    rows = conn.execute(
        sa.select(campaigns.c.id).where(campaigns.c.state == domain.IMPORTING, campaigns.c.updated_at < before)
    )
    return [int(r.id) for r in rows]


_SQL_RECIPIENTS = (
    "INSERT INTO campaign_recipients (campaign_id, line, phone, name, params, state, error_code) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def insert_recipients(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One chunk of the file. On SQLite one ``executemany`` on the driver's cursor, inside the
    transaction SQLAlchemy opened (its per-row parameter processing cost more than SQLite's
    work), with ``params`` encoded as the JSON column type encodes it."""
    if not rows:
        return
    if dialect.is_postgres(conn):
        conn.execute(recipients.insert(), rows)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            _SQL_RECIPIENTS,
            [
                (
                    r["campaign_id"],
                    r["line"],
                    r["phone"],
                    r["name"],
                    json_dumps(r["params"]),
                    r["state"],
                    r["error_code"],
                )
                for r in rows
            ],
        )
    finally:
        cursor.close()


def running(conn: Connection) -> list[int]:
    return [int(r.id) for r in conn.execute(sa.select(campaigns.c.id).where(campaigns.c.state == domain.RUNNING))]


def in_flight(conn: Connection, campaign_id: int, channel_id: int) -> int:
    """The campaign's messages still in the queue. Uses the claim index (status, channel): the queue
    is short, so this costs the same for a campaign of 100 and of 100,000."""
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(messages)
            .where(
                messages.c.status.in_([Status.QUEUED.value, Status.SENDING.value]),
                messages.c.channel_id == channel_id,
                messages.c.campaign_id == campaign_id,
            )
        ).scalar_one()
    )


def next_pending(conn: Connection, campaign_id: int, limit: int) -> list[Any]:
    """The next recipients in file order."""
    return list(
        conn.execute(
            sa.select(recipients.c.id, recipients.c.line, recipients.c.phone, recipients.c.params)
            .where(recipients.c.campaign_id == campaign_id, recipients.c.state == domain.PENDING)
            .order_by(recipients.c.line)
            .limit(limit)
        )
    )


def has_pending(conn: Connection, campaign_id: int) -> bool:
    return (
        conn.execute(
            sa.select(recipients.c.id)
            .where(recipients.c.campaign_id == campaign_id, recipients.c.state == domain.PENDING)
            .limit(1)
        ).first()
        is not None
    )


_MARK_ENQUEUED = (
    recipients.update()
    .where(recipients.c.id == sa.bindparam("b_id"), recipients.c.state == domain.PENDING)
    .values(state=domain.ENQUEUED, message_id=sa.bindparam("b_message_id"), enqueued_at=sa.bindparam("b_at"))
)
_MARK_REFUSED = (
    recipients.update()
    .where(recipients.c.id == sa.bindparam("b_id"), recipients.c.state == domain.PENDING)
    .values(state=domain.REFUSED, error_code=sa.bindparam("b_code"))
)


def mark_enqueued(conn: Connection, recipient_id: int, message_id: int, now: datetime) -> None:
    """Pending → enqueued with its message, or ``ConflictError`` (which undoes the message with it)."""
    done = conn.execute(_MARK_ENQUEUED, {"b_id": recipient_id, "b_message_id": message_id, "b_at": now}).rowcount
    if done != 1:
        raise ConflictError(f"recipient {recipient_id} is no longer pending", code="recipient_taken")


def mark_refused(conn: Connection, recipient_id: int, code: str) -> None:
    conn.execute(_MARK_REFUSED, {"b_id": recipient_id, "b_code": code[:64]})


def pull_back(conn: Connection, campaign_id: int, channel_id: int, now: datetime, reason: str) -> int:
    """Cancel the campaign's messages still waiting in the queue and put their recipients back to
    ``pending`` (first in line again, as ``line`` orders them). A message the dispatcher already
    took (``sending``) is left to finish: the cancel is refused by the state machine."""
    ids = [
        int(r.id)
        for r in conn.execute(
            sa.select(messages.c.id).where(
                messages.c.status == Status.QUEUED.value,
                messages.c.channel_id == channel_id,
                messages.c.campaign_id == campaign_id,
            )
        )
    ]
    back = 0
    for message_id in ids:
        change = apply_status(conn, message_id, Status.CANCELLED, now=now, reason=reason, record_ignored=False)
        if change is None or not change.applied:
            continue
        conn.execute(
            recipients.update()
            .where(recipients.c.campaign_id == campaign_id, recipients.c.message_id == message_id)
            .values(state=domain.PENDING, message_id=None, enqueued_at=None)
        )
        back += 1
    return back


def _opted_out_after_send() -> sa.ColumnElement[bool]:
    return sa.and_(
        consents.c.status == REVOKED,
        consents.c.revoked_at.is_not(None),
        consents.c.revoked_at >= recipients.c.enqueued_at,
    )


def _consent_join(tenant_id: int) -> Any:
    return sa.and_(consents.c.tenant_id == tenant_id, consents.c.phone == recipients.c.phone)


SETTLED = ("sent", "delivered", "read", "failed")


def protection_sample(conn: Connection, campaign: Any, window: int) -> Sample:
    """The last ``window`` messages (after ``protection_after_id``) whose send has an outcome."""
    out = messages.alias("m")
    opted = sa.case((_opted_out_after_send(), 1), else_=0)
    rows = conn.execute(
        sa.select(out.c.status, opted.label("opted_out"))
        .select_from(
            recipients.join(out, out.c.id == recipients.c.message_id).outerjoin(
                consents, _consent_join(campaign.tenant_id)
            )
        )
        .where(
            recipients.c.campaign_id == campaign.id,
            recipients.c.message_id > campaign.protection_after_id,
            out.c.status.in_(SETTLED),
        )
        .order_by(recipients.c.message_id.desc())
        .limit(window)
    ).all()
    failed = sum(1 for r in rows if r.status == "failed")
    opted_out = sum(int(r.opted_out) for r in rows if r.status != "failed")
    return Sample(settled=len(rows), failed=failed, opted_out=opted_out)


def stats_rows(conn: Connection, campaign: Any, reply_until: datetime | None) -> list[StatsRow]:
    """The campaign's recipients grouped by state and message status, with replies and opt-outs.

    A reply is an inbound message from the recipient on the campaign's channel with a higher id
    than the campaign's message (ids grow with time), before ``reply_until``; an opt-out is a
    revoked consent whose revocation came after the message was created. A recipient who opted
    out is not counted as having replied (their "STOP" is not the conversation we hoped for).
    """
    out = messages.alias("m")
    inbound = messages.alias("i")
    wrote_back = (
        sa.select(inbound.c.id)
        .where(
            inbound.c.tenant_id == campaign.tenant_id,
            inbound.c.phone == recipients.c.phone,
            inbound.c.id > recipients.c.message_id,
            inbound.c.direction == "in",
            inbound.c.channel_id == campaign.channel_id,
        )
        .limit(1)
    )
    if reply_until is not None:
        wrote_back = wrote_back.where(inbound.c.created_at < reply_until)
    opted = _opted_out_after_send()
    replied = sa.case(
        (recipients.c.message_id.is_(None), 0),
        (opted, 0),
        (wrote_back.exists(), 1),
        else_=0,
    )
    code = sa.func.coalesce(out.c.error_code, recipients.c.error_code)
    query = (
        sa.select(
            recipients.c.state,
            out.c.status,
            code.label("error_code"),
            sa.func.count().label("n"),
            sa.func.sum(replied).label("replied"),
            sa.func.sum(sa.case((opted, 1), else_=0)).label("opted_out"),
        )
        .select_from(
            recipients.outerjoin(out, out.c.id == recipients.c.message_id).outerjoin(
                consents, _consent_join(campaign.tenant_id)
            )
        )
        .where(recipients.c.campaign_id == campaign.id)
        .group_by(recipients.c.state, out.c.status, code)
    )
    return [
        StatsRow(r.state, r.status, r.error_code, int(r.n), int(r.replied or 0), int(r.opted_out or 0))
        for r in conn.execute(query)
    ]


def list_recipients(
    conn: Connection, campaign_id: int, *, state: str | None = None, after_line: int = 0, limit: int = 100
) -> list[Any]:
    out = messages.alias("m")
    query = (
        sa.select(recipients, out.c.status.label("message_status"), out.c.error_code.label("message_error"))
        .select_from(recipients.outerjoin(out, out.c.id == recipients.c.message_id))
        .where(recipients.c.campaign_id == campaign_id, recipients.c.line > after_line)
        .order_by(recipients.c.line)
        .limit(limit)
    )
    if state is not None:
        query = query.where(recipients.c.state == state)
    return list(conn.execute(query))


def count_by_state(conn: Connection, campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    ids = list(campaign_ids)
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return out
    rows = conn.execute(
        sa.select(recipients.c.campaign_id, recipients.c.state, sa.func.count())
        .where(recipients.c.campaign_id.in_(ids))
        .group_by(recipients.c.campaign_id, recipients.c.state)
    )
    for campaign_id, state, count in rows:
        out[int(campaign_id)][str(state)] = int(count)
    return out
