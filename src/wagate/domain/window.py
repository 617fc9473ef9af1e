"""The customer service window: 24 hours from the client's last message to us.

Within it a business may answer with any (free-form) message; outside it, only an approved
template may start the conversation again (Cloud API error 131047, Devino's 2312).
The window belongs to one business number, so it is computed per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ServiceWindow:
    open: bool
    last_inbound_at: datetime | None
    closes_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "open": self.open,
            "last_inbound_at": self.last_inbound_at.isoformat() if self.last_inbound_at else None,
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
        }


def window_at(last_inbound_at: datetime | None, now: datetime) -> ServiceWindow:
    """The window as it stands at ``now``. It closes exactly 24 h after the last inbound message."""
    if last_inbound_at is None:
        return ServiceWindow(open=False, last_inbound_at=None, closes_at=None)
    closes = last_inbound_at + WINDOW
    return ServiceWindow(open=now < closes, last_inbound_at=last_inbound_at, closes_at=closes)
