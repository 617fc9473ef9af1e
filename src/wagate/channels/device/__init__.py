"""The Android device channel (kind ``device``): a phone running WhatsApp pulls its messages.

It owns the pull protocol (``/device/v1``, docs/device.md), device tokens and presence, and the
reading of forwarded WhatsApp notifications. The agent that drives the phone lives in
``wagate.agent``; on-phone automation apps speak the same protocol (docs/device.md).
``KIND`` describes the kind to the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi import APIRouter

from wagate.channels.device.channel import DeviceChannel, device_factory
from wagate.channels.kind import Capabilities, ChannelKind, KindService
from wagate.domain.channels import RELAXED_POLICY
from wagate.domain.pacing import UNOFFICIAL_PACING

if TYPE_CHECKING:
    from wagate.runtime import Runtime

__all__ = ["KIND", "DeviceChannel", "device_factory"]


def _routers() -> Sequence[APIRouter]:
    from wagate.channels.device.api import management, protocol

    return [protocol, management]


def _state(rt: Runtime) -> KindService:
    from wagate.channels.device.service import DeviceState

    return DeviceState(rt)


def _presence_monitor(rt: Runtime) -> KindService:
    from wagate.channels.device.presence import PresenceMonitor

    return PresenceMonitor(rt)


KIND = ChannelKind(
    name="device",
    factory=device_factory,
    capabilities=Capabilities(
        # The phone pulls its work (GET /device/v1/next); the dispatcher never pushes.
        push=False,
        # A device reports results keyed by message id and the agent remembers what it sent, so
        # a lease that ran out (a phone that went silent mid-send) is offered again.
        resend_safe=True,
        groups=True,
        holds_session=True,
    ),
    # The random 5–12 s pause of the hosted services, and the anti-ban rules.
    pacing=UNOFFICIAL_PACING,
    policy=RELAXED_POLICY,
    routers=_routers,
    services=(_state, _presence_monitor),
    tables=("devices", "device_notifications"),
    description="an Android phone running WhatsApp that pulls its messages (wagate agent)",
)
