"""Conversations: one per channel × client phone, and how messages move them. Pure, no I/O.

States:

* ``waiting`` — the client wrote and no operator has answered yet (``awaiting_since`` is the
  first unanswered client message: what the inbox's wait clock and the analytics run from);
* ``open`` — the last client message is answered, or an operator wrote first;
* ``closed`` — an operator closed it; the client's next message reopens it as ``waiting``.

What moves them (``store.repos.conversations`` applies it atomically in SQL):

=========================  =====================================================================
event                       effect
=========================  =====================================================================
client message              state ``waiting``; ``unread`` + 1; ``awaiting_since`` set if unset
client reaction             ``unread`` + 1 only (nothing to answer)
operator reply              state ``open``; ``awaiting_since`` cleared; ``unread`` 0; created if new
automated outbound          nothing (no operator: notifications, campaigns, bots)
operator opens it           ``unread`` 0
close / reopen              ``closed`` / ``waiting`` if a client message is unanswered, else ``open``
=========================  =====================================================================
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from wagate.errors import ValidationError

PREVIEW_LENGTH = 200


class State(StrEnum):
    WAITING = "waiting"
    OPEN = "open"
    CLOSED = "closed"


#: Inbox filters: ``mine`` and ``unassigned`` leave closed conversations out; ``all`` keeps them.
FILTERS = ("all", "mine", "unassigned", "waiting", "closed")


def check_filter(value: object, *, has_user: bool) -> str:
    name = value or "all"
    if name not in FILTERS:
        raise ValidationError(f"filter must be one of {', '.join(FILTERS)}", field="filter")
    if name == "mine" and not has_user:
        raise ValidationError(
            "filter=mine needs a signed-in dashboard user; API callers pass assignee=LOGIN", field="filter"
        )
    return str(name)


def is_reaction(payload: dict[str, Any]) -> bool:
    return "reaction" in payload and not payload.get("text")


def preview(message_type: str, payload: dict[str, Any]) -> str:
    """A one-line summary of a message for the inbox list (never HTML: templates escape it)."""
    text = payload.get("text")
    if isinstance(text, str) and text.strip():
        return " ".join(text.split())[:PREVIEW_LENGTH]
    media = payload.get("media")
    if isinstance(media, dict):
        caption = media.get("caption") or media.get("filename") or ""
        return f"[{message_type}] {caption}".strip()[:PREVIEW_LENGTH]
    if isinstance(payload.get("reaction"), dict):
        return f"[reaction] {payload['reaction'].get('emoji') or ''}".strip()
    location = payload.get("location")
    if isinstance(location, dict):
        return f"[location] {location.get('name') or ''}".strip()[:PREVIEW_LENGTH]
    if payload.get("contacts"):
        return "[contacts]"
    return f"[{message_type}]"
