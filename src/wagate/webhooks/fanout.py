"""The outbox consumer: events → deliveries, exactly once, in one transaction with the cursor.

Each pass locks the cursor row, reads the next events in id order, writes one delivery per
matching target (active subscriptions of the event's tenant that asked for its type, and the
message's own ``callback_url``) and moves the cursor — all in one commit. A crash before the
commit redoes the pass; after it, nothing is redone.

**Ids that commit out of order (PostgreSQL).** Two transactions may take event ids 10 and 11
and commit 11 first. Stepping past 10 would lose it, so a pass stops at the first missing id
and waits until that id is *settled*: every transaction that was running when the gap was
first seen has finished (``pg_snapshot_xmin`` has passed the ``xmax`` recorded then; at least
one second is also given, for an INSERT that took its id before its transaction id) — after
which the id either is visible or was rolled back for good. As a last resort a gap is skipped
after ``webhook_gap_grace_seconds``. SQLite has a single writer, so ids become visible in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.webhooks import ordering_key, target_of, validate_url
from wagate.errors import ValidationError
from wagate.runtime import Runtime
from wagate.store import dialect
from wagate.store.repos import webhooks as repo
from wagate.webhooks import sleep_until
from wagate.webhooks.formats import wants
from wagate.webhooks.signer import new_secret

log = logging.getLogger("wagate.webhooks")

BATCH = 500
MIN_GAP_SECONDS = 1.0
IDLE_SECONDS = 30.0
#: After a pass that found events, the next one waits this long: under a steady stream of
#: commits, passes then carry many events each instead of one pass (a read and a write) per
#: group commit. After a quiet spell the first event is fanned out at once.
LINGER_SECONDS = 0.02


@dataclass
class PassResult:
    events: int = 0
    deliveries: int = 0
    cursor: int = 0
    waiting_on_gap: bool = False


@dataclass
class _Gap:
    first_seen: float
    xmax: int | None


@dataclass
class Fanout:
    rt: Runtime
    on_deliveries: Callable[[], None] = lambda: None
    batch: int = BATCH
    cursor: int = 0
    _gaps: dict[int, _Gap] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        now = self.rt.clock.now()
        await self.rt.db.write(lambda c: repo.ensure_cursor(c, now))
        self.cursor = await self.rt.db.read(repo.read_cursor)
        self._task = asyncio.create_task(self._run(), name="webhooks-fanout")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> PassResult:
        """One pass: at most ``batch`` events. Cheap when nothing is new (a read, no transaction)."""
        newest = await self.rt.db.read(repo.max_event_id)
        if newest <= self.cursor and not self._gaps:
            return PassResult(cursor=self.cursor)
        now = self.rt.clock.now()
        box = self.rt.secret_box
        result = await self.rt.db.write(lambda c: self._pass(c, now, lambda: box.encrypt(new_secret())))
        self.cursor = result.cursor
        if result.deliveries:
            self.on_deliveries()
        return result

    async def drain(self) -> None:
        """Run passes until the outbox is consumed (tests and benchmarks)."""
        while True:
            result = await self.run_once()
            if result.events < self.batch and not result.waiting_on_gap:
                return
            if result.waiting_on_gap:
                await asyncio.sleep(0.05)

    async def _run(self) -> None:
        while True:
            try:
                result = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook fan-out pass failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if result.events >= self.batch:
                continue
            if result.events:
                await asyncio.sleep(LINGER_SECONDS)
            timeout = 0.2 if result.waiting_on_gap else IDLE_SECONDS
            await sleep_until(self._wake, timeout)
            self._wake.clear()

    # -- inside the transaction ------------------------------------------------------------

    def _settled(self, start: int, snapshot: tuple[int, int] | None) -> bool:
        """Whether the missing ids starting at ``start`` can no longer appear (see module docstring)."""
        now = time.monotonic()
        gap = self._gaps.get(start)
        if gap is None:
            self._gaps[start] = _Gap(now, snapshot[1] if snapshot else None)
            return False
        age = now - gap.first_seen
        if age >= self.rt.settings.webhook_gap_grace_seconds:
            log.warning("skipping event id gap at %d after %.0f s", start, age)
            return True
        return age >= MIN_GAP_SECONDS and snapshot is not None and gap.xmax is not None and snapshot[0] >= gap.xmax

    def _pass(self, conn: Connection, now: datetime, make_secret: Callable[[], str]) -> PassResult:
        cursor = repo.lock_cursor(conn)
        rows = repo.event_heads_after(conn, cursor, self.batch)
        if not rows:
            self._gaps.clear()
            return PassResult(cursor=cursor)
        pg = dialect.is_postgres(conn)
        snapshot = repo.pg_snapshot(conn) if pg else None
        accepted: list[Any] = []
        expected = cursor + 1
        waiting = False
        for row in rows:
            if pg and row.id != expected:
                if not self._settled(expected, snapshot):
                    waiting = True
                    break
                self._gaps.pop(expected, None)
            accepted.append(row)
            expected = int(row.id) + 1
        if not waiting:
            self._gaps.clear()
        if not accepted:
            return PassResult(cursor=cursor, waiting_on_gap=waiting)
        deliveries = self._deliveries_for(conn, accepted, now, make_secret)
        repo.enqueue(conn, deliveries)
        new_cursor = int(accepted[-1].id)
        repo.move_cursor(conn, new_cursor, now)
        if deliveries:
            repo.notify_deliveries(conn)
        return PassResult(len(accepted), len(deliveries), new_cursor, waiting)

    def _deliveries_for(
        self, conn: Connection, rows: list[Any], now: datetime, make_secret: Callable[[], str]
    ) -> list[dict[str, Any]]:
        subscriptions: dict[int, list[Any]] = {}
        callbacks: dict[int, Any] = {}
        for sub in repo.active_subscriptions(conn, (int(r.tenant_id) for r in rows)):
            if sub.kind == "callbacks":
                callbacks.setdefault(int(sub.tenant_id), sub)
            else:
                subscriptions.setdefault(int(sub.tenant_id), []).append(sub)

        def routed(row: Any) -> bool:
            """Whether the event may go anywhere: then (only then) its payload is needed."""
            if row.type == "message.status" and row.callback_url:
                return True
            return any(_subscribed(sub, row) for sub in subscriptions.get(int(row.tenant_id), ()))

        rows = [row for row in rows if routed(row)]
        payloads = repo.event_payloads(conn, [int(row.id) for row in rows]) if rows else {}
        out: list[dict[str, Any]] = []
        for row in rows:
            payload: dict[str, Any] = payloads.get(int(row.id), {})
            tenant_id = int(row.tenant_id)
            message_id = int(row.message_id) if row.message_id is not None else None
            key = ordering_key(row.type, message_id, payload)
            for sub in subscriptions.get(tenant_id, []):
                if not _subscribed(sub, row) or not wants(sub.format, row.type, payload):
                    continue
                out.append(
                    repo.delivery_row(
                        tenant_id=tenant_id,
                        subscription_id=int(sub.id),
                        event_id=int(row.id),
                        event_type=row.type,
                        url=None,
                        fmt=sub.format,
                        ordering_key=key,
                        target=target_of(int(sub.id), None),
                        now=now,
                    )
                )
            callback_url = payload.get("callback_url")
            if row.type != "message.status" or not callback_url:
                continue
            try:
                url = validate_url(callback_url, "callback_url")
            except ValidationError:
                log.warning("event %s: callback_url is not an http(s) URL; not sent", row.id)
                continue
            fmt = "devino" if payload.get("origin") == "devino" else "native"
            if not wants(fmt, row.type, payload):
                continue
            holder = callbacks.get(tenant_id)
            if holder is None:
                holder = repo.get_callbacks(conn, tenant_id)
                if holder is None:
                    holder = repo.insert_subscription(
                        conn,
                        tenant_id=tenant_id,
                        url=None,
                        events_=["message.status"],
                        fmt="native",
                        description="per-message callback_url",
                        secret=make_secret(),
                        now=now,
                        kind="callbacks",
                    )
                callbacks[tenant_id] = holder
            if holder.status != "active":
                continue
            out.append(
                repo.delivery_row(
                    tenant_id=tenant_id,
                    subscription_id=int(holder.id),
                    event_id=int(row.id),
                    event_type=row.type,
                    url=url,
                    fmt=fmt,
                    ordering_key=key,
                    target=target_of(int(holder.id), url),
                    now=now,
                )
            )
        return out


def _subscribed(sub: Any, row: Any) -> bool:
    """The subscription asked for this event's type and existed before the event."""
    return row.type in (sub.events or []) and int(row.id) > int(sub.start_after_event_id)
