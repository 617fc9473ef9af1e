"""The native body: a Standard Webhooks style envelope around the outbox event.

``{"id": "evt_42", "type": "message.status", "timestamp": "2026-01-01T12:00:00+00:00", "data": {...}}``
— ``id`` equals the ``webhook-id`` header and the ``GET /v1/events`` item id, so a receiver that
also pulls the feed dedupes both on one key. ``data`` is the event payload as stored.
"""

from __future__ import annotations

from typing import Any

import orjson

from wagate.webhooks.formats.base import Event, Rendered
from wagate.webhooks.signer import webhook_id


def envelope(event: Event) -> dict[str, Any]:
    return {
        "id": webhook_id(event.id),
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": event.payload,
    }


def render(event: Event) -> Rendered:
    return Rendered(orjson.dumps(envelope(event)).decode())
