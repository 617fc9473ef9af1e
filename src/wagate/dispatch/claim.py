"""The one way to take messages off the queue: per channel, paced, leased — push and pull alike.

* ``claim_next(rt, channel, owner)`` — lease the next due message of ONE channel with its
  pacing, caps and anti-ban rules applied server-side, or ``None``. This is what a pull channel
  (the Android device's ``GET /device/v1/next``) calls; the push dispatcher calls
  ``claim_ready`` (the same transaction, several messages at once).
* ``next_slot(rt, channel)`` — when a claim could next succeed (``None``: nothing queued).
* ``complete(rt, channel, results)`` — record what the channel answered for claimed messages
  (sent / retry with backoff / failed / unknown), in one transaction, with metrics.

Every function commits before it returns. Pacing facts live in the database, so the answers
hold across restarts and across processes sharing one database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from wagate.channels.base import OutgoingMessage, SendResult
from wagate.dispatch.retry import Next, RetryPolicy, decide
from wagate.domain.statuses import Status
from wagate.errors import DeliveryUnknown, SendError
from wagate.runtime import Runtime
from wagate.store.repos import claims
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.claims import ClaimOutcome
from wagate.store.repos.messages import StatusChange

__all__ = [
    "AttemptResult",
    "ClaimOutcome",
    "claim_next",
    "claim_ready",
    "complete",
    "count_status",
    "next_slot",
    "outgoing",
    "retry_policy",
]


def _rng(rt: Runtime) -> random.Random:
    """The pacing RNG of this runtime; tests put a seeded ``random.Random`` in ``rt.extras["pacing_rng"]``."""
    rng = rt.extras.get("pacing_rng")
    if not isinstance(rng, random.Random):
        rng = random.Random()
        rt.extras["pacing_rng"] = rng
    return rng


def retry_policy(rt: Runtime) -> RetryPolicy:
    """The node's retry policy (``WAGATE_RETRY_*`` settings)."""
    s = rt.settings
    return RetryPolicy(
        max_attempts=s.retry_max_attempts, base_seconds=s.retry_base_seconds, cap_seconds=s.retry_cap_seconds
    )


def count_status(rt: Runtime, channel: str, status: str, n: int = 1) -> None:
    """``wagate_message_status_total{channel,status}`` += n."""
    metrics = rt.extras.get("metrics")
    if metrics is not None and n:
        metrics.messages.labels(channel, status).inc(n)


async def claim_ready(
    rt: Runtime,
    channel: ChannelRow,
    *,
    owner: str,
    limit: int,
    lease_seconds: float | None = None,
) -> ClaimOutcome:
    """Claim up to ``limit`` messages of ``channel`` that its pacing allows now (one transaction).

    The claimed rows are ``sending`` with ``lease_owner = owner`` and a lease of
    ``lease_seconds`` (default ``WAGATE_LEASE_SECONDS``); ``retry_at`` says when to ask again.
    Overdue messages of the channel are expired on the way; a paused channel claims nothing.
    """
    now = rt.clock.now()
    lease = lease_seconds if lease_seconds is not None else rt.settings.lease_seconds
    rng = _rng(rt)
    outcome = await rt.db.write(
        lambda c: claims.claim_for_channel(
            c, channel_id=channel.id, owner=owner, now=now, lease_seconds=lease, limit=limit, rng=rng
        )
    )
    count_status(rt, channel.name, Status.SENDING.value, len(outcome.rows))
    count_status(rt, channel.name, Status.EXPIRED.value, len(outcome.expired))
    if outcome.paused_now:
        rt.forget_channels(channel.tenant_id)
    return outcome


async def claim_next(rt: Runtime, channel: ChannelRow, owner: str, lease_seconds: float | None = None) -> Any | None:
    """Lease the next due message of ONE channel with pacing, caps and rules applied, or ``None``.

    The returned row is a ``messages`` row (``id``, ``phone``, ``type``, ``payload``,
    ``attempts`` …) now ``sending`` under a lease held by ``owner``. Report the outcome with
    ``complete``. When ``None``, ``next_slot`` says when to ask again.
    """
    outcome = await claim_ready(rt, channel, owner=owner, limit=1, lease_seconds=lease_seconds)
    return outcome.rows[0] if outcome.rows else None


async def next_slot(rt: Runtime, channel: ChannelRow) -> datetime | None:
    """When a claim on ``channel`` could next succeed; ``None`` when nothing is queued.

    A read-only estimate (pacing slot and the earliest due message); a recipient's spacing
    may still defer a particular message at claim time.
    """
    now = rt.clock.now()
    view = await rt.db.read(lambda c: claims.pacing_view(c, channel.id, now))
    if view is None or view.next_due is None:
        return None
    return max(view.slot.at, view.next_due)


def outgoing(row: Any) -> OutgoingMessage:
    """A claimed row as a channel sees it."""
    return OutgoingMessage(
        id=row.id,
        tenant_id=row.tenant_id,
        phone=row.phone,
        type=row.type,
        payload=row.payload,
        attempt=row.attempts,
        client_ref=row.client_ref,
    )


_NEXT_STATUS = {Next.RETRY: Status.QUEUED, Next.FAILED: Status.FAILED, Next.UNKNOWN: Status.UNKNOWN}

#: What a channel answered for one attempt: accepted, a typed failure, or an unknown fate.
Answer = SendResult | SendError | DeliveryUnknown | BaseException


@dataclass(frozen=True, slots=True)
class AttemptResult:
    message_id: int
    attempt: int
    answer: Answer


async def complete(
    rt: Runtime,
    channel: ChannelRow,
    results: list[AttemptResult],
    *,
    resend_safe: bool,
    policy: RetryPolicy | None = None,
) -> list[StatusChange]:
    """Record the channel's answers for claimed messages, all in one transaction.

    ``SendResult`` → its status (``sent``) with the provider id; a retryable ``SendError`` →
    back to ``queued`` with an exponential, jittered ``due_at`` until attempts run out; a
    permanent one → ``failed`` with the channel's code and message; an unknown fate →
    ``unknown`` (or a retry when ``resend_safe``). Every attempt leaves a history row.
    """
    if not results:
        return []
    policy = policy or retry_policy(rt)
    now = rt.clock.now()
    rng = _rng(rt)

    finishes: list[claims.Finish] = []
    for item in results:
        verdict = decide(item.answer, attempt=item.attempt, now=now, policy=policy, resend_safe=resend_safe, rng=rng)
        answer = item.answer
        if verdict.next is Next.SENT and isinstance(answer, SendResult):
            new, provider_id = Status(answer.status), answer.provider_id
        else:
            new, provider_id = _NEXT_STATUS[verdict.next], None
        finishes.append(
            claims.Finish(
                message_id=item.message_id,
                new=new,
                reason=verdict.reason,
                error_code=verdict.error_code,
                error_message=verdict.error_message,
                provider_id=provider_id,
                due_at=verdict.due_at,
            )
        )

    throttles = [
        a.answer.retry_after or 1.0
        for a in results
        if isinstance(a.answer, SendError) and a.answer.throttle_channel and a.answer.retryable
    ]

    def job(conn: Connection) -> list[StatusChange]:
        if throttles:
            # The provider's throughput limit is the channel's, not the message's: the channel waits.
            claims.hold_channel(conn, channel.id, now + timedelta(seconds=max(throttles)), now)
        return claims.finish_claimed(conn, channel.name, finishes, now)

    changes = await rt.db.write(job)
    for change in changes:
        if change.applied:
            count_status(rt, channel.name, change.new.value)
    return changes
