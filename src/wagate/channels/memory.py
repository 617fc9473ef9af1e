"""An in-memory channel: a real implementation of ``Channel`` for tests and benchmarks.

It records every send, can be told to fail (transiently or permanently) for chosen
numbers, and to take time, so dispatcher behaviour is testable without a network.
Registered as kind ``memory`` only in registries built for tests.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import ClassVar

from wagate.channels.base import ChannelConfig, OutgoingMessage, PhonePresence, SendResult
from wagate.errors import SendError


class MemoryChannel:
    kind: ClassVar[str] = "memory"
    push: ClassVar[bool] = True
    resend_safe: ClassVar[bool] = False

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.sent: list[OutgoingMessage] = []
        self.counts: Counter[int] = Counter()
        self.delay = float(config.settings.get("delay", 0.0))
        self.fail_permanent: set[str] = set(config.settings.get("fail_permanent", []))
        self.fail_transient: dict[str, int] = dict(config.settings.get("fail_transient", {}))
        #: phone → seconds: the first send to it answers "channel throughput exceeded" with that pause.
        self.throttle_once: dict[str, float] = dict(config.settings.get("throttle_once", {}))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self.delay:
            await asyncio.sleep(self.delay)
        if message.phone in self.fail_permanent:
            raise SendError("recipient refused", code="recipient_refused", retryable=False)
        pause = self.throttle_once.pop(message.phone, None)
        if pause is not None:
            raise SendError(
                "throughput exceeded", code="rate_limited", retryable=True, retry_after=pause, throttle_channel=True
            )
        remaining = self.fail_transient.get(message.phone, 0)
        if remaining > 0:
            self.fail_transient[message.phone] = remaining - 1
            raise SendError("temporary failure", code="temporary", retryable=True)
        self.sent.append(message)
        self.counts[message.id] += 1
        return SendResult(provider_id=f"mem-{self.config.id}-{message.id}")

    async def check_phone(self, phone: str) -> PhonePresence:
        return "none" if phone.endswith("0000") else "exists"
