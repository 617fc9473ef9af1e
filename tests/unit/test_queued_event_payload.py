"""The accept path's shortcut for a queued message's event body equals the general formatter's."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from wagate.domain.messages import MessageType, OutboundMessage
from wagate.store.repos.messages import outbound_row, queued_event_payload, status_event_payload


def test_queued_event_payload_matches_status_event_payload() -> None:
    now = datetime(2026, 11, 26, 12, 30, 5, 123456, tzinfo=UTC)
    message = OutboundMessage(
        phone="79001234567",
        type=MessageType.TEXT,
        channel="main",
        payload={"text": "hi"},
        validity_seconds=60,
        callback_url="https://crm.example/cb",
        callback_data="deal-7",
        operator="anna",
        client_ref="c-1",
        origin="api",
    )
    values = outbound_row(3, 9, message, now)
    row = SimpleNamespace(**values, id=41, error_code=None, error_message=None, provider_id=None)
    assert queued_event_payload(41, values, "main", "accepted", now.isoformat()) == status_event_payload(
        row, "main", None, "accepted"
    )
