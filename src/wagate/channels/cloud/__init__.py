"""The ``cloud`` channel: Meta's WhatsApp Cloud API (Graph API), and the built-in sandbox that imitates it.

``client`` speaks HTTP, ``payloads`` shapes outgoing bodies, ``errors`` says what a Graph
error means, ``webhook`` checks signatures and parses events, ``channel`` is the
``Channel`` implementation, ``receiver`` the webhook endpoint and the sweeper of statuses that
arrive early. ``KIND`` describes the kind to the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from wagate.channels.backend import ChannelBackend
from wagate.channels.base import Channel, ChannelConfig
from wagate.channels.cloud.settings import SECRET_FIELDS, prepare_settings
from wagate.channels.kind import Capabilities, ChannelKind, KindService
from wagate.crypto import SecretBox
from wagate.domain.channels import STRICT_POLICY
from wagate.domain.pacing import PROVIDER_PACING

if TYPE_CHECKING:
    from wagate.runtime import Runtime

__all__ = ["KIND", "NAME", "cloud_factory", "is_cloud", "prepare_cloud_settings"]

NAME = "cloud"


def cloud_factory(config: ChannelConfig, backend: ChannelBackend) -> Channel:
    from wagate.channels.cloud.channel import CloudChannel

    return CloudChannel(config, backend)


def prepare_cloud_settings(settings: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    """Validation and encryption at rest of a cloud channel's settings."""
    return prepare_settings(settings, box)


def is_cloud(kind: str) -> bool:
    """Whether a channel of ``kind`` speaks the Cloud API (the sandbox asks this of its channel)."""
    return kind == NAME


def _routers() -> Sequence[APIRouter]:
    from wagate.channels.cloud.receiver import router

    return [router]


def _sweeper(rt: Runtime) -> KindService:
    from wagate.channels.cloud.receiver import PendingStatusSweeper

    return PendingStatusSweeper(rt)


def _template_syncer(rt: Runtime) -> KindService:
    from wagate.channels.cloud.template_sync import TemplateSyncer

    return TemplateSyncer(rt)


KIND = ChannelKind(
    name=NAME,
    factory=cloud_factory,
    capabilities=Capabilities(
        push=True,
        # The Cloud API has no idempotency key: a resend after an unknown outcome may duplicate.
        resend_safe=False,
        provider_templates=True,
        read_receipts=True,
        phone_check=True,
    ),
    # Meta's default throughput is 80 messages/s per number; the 24-hour window and opt-in hold.
    pacing=PROVIDER_PACING,
    policy=STRICT_POLICY,
    secret_fields=SECRET_FIELDS,
    prepare_settings=prepare_cloud_settings,
    routers=_routers,
    services=(_sweeper, _template_syncer),
    tables=("cloud_pending_statuses",),
    description="Meta's WhatsApp Cloud API (or the built-in sandbox)",
)
