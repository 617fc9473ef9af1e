"""The Android device channel (kind ``device``): a phone running WhatsApp pulls its messages.

It owns the pull protocol (``/device/v1``, CONTRACT §8), device tokens and presence, and the
reading of forwarded WhatsApp notifications. The agent that drives the phone lives in
``wagate.agent``; on-phone automation apps speak the same protocol (docs/device.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from wagate.channels.device.channel import DeviceChannel, device_factory
from wagate.runtime import Runtime

__all__ = ["DeviceChannel", "device_factory", "device_plugin"]


async def device_plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Lifespan plug-in: mount the device doors and run the presence monitor."""
    from wagate.channels.device.api import management, protocol
    from wagate.channels.device.presence import PresenceMonitor

    app.include_router(protocol)
    app.include_router(management)
    monitor = PresenceMonitor(rt)
    await monitor.start()
    return monitor.stop
