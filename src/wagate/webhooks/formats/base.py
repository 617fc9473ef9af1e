"""What every format sees, and the dispatch from a format name to its renderer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """One outbox row, as formats need it."""

    id: int
    tenant_id: int
    type: str
    message_id: int | None
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Rendered:
    body: str
    content_type: str = "application/json"


def wants(fmt: str, event_type: str, payload: dict[str, Any]) -> bool:
    """Whether a target in ``fmt`` gets this event at all (decided once, at fan-out)."""
    if fmt == "devino":
        from wagate.webhooks.formats import devino

        return devino.wants(event_type, payload)
    return True


def render(fmt: str, event: Event, channel_address: str | None = None) -> Rendered:
    """The exact body to sign and send. ``channel_address``: the business number or channel name."""
    if fmt == "devino":
        from wagate.webhooks.formats import devino

        return devino.render(event, channel_address)
    from wagate.webhooks.formats import native

    return native.render(event)
