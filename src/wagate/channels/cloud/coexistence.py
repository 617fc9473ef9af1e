"""Coexistence: the number stays in the WhatsApp Business app while connected to the Cloud API.

Meta then reports what happens in the app through three webhook fields, which wagate records
only on a channel with ``settings.coexistence: true`` (on any other they are logged and dropped):

* ``smb_message_echoes`` — a manager typed a message in the app (or a linked device): it is
  recorded as an outbound message, ``origin: "phone"``, status ``sent``, in the customer's
  conversation (created if needed), answering it as the channel's ``phone_operator`` (default
  ``phone``), so response-time analytics show the team whatever app they answered from;
* ``history`` — the app's past chats, shared once when the number is onboarded: each message is
  imported once (``origin: "history"``) without events or hooks, so it neither opens a service
  window, nor wakes a CRM, nor counts as activity in analytics;
* ``smb_app_state_sync`` — the app's address book: names fill contact cards that have none.
"""

from __future__ import annotations

import logging

from wagate.channels.cloud.channel import CloudChannel
from wagate.channels.cloud.webhook import ChangeBatch
from wagate.runtime import Runtime
from wagate.services.inbound import record_echo, record_history, sync_contacts
from wagate.store.repos.channels import ChannelRow

log = logging.getLogger("wagate.channels.cloud.coexistence")

COEXISTENCE_FIELDS = frozenset({"smb_message_echoes", "history", "smb_app_state_sync"})
#: Whom replies typed in the Business app count as when the channel names no ``phone_operator``.
PHONE_OPERATOR = "phone"


async def handle(rt: Runtime, row: ChannelRow, channel: CloudChannel, batch: ChangeBatch) -> None:
    """Record what a coexistence change says; returns once it is durable."""
    operator = channel.settings.phone_operator or PHONE_OPERATOR
    for echo in batch.echoes:
        await record_echo(
            rt,
            row,
            ids=echo.identities,
            type=echo.type,
            payload=echo.payload,
            provider_id=echo.provider_id,
            operator=operator,
            sent_at=echo.timestamp,
        )
    imported = 0
    for past in batch.history:
        result = await record_history(
            rt,
            row,
            ids=past.identities,
            direction=past.direction,
            type=past.type,
            payload=past.payload,
            provider_id=past.provider_id,
            at=past.timestamp,
        )
        imported += int(result.created)
    if batch.history:
        log.info("imported %d past messages of the Business app", imported, extra={"channel": row.name})
    if batch.state_sync:
        changed = await sync_contacts(rt, row, [(c.phone, c.name, c.action) for c in batch.state_sync])
        log.info("Business app contacts synced: %d cards named", changed, extra={"channel": row.name})
