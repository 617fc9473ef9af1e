"""Why a queued message has not left yet, and until when: the pacing rules read back for one message.

Pacing decides *when* by moving a message's due time or holding the whole channel; the queue
records only the outcome. A user who sends three messages to one test number and sees the third
wait six seconds deserves the rule's name, not silence, so this module replays the same pure rules
(``domain.pacing``) against the same recorded facts and names the first one that holds the message.
It decides nothing: the dispatcher's claim stays the only authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from wagate.domain.pacing import DayFacts, Hold, PacingRules, PacingState, channel_slot, next_day_start

__all__ = ["MessageFacts", "Wait", "why_waiting"]

#: Machine-readable codes of ``Hold`` (the enum's values are the human texts).
HOLD_CODES: dict[Hold, str] = {
    Hold.DAILY_CAP: "daily_cap",
    Hold.RATE: "rate_limit",
    Hold.INTERVAL: "pause_between_sends",
    Hold.RECIPIENT: "recipient_spacing",
    Hold.NEW_CONTACTS: "new_contacts_cap",
}


@dataclass(frozen=True, slots=True)
class Wait:
    """``reason`` is a stable code, ``message`` says it in words, ``until`` is when it may go (if known)."""

    reason: str
    message: str
    until: datetime | None


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What is recorded about one queued message and its recipient."""

    due_at: datetime
    attempts: int
    last_sent_to_phone: datetime | None
    new_contact: bool


def _hold(hold: Hold, until: datetime | None, detail: str = "") -> Wait:
    return Wait(HOLD_CODES[hold], hold.value + detail, until)


def why_waiting(
    rules: PacingRules,
    state: PacingState,
    facts: DayFacts,
    message: MessageFacts,
    now: datetime,
    *,
    channel_paused: str | None = None,
) -> Wait | None:
    """The first rule holding ``message`` at ``now``; None when it may be claimed at once."""
    if channel_paused is not None:
        return Wait("channel_paused", f"the channel is paused: {channel_paused}", None)
    spacing = timedelta(seconds=rules.recipient_interval_s)
    recipient_ready = message.last_sent_to_phone + spacing if message.last_sent_to_phone and spacing else None
    if recipient_ready is not None and recipient_ready > now:
        return _hold(Hold.RECIPIENT, recipient_ready, f": one message per {rules.recipient_interval_s:g} s to a number")
    cap = rules.new_contacts_daily_cap
    if message.new_contact and cap is not None and facts.new_contacts_today >= cap:
        return _hold(Hold.NEW_CONTACTS, next_day_start(now), f" ({cap} a day)")
    if message.due_at > now:
        if message.attempts > 0:
            return Wait(
                "retry_backoff", f"the last attempt failed; retry {message.attempts + 1} is due", message.due_at
            )
        return Wait("scheduled", "due later (a campaign window or a deferred claim)", message.due_at)
    slot = channel_slot(rules, state, facts, now)
    if slot.hold is not None and slot.at > now:
        return _hold(slot.hold, slot.at)
    return None
