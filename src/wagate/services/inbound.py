"""What every channel calls when a provider tells us something: a client wrote, or a status moved.

Channels (cloud webhooks, device notifications and results, web) must go through these two
functions, so that deduplication, the state machine, events and every rule that reacts to
inbound traffic (opt-out keywords, the 24-hour window, conversations) hold for all of them.
Both commit before returning: the caller may acknowledge the provider afterwards
(invariant 1: persist before you acknowledge).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain import storable
from wagate.domain.identities import Identities, is_bsuid, phone_of
from wagate.domain.records import ChannelRow
from wagate.domain.statuses import Status
from wagate.errors import ValidationError
from wagate.runtime import Runtime
from wagate.services import identities
from wagate.store.repos import messages as message_repo
from wagate.store.repos import pricing as pricing_repo


@dataclass(frozen=True, slots=True)
class InboundResult:
    message_id: int
    created: bool
    #: The person key the message was filed under (a phone, or a BSUID/LID when none is known).
    phone: str = ""


async def record_inbound(
    rt: Runtime,
    channel: ChannelRow,
    *,
    phone: str | None = None,
    identities: Identities | None = None,
    type: str,
    payload: dict[str, Any],
    provider_id: str | None,
    received_at: datetime | None = None,
) -> InboundResult:
    """Store a client's message once per provider id, with its event; run the inbound hooks.

    With ``identities`` the sender is matched (or created) by the strongest identity they carry
    (``services.identities.observe``) in the same transaction, and the message is filed under
    that person's key; ``phone`` alone is the key as it is.

    Characters no database can store are replaced by U+FFFD: the message is kept, never refused.
    """
    payload = storable.scrub(payload)
    provider_id = storable.scrub(provider_id)
    now = rt.clock.now()
    hooks = list(rt.hooks.inbound)

    def job(conn: Connection) -> InboundResult:
        key = _person_key(conn, channel, phone, identities, now)
        message_id, created = message_repo.insert_inbound(
            conn,
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            phone=key,
            type=type,
            payload=payload,
            provider_id=provider_id,
            now=now,
            received_at=received_at,
        )
        if created:
            for hook in hooks:
                hook(conn, rt, channel, message_id, key, payload, now)
        return InboundResult(message_id, created, key)

    result = await rt.db.write(job)
    if result.created:
        rt.wakeup.notify()
    return result


def _person_key(conn: Connection, channel: ChannelRow, phone: str | None, ids: Identities | None, now: datetime) -> str:
    if ids:
        key = identities.observe(conn, channel.tenant_id, ids, now, source=f"{channel.kind} channel {channel.name}")
        if key is not None:
            return key
    if phone is None:
        raise ValidationError("the sender has neither a phone number nor a user id", field="from")
    return phone


async def record_provider_status(
    rt: Runtime,
    channel: ChannelRow,
    *,
    provider_id: str,
    status: Status,
    error_code: str | None = None,
    error_message: str | None = None,
    reason: str | None = None,
    ids: Identities | None = None,
    pricing: dict[str, Any] | None = None,
) -> bool:
    """Advance the message the provider knows as ``provider_id``. Returns False if no such message.

    Late or repeated updates are recorded and ignored by the state machine, never an error.
    ``ids`` (a status's recipient: phone, BSUID) are linked to the message's person.
    ``pricing`` (the provider's, see ``domain.pricing``) is stored with its cost in the same
    transaction, before the status, so the status event already carries it.
    """
    now = rt.clock.now()

    def job(conn: Connection) -> bool:
        row = message_repo.find_by_provider_id(conn, provider_id, channel.id)
        if row is None:
            return False
        if ids and (ids.user_id or ids.phone or ids.lid):
            known = Identities(
                phone=ids.phone or phone_of(row.phone),
                user_id=ids.user_id or (row.phone if is_bsuid(row.phone) else None),
                parent_user_id=ids.parent_user_id,
                username=ids.username,
                lid=ids.lid,
            )
            identities.observe(conn, channel.tenant_id, known, now, source=f"{channel.kind} status")
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


async def record_identity_change(
    rt: Runtime, channel: ChannelRow, *, previous_user_id: str | None, ids: Identities, previous_phone: str | None
) -> str | None:
    """A user's BSUID (and maybe phone) changed: carry their history over, never fork it."""
    now = rt.clock.now()
    source = f"{channel.kind} channel {channel.name}: id change"

    def job(conn: Connection) -> str | None:
        if previous_user_id is None and previous_phone and ids.phone and previous_phone != ids.phone:
            # A number change reported without the old BSUID: the old phone names the person.
            return identities.change_phone(
                conn, channel.tenant_id, old_phone=previous_phone, ids=ids, now=now, source=source
            )
        return identities.change_user_id(
            conn, channel.tenant_id, previous=previous_user_id, ids=ids, now=now, source=source
        )

    return await rt.db.write(job)


async def record_echo(
    rt: Runtime,
    channel: ChannelRow,
    *,
    ids: Identities,
    type: str,
    payload: dict[str, Any],
    provider_id: str,
    operator: str,
    sent_at: datetime | None,
) -> InboundResult:
    """A message a manager typed in the WhatsApp Business app (coexistence): recorded once as an
    outbound message with ``origin: "phone"`` in its person's conversation, status ``sent``.

    It counts as ``operator``'s reply (the channel's ``phone_operator``, else ``phone``): the
    conversation is answered, and response-time analytics see it. An echo for someone wagate
    never talked to creates the person and the conversation.
    """
    from wagate.store.repos.tenants import get_tenant

    now = rt.clock.now()
    at = sent_at or now
    hooks = list(rt.hooks.outbound)

    def job(conn: Connection) -> InboundResult:
        existing = message_repo.find_by_provider_id(conn, provider_id, channel.id)
        if existing is not None:
            return InboundResult(existing.id, False, existing.phone)
        key = _person_key(conn, channel, ids.phone, ids, now)
        values = message_repo.echo_row(
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            phone=key,
            type=type,
            payload=payload,
            provider_id=provider_id,
            operator=operator,
            at=at,
            now=now,
        )
        message_id = message_repo.insert_recorded_outbound(
            conn, values, channel.name, reason="typed in the Business app"
        )
        tenant = get_tenant(conn, channel.tenant_id)
        if tenant is not None:
            for hook in hooks:
                hook(conn, rt, tenant, [(message_id, values)], at)
        return InboundResult(message_id, True, key)

    return await rt.db.write(job)


async def record_history(
    rt: Runtime,
    channel: ChannelRow,
    *,
    ids: Identities,
    direction: str,
    type: str,
    payload: dict[str, Any],
    provider_id: str,
    at: datetime | None,
) -> InboundResult:
    """A past message of the Business app's chats (coexistence ``history``): imported once,
    ``origin: "history"``, no event, no hooks, so it neither opens a window nor counts as activity."""
    now = rt.clock.now()

    def job(conn: Connection) -> InboundResult:
        existing = message_repo.find_by_provider_id(conn, provider_id, channel.id)
        if existing is not None:
            return InboundResult(existing.id, False, existing.phone)
        key = _person_key(conn, channel, ids.phone, ids, now)
        message_id = message_repo.insert_history(
            conn,
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            phone=key,
            direction=direction,
            type=type,
            payload=payload,
            provider_id=provider_id,
            at=at or now,
            now=now,
        )
        return InboundResult(message_id, True, key)

    return await rt.db.write(job)


async def sync_contacts(rt: Runtime, channel: ChannelRow, synced: list[tuple[str, str | None, str]]) -> int:
    """The Business app's address book (coexistence ``smb_app_state_sync``): ``(phone, name, action)``.

    An added or edited contact names the person's card where the card has no name yet (a name a
    CRM set is never overwritten); a removed one is left alone (the app forgetting a number is
    not the CRM's decision). Returns how many cards changed.
    """
    from wagate.domain.contacts import ContactFields
    from wagate.store.repos import contacts as contact_repo

    now = rt.clock.now()

    def job(conn: Connection) -> int:
        changed = 0
        for phone, name, action in synced:
            if action != "add" or not name:
                continue
            key = identities.observe(conn, channel.tenant_id, Identities(phone=phone), now, "business app contacts")
            card = contact_repo.get_contact(conn, channel.tenant_id, key or phone)
            if card is not None and card.name:
                continue
            contact_repo.upsert_contact(
                conn, channel.tenant_id, key or phone, ContactFields(name=name[:250]), now, partial=True
            )
            changed += 1
        return changed

    return await rt.db.write(job)
