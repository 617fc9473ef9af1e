"""Resolving ``unknown`` messages: an operator states what really happened.

A message is ``unknown`` when the process died (or the channel could not answer) while the
provider may have had it. wagate never resends it blindly; an operator checks the phone or the
provider's console and records the truth here. To send it again, send a new message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.records import Tenant
from wagate.domain.statuses import Status
from wagate.errors import ConflictError, NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.services.messages import get_message
from wagate.store.repos import messages as message_repo

RESOLUTIONS = (Status.SENT, Status.DELIVERED, Status.READ, Status.FAILED)


async def resolve_unknown(
    rt: Runtime, tenant: Tenant, message_id: int, status: object, note: object, by: str
) -> tuple[Any, list[Any]]:
    """Move an ``unknown`` message to ``sent``/``delivered``/``read``/``failed`` (one transaction)."""
    if not isinstance(status, str) or status not in {s.value for s in RESOLUTIONS}:
        raise ValidationError("status must be sent, delivered, read or failed", field="status")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise ValidationError("note must be a text of at most 500 characters", field="note")
    new = Status(status)
    now = rt.clock.now()
    reason = f"resolved by {by}" + (f": {note}" if note else "")

    def job(conn: Connection) -> None:
        row = message_repo.get_message(conn, tenant.id, message_id)
        if row is None:
            raise NotFoundError(f"message {message_id} not found", field="id")
        if row.status != Status.UNKNOWN.value:
            raise ConflictError(
                f"message is {row.status}; only unknown messages are resolved", field="status", code="not_unknown"
            )
        message_repo.apply_status(
            conn,
            message_id,
            new,
            now=now,
            reason=reason,
            error_code="resolved_failed" if new is Status.FAILED else None,
            error_message=note if new is Status.FAILED and isinstance(note, str) else None,
        )

    await rt.db.write(job)
    row, history = await get_message(rt, tenant, message_id)
    rt.metrics.messages.labels(row.channel_name, new.value).inc()
    return row, history
