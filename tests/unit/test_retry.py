"""What one send outcome means for the message (``wagate.dispatch.retry``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from wagate.channels.base import SendResult
from wagate.dispatch.retry import Next, RetryPolicy, decide
from wagate.errors import DeliveryUnknown, SendError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, base_seconds=2.0, cap_seconds=60.0)


def delay_of(attempt: int, seed: int, hint: float | None = None) -> float:
    verdict = decide(
        SendError("busy", code="http_503", retryable=True, retry_after=hint),
        attempt=attempt,
        now=NOW,
        policy=POLICY,
        resend_safe=False,
        rng=random.Random(seed),
    )
    assert verdict.next is Next.RETRY and verdict.due_at is not None
    return (verdict.due_at - NOW).total_seconds()


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)]:
        delays = {delay_of(attempt, seed) for seed in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 10  # jittered, not one fixed value
    assert RetryPolicy(max_attempts=99, cap_seconds=60).delay(20, rng=random.Random(1)) <= 60


def test_a_providers_retry_after_hint_wins_when_longer() -> None:
    assert delay_of(1, seed=1, hint=30.0) == 30.0


def test_retryable_errors_fail_once_attempts_run_out() -> None:
    verdict = decide(
        SendError("busy", code="http_503", retryable=True), attempt=5, now=NOW, policy=POLICY, resend_safe=False
    )
    assert verdict.next is Next.FAILED
    assert verdict.error_code == "http_503"
    assert "exhausted" in verdict.reason


def test_permanent_errors_fail_at_once_with_the_channels_code() -> None:
    verdict = decide(
        SendError("not on WhatsApp", code="131026", retryable=False),
        attempt=1,
        now=NOW,
        policy=POLICY,
        resend_safe=False,
    )
    assert (verdict.next, verdict.error_code, verdict.error_message) == (Next.FAILED, "131026", "not on WhatsApp")


def test_an_unknown_fate_is_unknown_unless_resending_is_safe() -> None:
    lost = DeliveryUnknown("read timeout")
    assert decide(lost, attempt=1, now=NOW, policy=POLICY, resend_safe=False).next is Next.UNKNOWN
    assert decide(lost, attempt=1, now=NOW, policy=POLICY, resend_safe=True).next is Next.RETRY
    assert decide(RuntimeError("bug"), attempt=1, now=NOW, policy=POLICY, resend_safe=False).next is Next.UNKNOWN


def test_a_send_result_is_sent() -> None:
    assert decide(SendResult("p-1"), attempt=1, now=NOW, policy=POLICY, resend_safe=False).next is Next.SENT
