"""The message state machine (docs/api.md).

Outbound: ``queued → sending → sent → delivered → read``; terminal ``failed``,
``expired``, ``cancelled``, ``unknown``. Inbound messages are ``received``.

Statuses only move forward. A late or repeated provider update (a ``delivered`` that
arrives after ``read``) is not an error: ``decide`` says to record and ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    RECEIVED = "received"


PROGRESS_RANK: dict[Status, int] = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.READ: 4,
}

#: Statuses after which nothing more is sent. ``sent``/``delivered`` still move to ``read``.
TERMINAL: frozenset[Status] = frozenset(
    {Status.FAILED, Status.EXPIRED, Status.CANCELLED, Status.UNKNOWN, Status.RECEIVED}
)

#: Every legal edge. Anything else is refused or ignored by ``decide``.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.SENDING, Status.CANCELLED, Status.EXPIRED, Status.FAILED}),
    Status.SENDING: frozenset(
        {Status.QUEUED, Status.SENT, Status.DELIVERED, Status.READ, Status.FAILED, Status.UNKNOWN, Status.EXPIRED}
    ),
    Status.SENT: frozenset({Status.DELIVERED, Status.READ, Status.FAILED}),
    Status.DELIVERED: frozenset({Status.READ}),
    Status.READ: frozenset(),
    # An operator may resolve an ``unknown`` message once the truth is known.
    Status.UNKNOWN: frozenset({Status.SENT, Status.DELIVERED, Status.READ, Status.FAILED}),
    Status.FAILED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.RECEIVED: frozenset(),
}


class Verdict(StrEnum):
    APPLY = "apply"
    IGNORE = "ignore"  # late/repeated update: record it, change nothing


@dataclass(frozen=True, slots=True)
class Transition:
    old: Status
    new: Status
    verdict: Verdict


def decide(old: Status, new: Status) -> Transition:
    """Whether moving ``old → new`` applies or is a stale update to ignore.

    Never raises for provider updates: callbacks arrive out of order in real life and
    must not turn into errors. ``sending → queued`` is the retry path (a transient
    failure puts the message back).
    """
    if new in ALLOWED[old]:
        return Transition(old, new, Verdict.APPLY)
    return Transition(old, new, Verdict.IGNORE)


def is_terminal(status: Status) -> bool:
    return status in TERMINAL or status == Status.READ
