"""What every channel calls when a provider tells us something: a client wrote, or a status moved.

Channels (cloud webhooks, device notifications and results, web) must go through these two
functions, so that deduplication, the state machine, events and every rule that reacts to
inbound traffic (opt-out keywords, the 24-hour window, conversations) hold for all of them.
Both commit before returning: the caller may acknowledge the provider afterwards
(invariant 1: persist before you acknowledge).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain import storable
from wagate.domain.statuses import Status
from wagate.runtime import Runtime
from wagate.store.repos import messages as message_repo
from wagate.store.repos import pricing as pricing_repo
from wagate.store.repos.channels import ChannelRow

#: Hooks run inside the inbound message's transaction: ``hook(conn, rt, channel, message_id, phone, payload, now)``.
InboundHook = Callable[[Connection, Runtime, ChannelRow, int, str, dict[str, Any], datetime], None]


@dataclass(frozen=True, slots=True)
class InboundResult:
    message_id: int
    created: bool


def inbound_hooks(rt: Runtime) -> list[InboundHook]:
    hooks: list[InboundHook] = rt.extras.setdefault("inbound_hooks", [])
    return hooks


async def record_inbound(
    rt: Runtime,
    channel: ChannelRow,
    *,
    phone: str,
    type: str,
    payload: dict[str, Any],
    provider_id: str | None,
    received_at: datetime | None = None,
) -> InboundResult:
    """Store a client's message once per provider id, with its event; run the inbound hooks.

    Characters no database can store are replaced by U+FFFD: the message is kept, never refused.
    """
    payload = storable.scrub(payload)
    provider_id = storable.scrub(provider_id)
    now = rt.clock.now()
    hooks = list(inbound_hooks(rt))

    def job(conn: Connection) -> InboundResult:
        message_id, created = message_repo.insert_inbound(
            conn,
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            phone=phone,
            type=type,
            payload=payload,
            provider_id=provider_id,
            now=now,
            received_at=received_at,
        )
        if created:
            for hook in hooks:
                hook(conn, rt, channel, message_id, phone, payload, now)
        return InboundResult(message_id, created)

    result = await rt.db.write(job)
    if result.created:
        rt.wakeup.notify()
    return result


async def record_provider_status(
    rt: Runtime,
    channel: ChannelRow,
    *,
    provider_id: str,
    status: Status,
    error_code: str | None = None,
    error_message: str | None = None,
    reason: str | None = None,
    pricing: dict[str, Any] | None = None,
) -> bool:
    """Advance the message the provider knows as ``provider_id``. Returns False if no such message.

    Late or repeated updates are recorded and ignored by the state machine, never an error.
    ``pricing`` (the provider's, see ``domain.pricing``) is stored with its cost in the same
    transaction, before the status, so the status event already carries it.
    """
    now = rt.clock.now()

    def job(conn: Connection) -> bool:
        row = message_repo.find_by_provider_id(conn, provider_id, channel.id)
        if row is None:
            return False
        if pricing is not None:
            pricing_repo.record_pricing(conn, row.id, pricing)
        message_repo.apply_status(
            conn,
            row.id,
            status,
            now=now,
            reason=reason or f"provider: {status.value}",
            error_code=error_code,
            error_message=error_message,
        )
        return True

    return await rt.db.write(job)
