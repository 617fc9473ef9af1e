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

from wagate.channels.web.channel import WebChannel, prepare_web_settings, web_factory
from wagate.channels.web.plugin import web_plugin

__all__ = ["WebChannel", "prepare_web_settings", "web_factory", "web_plugin"]
