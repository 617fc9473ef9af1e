"""The messages table is the queue; every status change goes through ``apply_status``.

``apply_status`` keeps invariants 2 and 3 of the design: the new status, its history row
and its outbox event are written in the caller's single transaction, and a status never
moves backwards (a stale update is recorded in the history as not applied, nothing else).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.identities import identities_of_key, phone_of
from wagate.domain.inputs import is_row_id
from wagate.domain.messages import INBOUND_ORIGIN, Direction, OutboundMessage
from wagate.domain.statuses import Status, Verdict, decide
from wagate.store import dialect
from wagate.store.repos.events import append_event
from wagate.store.tables import channels, events, message_status_history, messages


@dataclass(frozen=True, slots=True)
class StatusChange:
    message_id: int
    old: Status
    new: Status
    applied: bool


def outbound_row(
    tenant_id: int, channel_id: int, message: OutboundMessage, now: datetime, campaign_id: int | None = None
) -> dict[str, Any]:
    expires = now + timedelta(seconds=message.validity_seconds) if message.validity_seconds else None
    return {
        "tenant_id": tenant_id,
        "channel_id": channel_id,
        "direction": Direction.OUT.value,
        "phone": message.phone,
        "type": message.type.value,
        "payload": message.payload,
        "status": Status.QUEUED.value,
        "client_ref": message.client_ref,
        "callback_url": message.callback_url,
        "callback_data": message.callback_data,
        "operator": message.operator,
        "origin": message.origin,
        "sent_to": message.sent_to or message.phone,
        "campaign_id": campaign_id,
        "attempts": 0,
        "due_at": now,
        "expires_at": expires,
        "created_at": now,
        "updated_at": now,
    }


def status_event_payload(row: Any, channel_name: str, old: Status | None, reason: str | None) -> dict[str, Any]:
    """The body of a ``message.status`` / ``message.received`` event (the native webhook format).

    ``phone`` is ``null`` for someone WhatsApp knows only by BSUID or LID; ``person`` is always
    the person key (what ``GET /v1/messages?phone=`` and the conversation are keyed on).
    """
    error = {"code": row.error_code, "message": row.error_message} if row.error_code else None
    event: dict[str, Any] = {
        "message_id": row.id,
        "direction": row.direction,
        "channel": channel_name,
        "phone": phone_of(row.phone),
        "person": row.phone,
        "identities": identities_of_key(row.phone).as_json(),
        "status": row.status,
        "previous_status": old.value if old else None,
        "reason": reason,
        "error": error,
        "provider_id": row.provider_id,
        "client_ref": row.client_ref,
        "callback_url": row.callback_url,
        "callback_data": row.callback_data,
        "operator": row.operator,
        "origin": row.origin,
        "type": row.type,
        "at": row.updated_at.isoformat(),
    }
    if getattr(row, "pricing", None) is not None:
        event["pricing"] = row.pricing
        if row.cost_amount is not None:
            event["cost"] = {"amount": row.cost_amount, "currency": row.cost_currency}
    if row.direction == Direction.IN.value:
        # What the client wrote (text, media, location, contacts …): receivers need it, not just a status.
        event["content"] = row.payload
    return event


def insert_outbound(
    conn: Connection,
    rows: list[dict[str, Any]],
    channel_names: dict[int, str],
    now: datetime,
    reasons: list[str] | None = None,
) -> list[int]:
    """Insert queued messages with their first history row and event. Returns the new ids in order.

    ``reasons`` (one per row, default "accepted") is the first history row's reason, e.g. a
    policy warning the message was accepted with. Bulk statements keep a batch of 1000 cheap:
    ``insertmanyvalues`` with ordered RETURNING on PostgreSQL, driver-level ``executemany`` on SQLite.
    """
    if not rows:
        return []
    why = reasons or ["accepted"] * len(rows)
    if not dialect.is_postgres(conn):
        return _insert_outbound_sqlite(conn, rows, channel_names, now, why)
    result = conn.execute(messages.insert().returning(messages.c.id, sort_by_parameter_order=True), rows)
    ids = [int(r[0]) for r in result]
    conn.execute(
        message_status_history.insert(),
        [
            {"message_id": mid, "status": Status.QUEUED.value, "applied": True, "reason": reason, "at": now}
            for mid, reason in zip(ids, why, strict=True)
        ],
    )
    conn.execute(
        events.insert(),
        [
            _queued_event(mid, values, channel_names, now, reason)
            for mid, values, reason in zip(ids, rows, why, strict=True)
        ],
    )
    return ids


def _queued_event(
    mid: int, values: dict[str, Any], channel_names: dict[int, str], now: datetime, reason: str
) -> dict[str, Any]:
    return {
        "tenant_id": values["tenant_id"],
        "type": "message.status",
        "message_id": mid,
        "created_at": now,
        "payload": queued_event_payload(mid, values, channel_names[values["channel_id"]], reason, now.isoformat()),
    }


def queued_event_payload(mid: int, values: dict[str, Any], channel: str, reason: str, at: str) -> dict[str, Any]:
    """``status_event_payload`` of a just-queued outbound message, straight from its row values
    (the same body, built without a row object: this runs once per message accepted)."""
    return {
        "message_id": mid,
        "direction": values["direction"],
        "channel": channel,
        "phone": phone_of(values["phone"]),
        "person": values["phone"],
        "identities": identities_of_key(values["phone"]).as_json(),
        "status": values["status"],
        "previous_status": None,
        "reason": reason,
        "error": None,
        "provider_id": None,
        "client_ref": values["client_ref"],
        "callback_url": values["callback_url"],
        "callback_data": values["callback_data"],
        "operator": values["operator"],
        "origin": values["origin"],
        "type": values["type"],
        "at": at,
    }


_SQL_HISTORY = "INSERT INTO message_status_history (message_id, status, applied, reason, error_code, at) VALUES "
_ROW_HISTORY = "(?, 'queued', 1, ?, NULL, ?)"
_SQL_EVENTS = "INSERT INTO events (tenant_id, type, message_id, payload, created_at) VALUES "
_ROW_EVENTS = "(?, 'message.status', ?, ?, ?)"
#: Rows per multi-row INSERT, at most (19 columns × 256 stays far below SQLite's variable limit).
_MAX_ROWS_PER_INSERT = 256


@lru_cache(maxsize=256)
def _multi_row_sql(head: str, row: str, count: int) -> str:
    return head + ", ".join([row] * count)


def _insert_rows(cursor: Any, head: str, row: str, params: list[tuple[Any, ...]]) -> None:
    """Insert ``params`` with multi-row ``INSERT … VALUES (…), (…)`` statements.

    ``executemany`` steps SQLite once per row, and the driver releases and re-takes the GIL
    around every step: under load each re-take waits for the event loop's thread, so a batch of
    rows cost a batch of GIL hand-overs. One statement per chunk steps once. Chunks are powers of
    two (25 rows: 16 + 8 + 1), so a handful of statement texts serve every batch size and stay
    in the driver's statement cache.
    """
    start = 0
    while start < len(params):
        left = len(params) - start
        count = min(_MAX_ROWS_PER_INSERT, 1 << (left.bit_length() - 1))
        chunk = params[start : start + count]
        cursor.execute(_multi_row_sql(head, row, count), [value for values in chunk for value in values])
        start += count


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, bool):
        return int(value)
    return value


def _encoder_for(name: str, sample: Any, now: datetime, stamp: str) -> Any:
    """Per-column value encoder, chosen once per batch (the rows of a batch share their shapes)."""

    def encode(value: Any) -> Any:
        if value is now:
            return stamp
        return _sqlite_value(value)

    if name == "payload":
        return lambda value: orjson.dumps(value).decode()
    if isinstance(sample, datetime) or name.endswith("_at"):
        return encode
    if isinstance(sample, bool):
        return int
    return _sqlite_value


def _insert_outbound_sqlite(
    conn: Connection, rows: list[dict[str, Any]], channel_names: dict[int, str], now: datetime, why: list[str]
) -> list[int]:
    """The hot path of ingest on SQLite: multi-row inserts on the driver's own cursor (``_insert_rows``),
    inside the transaction SQLAlchemy opened (its per-statement overhead was most of the cost).

    The single writer holds the write lock (BEGIN IMMEDIATE), so ids after MAX(id) are ours to
    assign. Values are encoded exactly as the ``UTCDateTime`` and JSON column types encode them.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        base = int(cursor.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0])
        ids = list(range(base + 1, base + 1 + len(rows)))
        stamp = _sqlite_value(now)
        at = now.isoformat()
        columns = ["id", *rows[0]]  # every row of a batch comes from outbound_row: same keys
        sql_messages = f"INSERT INTO messages ({', '.join(columns)}) VALUES "
        row_messages = f"({', '.join('?' for _ in columns)})"
        message_params = []
        event_params = []
        encoders = [_encoder_for(name, rows[0].get(name), now, stamp) for name in columns[1:]]
        for mid, values, reason in zip(ids, rows, why, strict=True):
            message_params.append(
                (mid, *(encode(values[name]) for name, encode in zip(columns[1:], encoders, strict=True)))
            )
            payload = queued_event_payload(mid, values, channel_names[values["channel_id"]], reason, at)
            event_params.append((values["tenant_id"], mid, orjson.dumps(payload).decode(), stamp))
        _insert_rows(cursor, sql_messages, row_messages, message_params)
        _insert_rows(
            cursor, _SQL_HISTORY, _ROW_HISTORY, [(mid, reason, stamp) for mid, reason in zip(ids, why, strict=True)]
        )
        _insert_rows(cursor, _SQL_EVENTS, _ROW_EVENTS, event_params)
    finally:
        cursor.close()
    return ids


def _channel_name(conn: Connection, channel_id: int) -> str:
    return str(conn.execute(sa.select(channels.c.name).where(channels.c.id == channel_id)).scalar_one())


def apply_status(
    conn: Connection,
    message_id: int,
    new: Status,
    *,
    now: datetime,
    reason: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    provider_id: str | None = None,
    record_ignored: bool = True,
    extra: dict[str, Any] | None = None,
) -> StatusChange | None:
    """Move a message to ``new`` if the state machine allows; record either way.

    ``extra`` columns (lease, due time, attempts) are updated together with an applied change.
    Returns ``None`` when the message does not exist.
    """
    for _ in range(3):
        row = conn.execute(
            sa.select(messages.c.status, messages.c.tenant_id).where(messages.c.id == message_id)
        ).first()
        if row is None:
            return None
        old = Status(row.status)
        verdict = decide(old, new)
        if verdict.verdict is Verdict.IGNORE:
            if record_ignored:
                conn.execute(
                    message_status_history.insert().values(
                        message_id=message_id,
                        status=new.value,
                        applied=False,
                        at=now,
                        reason=f"ignored after {old.value}" + (f": {reason}" if reason else ""),
                        error_code=error_code,
                    )
                )
            return StatusChange(message_id, old, new, applied=False)
        values: dict[str, Any] = {"status": new.value, "updated_at": now}
        if error_code is not None or new in (Status.FAILED, Status.EXPIRED, Status.UNKNOWN, Status.CANCELLED):
            values["error_code"] = error_code
            values["error_message"] = error_message
        if provider_id is not None:
            values["provider_id"] = provider_id
        if new is not Status.SENDING:
            values["lease_owner"] = None
            values["lease_expires_at"] = None
        values.update(extra or {})
        # Guarded by the status we read: a concurrent writer (PostgreSQL) makes us re-read, not clobber.
        updated = conn.execute(
            messages.update().where(messages.c.id == message_id, messages.c.status == old.value).values(**values)
        )
        if updated.rowcount == 0:
            continue
        record_applied(conn, message_id, old, new, now=now, reason=reason, error_code=error_code)
        return StatusChange(message_id, old, new, applied=True)
    raise RuntimeError(f"message {message_id}: status kept changing under us")


def record_applied(
    conn: Connection,
    message_id: int,
    old: Status | None,
    new: Status,
    *,
    now: datetime,
    reason: str | None,
    error_code: str | None = None,
) -> None:
    """History row + outbox event for a change already written to the messages row."""
    conn.execute(
        message_status_history.insert().values(
            message_id=message_id,
            status=new.value,
            applied=True,
            at=now,
            reason=reason,
            error_code=error_code,
        )
    )
    full = conn.execute(sa.select(messages).where(messages.c.id == message_id)).one()
    append_event(
        conn,
        tenant_id=full.tenant_id,
        type="message.status",
        message_id=message_id,
        now=now,
        payload=status_event_payload(full, _channel_name(conn, full.channel_id), old, reason),
    )


def get_message(conn: Connection, tenant_id: int, message_id: int) -> Any | None:
    return conn.execute(
        sa.select(messages, channels.c.name.label("channel_name"), channels.c.kind.label("channel_kind"))
        .join(channels, channels.c.id == messages.c.channel_id)
        .where(messages.c.id == message_id, messages.c.tenant_id == tenant_id)
    ).first()


def get_history(conn: Connection, message_id: int) -> list[Any]:
    return list(
        conn.execute(
            sa.select(message_status_history)
            .where(message_status_history.c.message_id == message_id)
            .order_by(message_status_history.c.id)
        )
    )


def encode_cursor(message_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": message_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    value = data.get("before") if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not is_row_id(value):
        raise ValueError("bad cursor")
    return value


def list_messages(
    conn: Connection,
    tenant_id: int,
    *,
    phone: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Any]:
    """Newest first; ``before_id`` is the keyset cursor (stable under concurrent inserts)."""
    query = (
        sa.select(messages, channels.c.name.label("channel_name"), channels.c.kind.label("channel_kind"))
        .join(channels, channels.c.id == messages.c.channel_id)
        .where(messages.c.tenant_id == tenant_id)
        .order_by(messages.c.id.desc())
        .limit(limit)
    )
    if phone:
        query = query.where(messages.c.phone == phone)
    if direction:
        query = query.where(messages.c.direction == direction)
    if status:
        query = query.where(messages.c.status == status)
    if since:
        query = query.where(messages.c.created_at >= since)
    if until:
        query = query.where(messages.c.created_at < until)
    if before_id is not None:
        query = query.where(messages.c.id < before_id)
    return list(conn.execute(query))


def _by_provider_id(conn: Connection, channel_id: int, provider_id: str) -> int | None:
    row = conn.execute(
        sa.select(messages.c.id).where(messages.c.channel_id == channel_id, messages.c.provider_id == provider_id)
    ).first()
    return int(row.id) if row is not None else None


def insert_inbound(
    conn: Connection,
    *,
    tenant_id: int,
    channel_id: int,
    phone: str,
    type: str,
    payload: dict[str, Any],
    provider_id: str | None,
    now: datetime,
    received_at: datetime | None = None,
) -> tuple[int, bool]:
    """Store an inbound message once per provider id. Returns ``(id, created)``.

    A provider that re-delivers the same webhook gets the same id back and no second event —
    also when the two deliveries race in separate transactions on PostgreSQL: the insert is
    ``ON CONFLICT DO NOTHING`` on the (channel, provider id) unique index, so the later one
    waits for the earlier to commit and then finds its row instead of failing.
    """
    if provider_id is not None:
        existing = _by_provider_id(conn, channel_id, provider_id)
        if existing is not None:
            return existing, False
    at = received_at or now
    insert = dialect.insert(conn, messages)
    result = conn.execute(
        insert.values(
            tenant_id=tenant_id,
            channel_id=channel_id,
            direction=Direction.IN.value,
            origin=INBOUND_ORIGIN,
            phone=phone,
            type=type,
            payload=payload,
            status=Status.RECEIVED.value,
            provider_id=provider_id,
            attempts=0,
            due_at=at,
            created_at=at,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[messages.c.channel_id, messages.c.provider_id])
        .returning(messages.c.id)
    ).first()
    if result is None:  # a concurrent delivery of the same provider id committed first
        assert provider_id is not None
        winner = _by_provider_id(conn, channel_id, provider_id)
        assert winner is not None
        return winner, False
    message_id = int(result.id)
    conn.execute(
        message_status_history.insert().values(
            message_id=message_id,
            status=Status.RECEIVED.value,
            applied=True,
            at=now,
            reason="inbound",
        )
    )
    full = conn.execute(sa.select(messages).where(messages.c.id == message_id)).one()
    append_event(
        conn,
        tenant_id=tenant_id,
        type="message.received",
        message_id=message_id,
        now=now,
        # The content travels with the event: webhooks and the pull feed carry what the client wrote.
        payload=status_event_payload(full, _channel_name(conn, channel_id), None, "inbound"),
    )
    return message_id, True


def find_by_provider_id(conn: Connection, provider_id: str, channel_id: int | None = None) -> Any | None:
    query = sa.select(messages).where(messages.c.provider_id == provider_id)
    if channel_id is not None:
        query = query.where(messages.c.channel_id == channel_id)
    return conn.execute(query.limit(1)).first()


def queue_depth(conn: Connection) -> list[tuple[str, str, int]]:
    """(channel name, status, count) for metrics."""
    rows = conn.execute(
        sa.select(channels.c.name, messages.c.status, sa.func.count())
        .join(channels, channels.c.id == messages.c.channel_id)
        .where(messages.c.status.in_([Status.QUEUED.value, Status.SENDING.value]))
        .group_by(channels.c.name, messages.c.status)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def last_inbound_provider_id(conn: Connection, tenant_id: int, channel_id: int, phone: str) -> str | None:
    """The provider's id of the customer's newest message in a conversation (what "typing…" answers)."""
    value = conn.execute(
        sa.select(messages.c.provider_id)
        .where(
            messages.c.tenant_id == tenant_id,
            messages.c.channel_id == channel_id,
            messages.c.phone == phone,
            messages.c.direction == "in",
            messages.c.provider_id.is_not(None),
        )
        .order_by(messages.c.id.desc())
        .limit(1)
    ).scalar()
    return str(value) if value is not None else None


def echo_row(
    *,
    tenant_id: int,
    channel_id: int,
    phone: str,
    type: str,
    payload: dict[str, Any],
    provider_id: str,
    operator: str,
    at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The row of a message typed on the linked phone (coexistence echo, web ``origin: phone``):
    outbound, already ``sent``, never claimed by the dispatcher."""
    return {
        "tenant_id": tenant_id,
        "channel_id": channel_id,
        "direction": Direction.OUT.value,
        "phone": phone,
        "type": type,
        "payload": payload,
        "status": Status.SENT.value,
        "provider_id": provider_id,
        "operator": operator,
        "origin": "phone",
        "sent_to": phone,
        "attempts": 0,
        "due_at": at,
        "created_at": at,
        "updated_at": now,
    }


def insert_recorded_outbound(conn: Connection, values: dict[str, Any], channel_name: str, reason: str) -> int:
    """Store an outbound message that was sent outside wagate, with its history row and its
    ``message.status`` event (so a CRM sees the reply typed on the phone)."""
    message_id = int(conn.execute(messages.insert().values(**values).returning(messages.c.id)).scalar_one())
    conn.execute(
        message_status_history.insert().values(
            message_id=message_id, status=values["status"], applied=True, at=values["updated_at"], reason=reason
        )
    )
    full = conn.execute(sa.select(messages).where(messages.c.id == message_id)).one()
    append_event(
        conn,
        tenant_id=values["tenant_id"],
        type="message.status",
        message_id=message_id,
        now=values["updated_at"],
        payload=status_event_payload(full, channel_name, None, reason),
    )
    return message_id


def insert_history(
    conn: Connection,
    *,
    tenant_id: int,
    channel_id: int,
    phone: str,
    direction: str,
    type: str,
    payload: dict[str, Any],
    provider_id: str,
    at: datetime,
    now: datetime,
) -> int:
    """A past message imported from the Business app (``origin: history``): no event, no hooks."""
    status = Status.RECEIVED.value if direction == Direction.IN.value else Status.SENT.value
    message_id = int(
        conn.execute(
            messages.insert()
            .values(
                tenant_id=tenant_id,
                channel_id=channel_id,
                direction=direction,
                phone=phone,
                type=type,
                payload=payload,
                status=status,
                provider_id=provider_id,
                origin="history",
                sent_to=phone if direction == Direction.OUT.value else None,
                attempts=0,
                due_at=at,
                created_at=at,
                updated_at=now,
            )
            .returning(messages.c.id)
        ).scalar_one()
    )
    conn.execute(
        message_status_history.insert().values(
            message_id=message_id, status=status, applied=True, at=now, reason="imported from the Business app"
        )
    )
    return message_id
