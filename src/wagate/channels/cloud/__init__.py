"""The ``cloud`` channel: Meta's WhatsApp Cloud API (Graph API), and the built-in sandbox that imitates it.

``client`` speaks HTTP, ``payloads`` shapes outgoing bodies, ``errors`` says what a Graph
error means, ``webhook`` checks signatures and parses events, ``channel`` is the
``Channel`` implementation, ``receiver`` the webhook endpoint, ``plugin`` wires them into a node.
"""

from __future__ import annotations

from typing import Any

from wagate.channels.base import Channel, ChannelConfig


def cloud_factory(config: ChannelConfig, context: Any) -> Channel:
    from wagate.channels.cloud.channel import CloudChannel

    return CloudChannel(config, context)


def prepare_cloud_settings(settings: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validation and encryption at rest of a cloud channel's settings (``context`` is the runtime)."""
    from wagate.channels.cloud.settings import prepare_settings

    return prepare_settings(settings, context.secret_box)
