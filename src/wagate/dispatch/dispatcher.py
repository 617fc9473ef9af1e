"""The dispatcher: claim due messages, hand them to their channel, record the outcome.

Workers sleep on a wake-up signal (a new message, a NOTIFY) or until the next due time,
so an idle node uses no CPU and a new message goes out without polling delay.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from wagate.channels.base import OutgoingMessage
from wagate.dispatch.retry import RetryPolicy
from wagate.domain.statuses import Status
from wagate.errors import SendError
from wagate.runtime import Runtime
from wagate.store.repos import channels as channel_repo
from wagate.store.repos import queue
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.messages import apply_status

log = logging.getLogger("wagate.dispatch")

IDLE_WAIT_SECONDS = 30.0

#: Checks run just before ``channel.send``: ``await guard(rt, channel_row, message)`` raises
#: ``SendError`` to stop the send (e.g. the policy's service-window re-check, docs/policy.md).
SendGuard = Callable[[Runtime, ChannelRow, OutgoingMessage], Awaitable[None]]


def send_guards(rt: Runtime) -> list[SendGuard]:
    guards: list[SendGuard] = rt.extras.setdefault("send_guards", [])
    return guards


class Dispatcher:
    def __init__(self, rt: Runtime, *, workers: int = 4, retry: RetryPolicy | None = None, batch: int = 16) -> None:
        self.rt = rt
        self.workers = workers
        self.retry = retry or RetryPolicy()
        self.batch = batch
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        await self.recover()
        self._tasks = [asyncio.create_task(self._worker(i), name=f"dispatch-{i}") for i in range(self.workers)]

    async def stop(self) -> None:
        self._stopping.set()
        self.rt.wakeup.notify()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def recover(self) -> None:
        """Expired leases from a previous life: re-offer where safe, else ``unknown``."""
        rows = await self.rt.db.read(channel_repo.list_channels)
        safe: set[int] = set()
        for row in rows:
            if self.rt.registry.knows(row.kind) and (await self.rt.channel_instance(row)).resend_safe:
                safe.add(row.id)
        now = self.rt.clock.now()
        requeued, unknown = await self.rt.db.write(
            lambda c: queue.recover_expired_leases(c, now=now, resend_safe_channels=safe)
        )
        if requeued or unknown:
            log.warning("recovered expired leases", extra={"requeued": len(requeued), "unknown": len(unknown)})

    async def _push_channels(self) -> list[int]:
        rows = await self.rt.db.read(channel_repo.list_channels)
        ids = []
        for row in rows:
            if row.status != "active" or not self.rt.registry.knows(row.kind):
                continue
            if (await self.rt.channel_instance(row)).push:
                ids.append(row.id)
        return ids

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many messages were handled."""
        channel_ids = await self._push_channels()
        now = self.rt.clock.now()
        lease = self.rt.settings.lease_seconds

        def claim(conn: Connection) -> list[Any]:
            queue.expire_overdue(conn, now)
            return queue.claim_due(
                conn, channel_ids=channel_ids, owner=self.owner, now=now, lease_seconds=lease, limit=self.batch
            )

        claimed = await self.rt.db.write(claim)
        for row in claimed:
            await self._send(row)
        return len(claimed)

    async def _send(self, row: Any) -> None:
        rt = self.rt
        channel_row = await rt.db.read(lambda c: channel_repo.get_channel_by_id(c, row.channel_id))
        assert channel_row is not None
        channel = await rt.channel_instance(channel_row)
        message = OutgoingMessage(
            id=row.id,
            tenant_id=row.tenant_id,
            phone=row.phone,
            type=row.type,
            payload=row.payload,
            attempt=row.attempts,
            client_ref=row.client_ref,
        )
        try:
            for guard in send_guards(rt):
                await guard(rt, channel_row, message)
            result = await channel.send(message)
        except SendError as exc:
            await self._on_error(message, exc)
            return
        except Exception as exc:  # an unexpected channel bug: fate unknown, never resend blindly
            log.exception("channel %s crashed while sending", channel_row.name)
            now = rt.clock.now()
            reason, detail = f"channel error: {type(exc).__name__}", str(exc)[:500]
            await rt.db.write(
                lambda c: apply_status(
                    c,
                    message.id,
                    Status.UNKNOWN,
                    now=now,
                    reason=reason,
                    error_code="unknown_outcome",
                    error_message=detail,
                )
            )
            return
        now = rt.clock.now()
        await rt.db.write(
            lambda c: apply_status(
                c,
                message.id,
                Status(result.status),
                now=now,
                reason="accepted by channel",
                provider_id=result.provider_id,
            )
        )

    async def _on_error(self, message: OutgoingMessage, exc: SendError) -> None:
        now = self.rt.clock.now()
        if exc.retryable and not self.retry.exhausted(message.attempt):
            due = now + timedelta(seconds=self.retry.delay(message.attempt, exc.retry_after))
            await self.rt.db.write(
                lambda c: queue.requeue(
                    c,
                    message.id,
                    now=now,
                    due_at=due,
                    reason=f"attempt {message.attempt} failed: {exc.message}",
                    error_code=exc.code,
                    error_message=exc.message,
                )
            )
            return
        reason = "retries exhausted" if exc.retryable else "permanent error"
        await self.rt.db.write(
            lambda c: apply_status(
                c, message.id, Status.FAILED, now=now, reason=reason, error_code=exc.code, error_message=exc.message
            )
        )

    async def _worker(self, index: int) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher worker %d failed; backing off", index)
                await asyncio.sleep(1.0)
                continue
            if handled:
                continue
            await self.rt.wakeup.wait(await self._idle_timeout())

    async def _idle_timeout(self) -> float:
        channel_ids = await self._push_channels()
        due = await self.rt.db.read(lambda c: queue.next_due_at(c, channel_ids))
        if due is None:
            return IDLE_WAIT_SECONDS
        return max(0.01, min(IDLE_WAIT_SECONDS, (due - self.rt.clock.now()).total_seconds()))
