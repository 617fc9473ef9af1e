"""``ChannelBackend``: everything a channel may ask of the gateway, and nothing more.

A channel kind receives one backend when the gateway builds its instances (and when it starts
its background services). It never sees the runtime, the store, the dispatcher or the API: it
reports what the provider said through these calls, and the gateway keeps its invariants
(deduplication, the status state machine, events, conversations, policy) behind them. Each
call that records something commits before it returns, so a channel may acknowledge the
provider afterwards (persist before you acknowledge).

The implementation is ``wagate.services.backend.GatewayBackend``; tests of a channel may use
that same implementation over a real database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, TypeVar

from fastapi import Depends, Request

from wagate.channels.base import Channel, ChannelConfig, OutgoingMessage, PhonePresence, SendResult
from wagate.clock import Clock
from wagate.domain.statuses import Status
from wagate.errors import SendError
from wagate.outbound import OutboundPolicy

__all__ = [
    "BackendDep",
    "ChannelBackend",
    "ClaimedMessage",
    "ContactInfo",
    "InboundRecord",
    "Media",
    "MessageRef",
    "SessionState",
]

T = TypeVar("T")

#: What a channel that holds a session (a logged-in WhatsApp Web client, a phone) reports.
SessionState = Literal["connected", "connecting", "disconnected", "logged_out"]


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """The stored inbound message: its id, and whether this call created it (False: a duplicate)."""

    message_id: int
    created: bool


@dataclass(frozen=True, slots=True)
class Media:
    """A file the gateway keeps for a tenant; ``url`` is where API callers fetch it."""

    name: str
    url: str
    mime_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ContactInfo:
    """What the gateway knows about a tenant's contact."""

    phone: str
    name: str | None


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A stored message as a channel may need it (to quote it in a reply, to react to it)."""

    id: int
    direction: str
    phone: str
    provider_id: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A message leased to a pull channel's client: send it, then ``complete`` it."""

    message: OutgoingMessage
    lease_expires_at: datetime | None


class ChannelBackend(Protocol):
    """The gateway as a channel sees it (see the module docstring)."""

    @property
    def clock(self) -> Clock:
        """The node's clock: channels never read the system time themselves."""
        ...

    @property
    def lease_seconds(self) -> float:
        """How long a claim's lease lasts (``WAGATE_LEASE_SECONDS``): a send should finish sooner."""
        ...

    @property
    def outbound_policy(self) -> OutboundPolicy:
        """Which addresses a channel may fetch media from (``WAGATE_MEDIA_ALLOW_*``, docs/operations.md)."""
        ...

    def decrypt(self, value: str) -> str:
        """A setting stored encrypted at rest (``prepare_settings`` encrypted it) in clear."""
        ...

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
        """A client wrote: store it once per ``provider_id`` with its event and every inbound rule."""
        ...

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
        """The provider moved a message's status; False when no message has ``provider_id``."""
        ...

    async def store_media(
        self, tenant_id: int, content: bytes, mime_type: str | None, filename: str | None = None
    ) -> Media:
        """Keep a file (inbound media) for the tenant."""
        ...

    def local_media(self, url: str) -> str | None:
        """The name of a file this gateway keeps, when ``url`` points at one (its own media URL)."""
        ...

    async def read_media(self, tenant_id: int, name: str) -> bytes | None:
        """The content of the tenant's kept file ``name``; None when there is none."""
        ...

    async def claim(self, channel: ChannelConfig, owner: str, lease_seconds: float) -> ClaimedMessage | None:
        """Pull channels: lease the next message its pacing allows now, or None."""
        ...

    async def next_claim_at(self, channel: ChannelConfig) -> datetime | None:
        """Pull channels: when ``claim`` could next succeed (None: nothing is queued)."""
        ...

    async def complete(
        self, channel: ChannelConfig, message_id: int, attempt: int, answer: SendResult | SendError
    ) -> None:
        """Pull channels: what the client answered for a leased message (sent, retry, failed)."""
        ...

    async def report_phone(self, channel: ChannelConfig, phone: str, presence: PhonePresence) -> None:
        """Remember what a send or a provider event proved about a number (a cache: never raises)."""
        ...

    async def report_session(self, channel: ChannelConfig, state: SessionState, detail: str | None = None) -> None:
        """A session-holding channel's connection changed (shown to operators, in the channel status)."""
        ...

    async def find_contact(self, tenant_id: int, phone: str) -> ContactInfo | None:
        """The tenant's contact for ``phone``, if any."""
        ...

    async def message(self, tenant_id: int, message_id: int) -> MessageRef | None:
        """One of the tenant's stored messages (a reply's or a reaction's target)."""
        ...

    def service(self, cls: type[T]) -> T | None:
        """This node's running object of class ``cls`` that the kind started (a session keeper)."""
        ...

    async def channels_of_kind(self, kind: str) -> list[ChannelConfig]:
        """Every channel of ``kind`` (all tenants): a receiver finds its channel by its own settings."""
        ...

    async def channel_instance(self, channel: ChannelConfig) -> Channel:
        """The live instance of a channel (built by its kind's factory), e.g. to check a signature."""
        ...


def backend_of(request: Request) -> ChannelBackend:
    """The node's backend, for a kind's own routes (``ChannelKind.routers``)."""
    backend: ChannelBackend = request.app.state.channel_backend
    return backend


#: A kind's route takes ``backend: BackendDep`` to reach the gateway.
BackendDep = Annotated[ChannelBackend, Depends(backend_of)]
