"""Retry strategy: exponential backoff with jitter, bounded attempts, and what a send outcome means.

``decide`` turns one channel answer into the next status of the message; it is pure, so the
push dispatcher and pull channels (the device protocol) apply the same rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from wagate.channels.base import SendResult
from wagate.errors import DeliveryUnknown, SendError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` counts every hand-over to the channel, the first one included."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 600.0

    def delay(self, attempt: int, hint: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``; a provider's own hint wins if longer.

        The ceiling doubles per attempt (``base · 2^(attempt-1)``, capped); the delay is drawn
        from its upper half ("equal jitter"), so retries of many messages spread out and still grow.
        """
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        jittered = (rng or random).uniform(ceiling / 2, ceiling)
        return max(jittered, hint or 0.0)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


class Next(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    next: Next
    reason: str
    due_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None


def decide(
    outcome: SendResult | SendError | DeliveryUnknown | BaseException,
    *,
    attempt: int,
    now: datetime,
    policy: RetryPolicy,
    resend_safe: bool,
    rng: random.Random | None = None,
) -> Verdict:
    """What follows one attempt: ``sent``, a retry at ``due_at``, ``failed`` or ``unknown``."""
    if isinstance(outcome, SendResult):
        return Verdict(Next.SENT, "accepted by channel")
    if isinstance(outcome, SendError):
        if outcome.retryable and not policy.exhausted(attempt):
            due = now + timedelta(seconds=policy.delay(attempt, outcome.retry_after, rng))
            return Verdict(
                Next.RETRY,
                f"attempt {attempt} failed: {outcome.message}",
                due_at=due,
                error_code=outcome.code,
                error_message=outcome.message,
            )
        reason = f"retries exhausted after {attempt} attempts" if outcome.retryable else "permanent error"
        return Verdict(Next.FAILED, reason, error_code=outcome.code, error_message=outcome.message)
    # The outcome is unknown: a timeout after sending, or a channel bug.
    detail = str(outcome)[:500] or type(outcome).__name__
    if resend_safe and not policy.exhausted(attempt):
        due = now + timedelta(seconds=policy.delay(attempt, None, rng))
        return Verdict(
            Next.RETRY,
            f"attempt {attempt}: outcome unknown, re-offered (resend-safe channel)",
            due_at=due,
            error_code="unknown_outcome",
            error_message=detail,
        )
    return Verdict(
        Next.UNKNOWN,
        "the channel could not tell whether the message went out; not resent",
        error_code="unknown_outcome",
        error_message=detail,
    )
