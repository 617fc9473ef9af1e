"""The ``device`` channel kind: a phone (or emulator) running WhatsApp pulls its messages.

Nothing is pushed (the kind's ``Capabilities.push`` is False), so the dispatcher leaves the channel's queue to the
device protocol (``GET /device/v1/next`` claims through ``dispatch.claim.claim_next``, with
the same pacing, caps and rules). The kind is resend-safe: a device reports results keyed by
message id and the agent remembers what it already sent, so a lease that ran out (a phone
that went silent mid-send) is re-offered instead of being marked ``unknown``.
"""

from __future__ import annotations

from typing import Any

from wagate.channels.backend import ChannelBackend
from wagate.channels.base import ChannelConfig, OutgoingMessage, PhonePresence, SendResult
from wagate.errors import SendError

#: Channel ``settings`` keys of a device channel, with their defaults.
DEFAULT_LEASE_SECONDS = 120.0
DEFAULT_POLL_SECONDS = 5.0


def setting_seconds(settings: dict[str, Any], key: str, default: float) -> float:
    value = settings.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


class DeviceChannel:
    def __init__(self, config: ChannelConfig) -> None:
        self.config = config

    @property
    def lease_seconds(self) -> float:
        """How long a device holds a message before it goes back to the queue (``settings.lease_seconds``)."""
        return setting_seconds(self.config.settings, "lease_seconds", DEFAULT_LEASE_SECONDS)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Never called by the dispatcher (the kind pulls); a caller that tries is told to wait for the device."""
        raise SendError(
            "device channels are pulled by their devices (GET /device/v1/next)",
            code="pull_channel",
            retryable=True,
        )

    async def check_phone(self, phone: str) -> PhonePresence:
        """A phone can only tell by trying to send; answers come from results (``not_on_whatsapp``)."""
        return "unknown"


def device_factory(config: ChannelConfig, _backend: ChannelBackend) -> DeviceChannel:
    return DeviceChannel(config)
