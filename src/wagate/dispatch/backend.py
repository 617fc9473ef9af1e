"""``GatewayBackend``: the gateway's side of the channel seam (``wagate.channels.backend``).

Every call goes through the same services the rest of the gateway uses (``services.inbound``
for inbound messages and provider statuses, ``dispatch.claim`` for pull channels, the media
store, the phone-check cache), so a channel kind cannot bypass an invariant by accident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from wagate.channels.backend import ClaimedMessage, ContactInfo, InboundRecord, Media, MessageRef, SessionState
from wagate.channels.base import Channel, ChannelConfig, PhonePresence, SendResult
from wagate.clock import Clock
from wagate.dispatch import claim as claiming
from wagate.domain.records import ChannelRow
from wagate.domain.statuses import Status
from wagate.errors import NotFoundError, SendError
from wagate.outbound import OutboundPolicy
from wagate.runtime import Runtime, config_of
from wagate.services import inbound
from wagate.services import media as media_service
from wagate.store.repos import channels as channel_repo
from wagate.store.repos import contacts as contact_repo
from wagate.store.repos import messages as message_repo

log = logging.getLogger("wagate.channels")
T = TypeVar("T")

#: How long a phone's presence proved by a send or an event is trusted (``GET /v1/phones``).
PRESENCE_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SessionReport:
    """The last session state a channel reported, and when."""

    state: SessionState
    detail: str | None
    at: datetime


class GatewayBackend:
    """``ChannelBackend`` over a node's runtime (one per node, shared by its channels)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        #: Session states reported by session-holding channels, by channel id.
        self.sessions: dict[int, SessionReport] = {}

    @property
    def clock(self) -> Clock:
        return self._rt.clock

    @property
    def runtime(self) -> Runtime:
        """The node's runtime, for the kinds not yet on the narrow seam (the device kind's presence
        and phone-check reads); see the layer test's listed exceptions."""
        return self._rt

    @property
    def lease_seconds(self) -> float:
        return self._rt.settings.lease_seconds

    @property
    def outbound_policy(self) -> OutboundPolicy:
        settings = self._rt.settings
        return OutboundPolicy(settings.media_allow_private, settings.media_allow_loopback)

    def decrypt(self, value: str) -> str:
        return self._rt.secret_box.decrypt(value)

    async def _row(self, channel: ChannelConfig) -> ChannelRow:
        rows = await self._rt.channels_of(channel.tenant_id)
        row = rows.get(channel.name)
        if row is None or row.id != channel.id:
            row = (await self._rt.channels_of(channel.tenant_id, fresh=True)).get(channel.name)
        if row is None or row.id != channel.id:
            raise NotFoundError(f"channel {channel.name!r} no longer exists", field="channel")
        return row

    async def record_inbound(
        self,
        channel: ChannelConfig,
        *,
        phone: str,
        type: str,
        payload: dict[str, Any],
        provider_id: str | None,
        received_at: datetime | None = None,
    ) -> InboundRecord:
        row = await self._row(channel)
        result = await inbound.record_inbound(
            self._rt, row, phone=phone, type=type, payload=payload, provider_id=provider_id, received_at=received_at
        )
        return InboundRecord(result.message_id, result.created)

    async def record_status(
        self,
        channel: ChannelConfig,
        *,
        provider_id: str,
        status: Status,
        error_code: str | None = None,
        error_message: str | None = None,
        reason: str | None = None,
    ) -> bool:
        row = await self._row(channel)
        return await inbound.record_provider_status(
            self._rt,
            row,
            provider_id=provider_id,
            status=status,
            error_code=error_code,
            error_message=error_message,
            reason=reason,
        )

    async def store_media(
        self, tenant_id: int, content: bytes, mime_type: str | None, filename: str | None = None
    ) -> Media:
        stored = await media_service.store(self._rt.settings, tenant_id, content, mime_type, filename)
        return Media(
            name=stored.name,
            url=media_service.media_url(self._rt.settings, stored.name),
            mime_type=stored.mime_type,
            size=stored.size,
            sha256=stored.sha256,
        )

    def local_media(self, url: str) -> str | None:
        return media_service.local_name_for_url(self._rt.settings, url)

    async def read_media(self, tenant_id: int, name: str) -> bytes | None:
        return await media_service.read(self._rt.settings, tenant_id, name)

    async def claim(self, channel: ChannelConfig, owner: str, lease_seconds: float) -> ClaimedMessage | None:
        row = await self._row(channel)
        claimed = await claiming.claim_next(self._rt, row, owner, lease_seconds)
        if claimed is None:
            return None
        self._rt.wakeup.notify()  # the dispatcher's housekeeping now has a lease deadline to watch
        return ClaimedMessage(claiming.outgoing(claimed), claimed.lease_expires_at)

    async def next_claim_at(self, channel: ChannelConfig) -> datetime | None:
        return await claiming.next_slot(self._rt, await self._row(channel))

    async def complete(
        self, channel: ChannelConfig, message_id: int, attempt: int, answer: SendResult | SendError
    ) -> None:
        row = await self._row(channel)
        resend_safe = self._rt.registry.capabilities(row.kind).resend_safe
        result = claiming.AttemptResult(message_id, attempt, answer)
        await claiming.complete(self._rt, row, [result], resend_safe=resend_safe)

    async def report_phone(self, channel: ChannelConfig, phone: str, presence: PhonePresence) -> None:
        if presence not in ("exists", "none"):
            return
        now = self._rt.clock.now()
        source = channel.name[:32]
        try:
            await self._rt.db.write(
                lambda c: contact_repo.record_phone_check(
                    c, channel.tenant_id, phone, presence, source, now, now + PRESENCE_TTL
                )
            )
        except Exception:  # a cache: losing one answer must never fail the send or the webhook
            log.warning("could not record a phone check", extra={"channel": channel.name}, exc_info=True)

    async def report_session(self, channel: ChannelConfig, state: SessionState, detail: str | None = None) -> None:
        previous = self.sessions.get(channel.id)
        self.sessions[channel.id] = SessionReport(state, detail, self._rt.clock.now())
        if previous is None or previous.state != state:
            log.info("channel session %s", state, extra={"channel": channel.name, "detail": detail})

    async def find_contact(self, tenant_id: int, phone: str) -> ContactInfo | None:
        row = await self._rt.db.read(lambda c: contact_repo.get_contact(c, tenant_id, phone))
        if row is None:
            return None
        return ContactInfo(phone=str(row.phone), name=row.name)

    async def message(self, tenant_id: int, message_id: int) -> MessageRef | None:
        row = await self._rt.db.read(lambda c: message_repo.get_message(c, tenant_id, message_id))
        if row is None:
            return None
        payload = row.payload if isinstance(row.payload, dict) else {}
        return MessageRef(int(row.id), str(row.direction), str(row.phone), row.provider_id, payload)

    def service(self, cls: type[T]) -> T | None:
        return self._rt.kind_service(cls) or self._rt.components.find(cls)

    async def channels_of_kind(self, kind: str) -> list[ChannelConfig]:
        rows = await self._rt.db.read(channel_repo.list_channels)
        return [config_of(row) for row in rows if row.kind == kind]

    async def channel_instance(self, channel: ChannelConfig) -> Channel:
        return await self._rt.channel_instance(await self._row(channel))
