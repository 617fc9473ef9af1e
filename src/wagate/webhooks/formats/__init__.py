"""Webhook bodies. ``render(format, event)`` gives the exact text to sign and send, or ``None``
when the format has nothing to say about that event (the Devino dialect has no ``queued``)."""

from __future__ import annotations

from wagate.webhooks.formats.base import Event, Rendered, render, wants

__all__ = ["Event", "Rendered", "render", "wants"]
