"""The ``device`` channel kind: a phone (or emulator) running WhatsApp pulls its messages.

Nothing is pushed (the kind's ``Capabilities.push`` is False), so the dispatcher leaves the channel's queue to the
device protocol (``GET /device/v1/next`` claims through ``dispatch.claim.claim_next``, with
the same pacing, caps and rules). The kind is resend-safe: a device reports results keyed by
message id and the agent remembers what it already sent, so a lease that ran out (a phone
that went silent mid-send) is re-offered instead of being marked ``unknown``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from wagate.channels.backend import ChannelBackend
from wagate.channels.base import READY, ChannelConfig, OutgoingMessage, PhonePresence, Readiness, SendResult
from wagate.errors import ChannelError, SendError

#: Channel ``settings`` keys of a device channel, with their defaults.
DEFAULT_LEASE_SECONDS = 120.0
DEFAULT_POLL_SECONDS = 5.0
#: How long ``check_phone`` waits for a device's answer before saying "not checked yet".
CHECK_WAIT_SECONDS = 8.0
CHECK_POLL_SECONDS = 0.2


class PhoneCheckPending(ChannelError):
    """The question is queued for the channel's device, which has not answered yet: ask again."""

    default_code = "phone_check_pending"


def setting_seconds(settings: dict[str, Any], key: str, default: float) -> float:
    value = settings.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


class DeviceChannel:
    def __init__(self, config: ChannelConfig, rt: Any = None) -> None:
        self.config = config
        #: The runtime (``wagate.runtime.Runtime``): readiness and checks read the database.
        self.rt = rt
        #: How long a phone check waits for the device (``settings.check_wait_s``).
        self.check_wait = setting_seconds(config.settings, "check_wait_s", CHECK_WAIT_SECONDS)

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

    async def can_send_now(self) -> Readiness:
        """Ready while a device of the channel is online: it called within ``offline_after_s``."""
        from wagate.store.repos import devices as device_repo

        if self.rt is None:
            return Readiness(False, "device_offline")
        now = self.rt.clock.now()
        limit = timedelta(seconds=device_repo.offline_after(self.config.settings))
        rows = await self.rt.db.read(lambda c: device_repo.list_devices(c, self.config.id))
        online = any(
            r.status == device_repo.ONLINE and r.last_seen_at is not None and r.last_seen_at + limit > now for r in rows
        )
        return READY if online else Readiness(False, "device_offline")

    async def check_phone(self, phone: str) -> PhonePresence:
        """Ask the channel's device: a job is queued (or the open one joined), the device opens the
        chat link when its pacing allows and reports. Waits up to ``check_wait`` seconds for the
        answer; raises ``PhoneCheckPending`` when it has not come yet (the job stays queued, so
        asking again later finds the answer in the cache)."""
        from wagate.store.repos import phone_checks

        if self.rt is None:
            return "unknown"
        rt, channel = self.rt, self.config
        now = rt.clock.now()
        job_id = await rt.db.write(lambda c: phone_checks.request(c, channel.tenant_id, channel.id, phone, now))
        rt.wakeup.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.check_wait
        while True:
            job = await rt.db.read(lambda c: phone_checks.get(c, job_id))
            if job is not None and job.status == phone_checks.DONE and job.result in phone_checks.RESULTS:
                return str(job.result)
            if loop.time() >= deadline:
                raise PhoneCheckPending(
                    f"the channel's device has not checked the number yet (job {job_id}); ask again", field="phone"
                )
            await asyncio.sleep(CHECK_POLL_SECONDS)


def device_factory(config: ChannelConfig, backend: ChannelBackend) -> DeviceChannel:
    """Device presence and phone-check answers are read from the node's database: the gateway's
    backend carries the runtime (``GatewayBackend.runtime``); a listed exception of the layer test."""
    return DeviceChannel(config, getattr(backend, "runtime", None))
