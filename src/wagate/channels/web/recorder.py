"""What the web channel writes when WhatsApp tells it something: messages in both directions, receipts.

* A client's message → ``services.inbound.record_inbound`` (deduplicated by WhatsApp's id), its
  media downloaded into the gateway's media store first (WhatsApp's CDN links expire).
* A message typed on the linked phone itself (``IsFromMe``) → an outbound message with
  ``origin: "phone"``, status ``sent``, attributed to the channel's ``phone_operator``
  (default ``phone``), so conversations and the operators' response analytics count it.
* A receipt → ``record_provider_status``: ``delivered``, ``read``; ``played`` (a voice note
  listened to) counts as ``read``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Connection

from wagate.channels.web import codec
from wagate.channels.web.session import SessionError, WebSession
from wagate.domain.messages import Direction
from wagate.domain.statuses import Status
from wagate.runtime import Runtime
from wagate.services import media as media_service
from wagate.services.inbound import record_inbound, record_provider_status
from wagate.services.messages import outbound_hooks
from wagate.store.repos import messages as message_repo
from wagate.store.repos import tenants as tenant_repo
from wagate.store.repos import web as web_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.events import append_event
from wagate.store.tables import message_status_history, messages

log = logging.getLogger("wagate.web")

RECEIPT_STATUS = {1: Status.DELIVERED, 4: Status.READ, 6: Status.READ}
RECEIPT_REASON = {1: "delivered", 4: "read", 6: "played"}
DEFAULT_PHONE_OPERATOR = "phone"


async def _peer_phone(rt: Runtime, channel: ChannelRow, session: WebSession | None, jid_text: str) -> str | None:
    """E.164 digits for a chat or sender JID; LIDs through the map (and the device store)."""
    user, _, server = jid_text.partition("@")
    if server in ("", codec.USER_SERVER):
        return user if user.isdigit() else None
    if server != codec.LID_SERVER:
        return None
    known = await rt.db.read(lambda c: web_repo.phone_for_lid(c, channel.id, user))
    if known is not None:
        return known
    if session is not None:
        jid = await session.phone_for_lid(codec.make_jid(user, codec.LID_SERVER))
        phone = codec.phone_of(jid)
        if phone:
            await remember_lid(rt, channel, user, phone)
            return phone
    return None


async def remember_lid(rt: Runtime, channel: ChannelRow, lid: str, phone: str) -> None:
    now = rt.clock.now()
    await rt.db.write(lambda c: web_repo.remember_lid(c, channel.id, lid, phone, now))


async def _store_media(
    rt: Runtime, channel: ChannelRow, session: WebSession | None, incoming: codec.Incoming
) -> dict[str, Any]:
    payload = dict(incoming.payload)
    media = dict(payload.get("media") or {})
    if incoming.media is None:
        return payload
    try:
        if session is None:
            raise SessionError("no session to download with")
        content = await session.download(incoming.media)
        stored = await media_service.store(
            rt.settings, channel.tenant_id, content, media.get("mime_type"), media.get("filename")
        )
    except (SessionError, OSError) as exc:
        media["download_error"] = str(exc)[:300]
        log.warning("web media not downloaded", extra={"channel": channel.name, "error": str(exc)[:200]})
    else:
        media.update(
            url=media_service.media_url(rt.settings, stored.name),
            size=stored.size,
            mime_type=media.get("mime_type") or stored.mime_type,
            sha256=stored.sha256,
        )
    payload["media"] = media
    return payload


async def record_message(rt: Runtime, channel: ChannelRow, session: WebSession | None, event: Any) -> int | None:
    """Store one neonize ``Message`` event; the message id, or ``None`` when it is not stored."""
    incoming = codec.parse(event)
    if incoming.chat.endswith("@broadcast") or (incoming.type == "unsupported" and not incoming.payload):
        return None
    if incoming.from_me:
        if incoming.is_group:
            return None  # the phone writing in a group: not a client conversation
        chat_lid = codec.lid_of(event.Info.MessageSource.Chat)
        if chat_lid and incoming.chat_phone:
            await remember_lid(rt, channel, chat_lid, incoming.chat_phone)
        phone = incoming.chat_phone or await _peer_phone(rt, channel, session, incoming.chat)
    else:
        if incoming.sender_lid and incoming.sender_phone:
            await remember_lid(rt, channel, incoming.sender_lid, incoming.sender_phone)
        phone = incoming.sender_phone or await _peer_phone(rt, channel, session, incoming.sender)
    if phone is None:
        # A LID nobody has mapped yet: keep the message under the LID's digits, never drop it.
        unmapped = incoming.chat if incoming.from_me else (incoming.sender_lid or incoming.sender)
        phone = unmapped.partition("@")[0][:16]
    lid = incoming.sender_lid if not incoming.from_me else codec.lid_of(event.Info.MessageSource.Chat)
    payload = await _store_media(rt, channel, session, incoming)
    if lid:
        # The shape of the contract's identities; a web channel learns phones and LIDs only.
        payload["identities"] = {
            "phone": phone if phone != lid else None,
            "user_id": None,
            "parent_user_id": None,
            "username": None,
            "lid": lid,
        }
    if incoming.from_me:
        return await record_phone_message(rt, channel, phone, incoming, payload)
    result = await record_inbound(
        rt,
        channel,
        phone=phone,
        type=incoming.type,
        payload=payload,
        provider_id=incoming.provider_id,
        received_at=incoming.timestamp,
    )
    return result.message_id


async def record_phone_message(
    rt: Runtime, channel: ChannelRow, phone: str, incoming: codec.Incoming, payload: dict[str, Any]
) -> int | None:
    """A message typed on the linked phone: outbound, ``origin: "phone"``, already ``sent``."""
    now = rt.clock.now()
    at = incoming.timestamp or now
    operator = str(channel.settings.get("phone_operator") or DEFAULT_PHONE_OPERATOR)[:64]
    hooks = list(outbound_hooks(rt))

    def job(conn: Connection) -> int | None:
        if message_repo.find_by_provider_id(conn, incoming.provider_id, channel.id) is not None:
            return None  # our own send echoed back, or a repeat
        values: dict[str, Any] = {
            "tenant_id": channel.tenant_id,
            "channel_id": channel.id,
            "direction": Direction.OUT.value,
            "phone": phone,
            "type": incoming.type,
            "payload": payload,
            "status": Status.SENT.value,
            "provider_id": incoming.provider_id,
            "client_ref": None,
            "callback_url": None,
            "callback_data": None,
            "operator": operator,
            "origin": "phone",
            "campaign_id": None,
            "attempts": 0,
            "due_at": at,
            "expires_at": None,
            "created_at": at,
            "updated_at": now,
        }
        message_id = int(conn.execute(messages.insert().returning(messages.c.id), [values]).scalar_one())
        conn.execute(
            message_status_history.insert().values(
                message_id=message_id, status=Status.SENT.value, applied=True, at=now, reason="typed on the phone"
            )
        )
        full = conn.execute(messages.select().where(messages.c.id == message_id)).one()
        append_event(
            conn,
            tenant_id=channel.tenant_id,
            type="message.status",
            message_id=message_id,
            now=now,
            payload=message_repo.status_event_payload(full, channel.name, None, "typed on the phone"),
        )
        tenant = tenant_repo.get_tenant(conn, channel.tenant_id)
        if tenant is not None:
            for hook in hooks:
                hook(conn, rt, tenant, [(message_id, values)], at)
        return message_id

    message_id = await rt.db.write(job)
    if message_id is not None:
        rt.wakeup.notify()
    return message_id


async def record_receipt(rt: Runtime, channel: ChannelRow, event: Any) -> int:
    """Advance the messages a receipt names; how many it named that we know."""
    status = RECEIPT_STATUS.get(int(event.Type))
    if status is None:
        return 0
    known = 0
    for provider_id in event.MessageIDs:
        if await record_provider_status(
            rt, channel, provider_id=provider_id, status=status, reason=f"whatsapp: {RECEIPT_REASON[int(event.Type)]}"
        ):
            known += 1
    return known
