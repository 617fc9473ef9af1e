"""The ``web`` channel kind: the company's existing WhatsApp number linked as a companion device.

Like WhatsApp Web, the gateway becomes one of the number's linked devices (QR code or pairing
code), through neonize (Python bindings of whatsmeow). neonize is imported only in this
package, and only by ``library``; everything else speaks to the ``WebSession`` protocol, whose
fake (``fake.FakeWhatsApp``) the tests use.

* ``channel`` — ``WebChannel``: sends (text, media, location, contacts, reactions, replies).
* ``supervisor`` — one session's states, reconnects and event handling.
* ``manager`` — the node's sessions and their database leases (one node per session).
* ``recorder`` — inbound messages, messages typed on the phone, receipts.
* ``codec`` — neonize protobufs ↔ wagate payloads. ``api`` — the session endpoints.
"""

from __future__ import annotations

from wagate.channels.kind import Capabilities, ChannelKind
from wagate.channels.web.channel import WebChannel, prepare_web_settings, web_factory
from wagate.channels.web.plugin import web_plugin
from wagate.domain.channels import RELAXED_POLICY
from wagate.domain.pacing import UNOFFICIAL_PACING

__all__ = ["KIND", "WebChannel", "prepare_web_settings", "web_factory", "web_plugin"]

#: The kind's descriptor (docs/architecture.md, "Adding a channel kind"). Its session endpoints and
#: session keeper are still started by ``web_plugin`` (wagate.node).
KIND = ChannelKind(
    name="web",
    factory=web_factory,
    capabilities=Capabilities(push=True, resend_safe=False, holds_session=True),
    # The random 5–12 s pause of the hosted services, and the anti-ban rules: an unofficial route.
    pacing=UNOFFICIAL_PACING,
    policy=RELAXED_POLICY,
    prepare_settings=prepare_web_settings,
    tables=("web_sessions",),
    description="the company's WhatsApp number linked as a companion device (WhatsApp Web)",
)
