"""Phone-check jobs of device channels: queued by a question, leased by a device, paced like sends.

A job is ``queued`` → ``leased`` (a device holds it until ``lease_expires_at``) → ``done`` with
``result`` ``exists``/``none``; a job nobody answered within ``JOB_TTL`` is ``expired``. One open
job per (channel, phone): asking again while one is open returns it. Leasing takes the
channel's pacing slot in the same transaction as a message claim would (``channel_pacing``
row locked, the next pause drawn), so checks and sends together keep the channel's interval.
The answer goes into the tenant's phone-check cache in the same transaction as ``done``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.pacing import PacingRules, after_send, channel_slot
from wagate.store.device_tables import device_phone_checks as jobs
from wagate.store.dispatch_tables import channel_pacing
from wagate.store.repos import contacts as contact_repo
from wagate.store.repos.claims import day_facts, lock_pacing_row, state_of
from wagate.store.tables import channels

QUEUED, LEASED, DONE, EXPIRED = "queued", "leased", "done", "expired"
OPEN = (QUEUED, LEASED)
RESULTS = ("exists", "none")
#: A question nobody answered in this time is dropped: the CRM asked long ago and was told to retry.
JOB_TTL = timedelta(minutes=10)
#: How long an answer of a device is kept in the tenant's cache.
ANSWER_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Lease:
    """What a device asked for: a job, or when a lease could next succeed (``None``: nothing queued)."""

    job: Any | None
    retry_at: datetime | None = None


def request(conn: Connection, tenant_id: int, channel_id: int, phone: str, now: datetime) -> int:
    """The id of the open job for this number on this channel, queuing one if there is none."""
    open_job = conn.execute(
        sa.select(jobs.c.id).where(
            jobs.c.channel_id == channel_id,
            jobs.c.phone == phone,
            jobs.c.status.in_(OPEN),
            jobs.c.created_at > now - JOB_TTL,
        )
    ).first()
    if open_job is not None:
        return int(open_job.id)
    result = conn.execute(
        jobs.insert().values(
            tenant_id=tenant_id, channel_id=channel_id, phone=phone, status=QUEUED, created_at=now, updated_at=now
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get(conn: Connection, job_id: int) -> Any | None:
    return conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()


def _expire_stale(conn: Connection, channel_id: int, now: datetime) -> None:
    conn.execute(
        jobs.update()
        .where(jobs.c.channel_id == channel_id, jobs.c.status.in_(OPEN), jobs.c.created_at <= now - JOB_TTL)
        .values(status=EXPIRED, updated_at=now)
    )


def _next_open(conn: Connection, channel_id: int, now: datetime) -> Any | None:
    """The oldest queued job, or a leased one whose device went silent (its lease ran out)."""
    available = sa.or_(
        jobs.c.status == QUEUED,
        sa.and_(jobs.c.status == LEASED, jobs.c.lease_expires_at <= now),
    )
    return conn.execute(
        sa.select(jobs).where(jobs.c.channel_id == channel_id, available).order_by(jobs.c.id).limit(1)
    ).first()


def lease(
    conn: Connection, channel_id: int, owner: str, now: datetime, lease_seconds: float, rng: random.Random
) -> Lease:
    """Lease the next job of a channel if its pacing allows a hand-over now (one transaction)."""
    channel = conn.execute(sa.select(channels).where(channels.c.id == channel_id)).first()
    if channel is None or channel.status != "active":
        return Lease(None)
    pacing_row = lock_pacing_row(conn, channel_id, now)
    _expire_stale(conn, channel_id, now)
    candidate = _next_open(conn, channel_id, now)
    if candidate is None:
        return Lease(None)
    rules = PacingRules.from_json(channel.pacing or {})
    state = state_of(pacing_row)
    slot = channel_slot(rules, state, day_facts(conn, channel_id, rules, state, now), now)
    if slot.at > now:
        return Lease(None, slot.at)
    after = after_send(rules, state, now, rng)
    conn.execute(
        channel_pacing.update()
        .where(channel_pacing.c.channel_id == channel_id)
        .values(tat=after.tat, next_at=after.next_at, updated_at=now)
    )
    conn.execute(
        jobs.update()
        .where(jobs.c.id == candidate.id)
        .values(
            status=LEASED,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
    )
    return Lease(get(conn, int(candidate.id)))


def finish(conn: Connection, channel_id: int, job_id: int, result: str, source: str, now: datetime) -> Any | None:
    """Record a device's answer (idempotent: a job already done keeps its first answer)."""
    job = conn.execute(sa.select(jobs).where(jobs.c.id == job_id, jobs.c.channel_id == channel_id)).first()
    if job is None:
        return None
    if job.status != DONE:
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(status=DONE, result=result, updated_at=now))
        contact_repo.record_phone_check(conn, job.tenant_id, job.phone, result, source, now, now + ANSWER_TTL)
    return get(conn, job_id)
