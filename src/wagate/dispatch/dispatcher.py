"""The push dispatcher: claim paced batches per channel, hand them to the channel, record the outcome.

* **Workers** (``WAGATE_DISPATCHER_WORKERS``) take turns over the active push channels
  (``Capabilities.push`` of the channel's kind; pull channels such as the device are served by their own endpoint through
  the same ``claim_next``). Each claim is one transaction (``dispatch.claim.claim_ready``) that
  applies the channel's pacing from recorded facts; the claimed batch is sent concurrently and
  its outcomes recorded in one more transaction (``dispatch.claim.complete``).
* **Sleeping**: a worker with nothing to claim sleeps until the earliest moment a channel said
  a claim could succeed, or until a wake-up (a new message, a channel change, a PostgreSQL
  NOTIFY from another process). With nothing queued it sleeps without a timeout: an idle node
  uses no CPU.
* **Housekeeping** (one task): recovers expired leases (``unknown``, or re-offered on
  resend-safe channels), expires overdue messages of every channel (paused and pull channels
  included), prunes the send log, and sleeps until the next validity or lease deadline.

The in-memory "not before" hints are only an optimisation: the facts are in the database, so a
stale hint costs one claim transaction, never a wrong send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from wagate.channels.base import Channel, Gated
from wagate.dispatch import claim as claiming
from wagate.dispatch.claim import Answer, AttemptResult
from wagate.dispatch.retry import RetryPolicy
from wagate.domain.records import ChannelRow
from wagate.domain.statuses import Status
from wagate.errors import DeliveryUnknown, SendError
from wagate.runtime import Runtime
from wagate.services import media
from wagate.store.repos import channels as channel_repo
from wagate.store.repos import housekeeping

log = logging.getLogger("wagate.dispatch")

#: Longest a housekeeping pass waits when no deadline is known (pruning the send log).
HOUSEKEEPING_MAX_SLEEP = 3600.0
#: Coalesces bursts of wake-ups into one housekeeping pass.
HOUSEKEEPING_MIN_GAP = 0.25
#: Send-log rows older than this are pruned (the longest pacing look-back is a few days).
SEND_LOG_RETENTION = timedelta(days=8)
STOP_GRACE_SECONDS = 10.0


class Dispatcher:
    def __init__(
        self,
        rt: Runtime,
        *,
        workers: int = 4,
        retry: RetryPolicy | None = None,
        batch: int = 64,
    ) -> None:
        self.rt = rt
        self.workers = workers
        self.retry = retry or claiming.retry_policy(rt)
        self.batch = batch
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._hints: dict[int, datetime] = {}
        self._turn = 0
        self._house_event = asyncio.Event()
        self._last_prune: datetime | None = None
        #: Per tenant, the message id the retention walk has covered up to (see ``retain``).
        self._retention_cursor: dict[int, int] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.recover()
        self.rt.wakeup.listeners.append(self._house_event.set)
        self._tasks = [asyncio.create_task(self._worker(i), name=f"dispatch-{i}") for i in range(self.workers)]
        self._tasks.append(asyncio.create_task(self._housekeeper(), name="dispatch-housekeeping"))

    async def stop(self) -> None:
        """Let in-flight batches finish (bounded), then cancel."""
        self._stopping = True
        with contextlib.suppress(ValueError):
            self.rt.wakeup.listeners.remove(self._house_event.set)
        self.rt.wakeup.notify()
        self._house_event.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # -- recovery and housekeeping ---------------------------------------------------------------

    async def _resend_safe_channels(self) -> set[int]:
        safe: set[int] = set()
        for row in await self.rt.db.read(channel_repo.list_channels):
            if self.rt.registry.knows(row.kind) and self.rt.registry.capabilities(row.kind).resend_safe:
                safe.add(row.id)
        return safe

    async def recover(self) -> tuple[list[int], list[int]]:
        """Expired leases (a process died mid-send): re-offer where safe, else ``unknown``."""
        safe = await self._resend_safe_channels()
        now = self.rt.clock.now()
        requeued, unknown = await self.rt.db.write(
            lambda c: housekeeping.recover_all(c, now=now, resend_safe_channels=safe)
        )
        if requeued or unknown:
            log.warning("recovered expired leases", extra={"requeued": len(requeued), "unknown": len(unknown)})
            await self._count_by_channel(requeued, Status.QUEUED)
            await self._count_by_channel(unknown, Status.UNKNOWN)
            if requeued:
                self.rt.wakeup.notify()
        return requeued, unknown

    async def housekeep(self) -> datetime | None:
        """One pass: recover leases, expire overdue messages, prune the send log.

        Returns the next deadline (a validity or a lease running out), if any.
        """
        await self.recover()
        now = self.rt.clock.now()
        expired = await self.rt.db.write(lambda c: housekeeping.expire_all(c, now))
        await self._count_by_channel(expired, Status.EXPIRED)
        if self._last_prune is None or now - self._last_prune >= timedelta(hours=1):
            cutoff = now - SEND_LOG_RETENTION
            await self.rt.db.write(lambda c: housekeeping.prune_send_log(c, cutoff))
            await self.retain(now)
            self._last_prune = now
        return await self.rt.db.read(housekeeping.next_deadline)

    async def retain(self, now: datetime) -> tuple[int, int]:
        """Prune message bodies and media files past each tenant's retention; returns both counts.

        Bodies go one batch per transaction (``housekeeping.prune_bodies``), so writers wait for
        one short batch at most; the walk resumes after the last covered id on the next pass.
        """
        retentions = await self.rt.db.read(housekeeping.tenant_retentions)
        default = self.rt.settings.retention_days
        bodies = files = 0
        for tenant_id, own in retentions.items():
            days = own if own is not None else default
            if days is None:
                continue
            before = now - timedelta(days=days)
            more = True
            while more and not self._stopping:
                after = self._retention_cursor.get(tenant_id, 0)
                pruned, covered, more = await self.rt.db.write(
                    partial(housekeeping.prune_bodies, tenant_id=tenant_id, before=before, after_id=after)
                )
                self._retention_cursor[tenant_id] = covered
                bodies += pruned
            files += await asyncio.to_thread(media.prune_files, self.rt.settings, tenant_id, before)
        if bodies or files:
            log.info("retention pruned", extra={"bodies": bodies, "media_files": files})
        return bodies, files

    async def _count_by_channel(self, ids: list[int], status: Status) -> None:
        if not ids:
            return
        names = await self.rt.db.read(lambda c: housekeeping.channel_names_of(c, ids))
        for name, n in names.items():
            claiming.count_status(self.rt, name, status.value, n)

    async def _housekeeper(self) -> None:
        while not self._stopping:
            try:
                deadline = await self.housekeep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher housekeeping failed; retrying soon")
                deadline = self.rt.clock.now() + timedelta(seconds=5)
            timeout = HOUSEKEEPING_MAX_SLEEP
            if deadline is not None:
                seconds = (deadline - self.rt.clock.now()).total_seconds() + 0.01
                timeout = max(0.0, min(timeout, seconds))
            self._house_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._house_event.wait(), timeout)
            await asyncio.sleep(HOUSEKEEPING_MIN_GAP)

    # -- sending ---------------------------------------------------------------------------------

    async def push_channels(self) -> list[tuple[ChannelRow, Channel]]:
        """Active channels of a kind this node knows whose messages the dispatcher pushes."""
        found = []
        for row in await self.rt.db.read(channel_repo.list_channels):
            if row.status != "active" or not self.rt.registry.knows(row.kind):
                continue
            if not self.rt.registry.capabilities(row.kind).push:
                continue
            instance = await self.rt.channel_instance(row)
            if not (isinstance(instance, Gated) and not instance.accepting()):
                found.append((row, instance))
        return found

    async def run_once(self) -> bool:
        """Claim and send one batch from the first channel that has one; True if anything moved."""
        channels = await self.push_channels()
        if not channels:
            return False
        now = self.rt.clock.now()
        start = self._turn % len(channels)
        self._turn += 1
        for row, instance in channels[start:] + channels[:start]:
            hint = self._hints.get(row.id)
            if hint is not None and hint > now:
                continue
            outcome = await claiming.claim_ready(self.rt, row, owner=self.owner, limit=self.batch)
            if outcome.retry_at is None:
                self._hints.pop(row.id, None)
            else:
                self._hints[row.id] = outcome.retry_at
            if outcome.rows:
                await self.deliver(row, instance, outcome.rows)
                return True
            if outcome.expired or outcome.deferred:
                return True
        return False

    async def deliver(self, row: ChannelRow, channel: Channel, claimed: list[Any]) -> None:
        """Send a claimed batch concurrently, then record every outcome in one transaction."""
        answers = await asyncio.gather(*(self._attempt(row, channel, m) for m in claimed))
        results = [AttemptResult(m.id, m.attempts, a) for m, a in zip(claimed, answers, strict=True)]
        resend_safe = self.rt.registry.capabilities(row.kind).resend_safe
        await claiming.complete(self.rt, row, results, resend_safe=resend_safe, policy=self.retry)

    async def _attempt(self, row: ChannelRow, channel: Channel, message: Any) -> Answer:
        outgoing = claiming.outgoing(message)
        try:
            for guard in self.rt.hooks.send_guards:
                await guard(self.rt, row, outgoing)
        except SendError as exc:
            return exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # nothing was sent: a failing check is a retry, never an unknown fate
            log.exception("send guard failed for message %s", message.id)
            return SendError(f"pre-send check failed: {type(exc).__name__}", code="guard_error", retryable=True)
        try:
            return await channel.send(outgoing)
        except (SendError, DeliveryUnknown) as exc:
            return exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a channel bug: fate unknown, never resent blindly
            log.exception("channel %s crashed while sending message %s", row.name, message.id)
            return exc

    def next_wake(self) -> datetime | None:
        """The earliest moment a channel said a claim could succeed (``None``: wait for a wake-up)."""
        return min(self._hints.values()) if self._hints else None

    def _timeout(self) -> float | None:
        if not self._hints:
            return None
        soonest = min(self._hints.values())
        return max(0.001, (soonest - self.rt.clock.now()).total_seconds())

    async def _worker(self, index: int) -> None:
        backoff = random.Random()
        while not self._stopping:
            try:
                moved = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher worker %d failed; backing off", index)
                await asyncio.sleep(backoff.uniform(0.5, 1.5))
                continue
            if moved or self._stopping:
                continue
            if await self.rt.wakeup.wait(self._timeout()):
                self._hints.clear()  # new work or a changed channel: every hint may be stale
