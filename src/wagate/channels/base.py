"""The seam between the dispatcher and the outside world.

A channel turns a stored message into a provider call and reports what happened. It
knows nothing about the queue: the dispatcher claims, paces and retries; the channel
speaks one provider's protocol. ``SendError.retryable`` is the channel's word on
whether trying again can help.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from wagate.errors import SendError

__all__ = [
    "Channel",
    "ChannelConfig",
    "Gated",
    "OutgoingMessage",
    "PhonePresence",
    "SendError",
    "SendResult",
    "warn_if_lease_shorter",
]

log = logging.getLogger("wagate.channels")


def warn_if_lease_shorter(channel: str, send_timeout: float, lease_seconds: float | None) -> bool:
    """Log a warning when a send may outlive its claim's lease; returns True if it warned.

    A lease that runs out while the channel still waits for the provider is recovered as an
    expired claim: the message turns ``unknown`` although its send may still succeed.
    """
    if lease_seconds is None or send_timeout < lease_seconds:
        return False
    log.warning(
        "channel %s: a send may take %.0f s but a claim's lease is %.0f s (WAGATE_LEASE_SECONDS); "
        "sends still waiting when the lease runs out become unknown: lower the channel's timeout "
        "or raise the lease",
        channel,
        send_timeout,
        lease_seconds,
        extra={"channel": channel, "send_timeout": send_timeout, "lease_seconds": lease_seconds},
    )
    return True


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """What a channel instance is built from: its row in ``channels``."""

    id: int
    tenant_id: int
    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    pacing: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A claimed message as a channel sees it."""

    id: int
    tenant_id: int
    phone: str
    type: str
    payload: dict[str, Any]
    attempt: int
    client_ref: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """Accepted by the provider; ``provider_id`` links later status callbacks to the message."""

    provider_id: str | None
    status: str = "sent"


PhonePresence = str  # "exists" | "none" | "unknown"


@runtime_checkable
class Channel(Protocol):
    """One delivery route. Implementations are registered by kind in ``registry``."""

    kind: ClassVar[str]
    #: True when the dispatcher pushes messages through ``send``; False for channels whose
    #: devices pull work themselves (the device channel).
    push: ClassVar[bool]
    #: True when re-sending a message whose fate is unknown cannot duplicate it (results keyed
    #: by message id); False for providers without idempotency (the Cloud API).
    resend_safe: ClassVar[bool]

    config: ChannelConfig

    async def start(self) -> None:
        """Open connections; called once before the first send."""

    async def close(self) -> None:
        """Release connections."""

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Hand the message to the provider or raise ``SendError``."""
        ...

    async def check_phone(self, phone: str) -> PhonePresence:
        """Whether ``phone`` is on WhatsApp, where the provider can tell; ``unknown`` otherwise."""
        ...


@runtime_checkable
class Gated(Protocol):
    """A push channel that can be temporarily unable to send (a web session not connected).

    While ``accepting()`` is False the dispatcher claims nothing from it: its messages stay
    ``queued`` (validity still applies) instead of spending their attempts on errors.
    """

    def accepting(self) -> bool: ...
