"""Live updates for browsers: the events outbox, read forward by cursor, fanned out per tenant.

One task per node reads ``events`` after the last id it saw (``store.repos.events.events_after``)
while at least one browser listens, and turns each message event into *topics* the pages
subscribe to: ``thread:<channel>:<phone>`` for every message event, ``inbox`` for a new
message, ``window:<channel>:<phone>`` for a client's message (the reply box may switch from
templates to free text). Events written by other nodes are in the same table, so every node's
browsers see every message. Changes that are not messages (assignment, notes, close, read)
are announced in-process by ``services.conversations`` as ``conversation:<id>``; a browser on
another node sees them with the next message event or its inbox's periodic refresh.

A browser that falls behind (its queue is full) gets a ``reset`` and reloads its parts, as
it does after every reconnect: nothing is replayed, pages re-read the current state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.runtime import Runtime
from wagate.store.repos.events import events_after
from wagate.store.tables import events

log = logging.getLogger("wagate.dashboard")

POLL_SECONDS = 0.5
BATCH = 500
QUEUE_SIZE = 200
MESSAGE_EVENTS = ["message.status", "message.received"]


@dataclass(eq=False)
class Subscription:
    tenant_id: int
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, item: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Too far behind: drop the backlog and tell the page to re-read everything.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait({"topics": ["reset"]})


def topics_of(event: dict[str, Any]) -> list[str]:
    """What an event changes on screen: the thread always; the inbox for a new message (a client's,
    or a queued reply that may move its conversation); the reply box when the client wrote
    (the 24-hour window reopened)."""
    payload = event.get("payload") or {}
    channel, phone = payload.get("channel"), payload.get("person") or payload.get("phone")
    if not channel or not phone:
        return []
    topics = [f"thread:{channel}:{phone}"]
    if event.get("type") == "message.received":
        topics += ["inbox", f"window:{channel}:{phone}"]
    elif payload.get("previous_status") is None:
        topics.append("inbox")
    return topics


class Broker:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._subscribers: dict[int, set[Subscription]] = {}
        self._cursor: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._nudge = asyncio.Event()
        self._closed = False
        self._loop = asyncio.get_running_loop()

    def subscribe(self, tenant_id: int) -> Subscription:
        sub = Subscription(tenant_id)
        if self._closed:
            sub.queue.put_nowait(None)
            return sub
        self._subscribers.setdefault(tenant_id, set()).add(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="wagate-dashboard-events")
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.tenant_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.tenant_id]

    @property
    def listening(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def publish(self, tenant_id: int, topics: list[str]) -> None:
        """Tell this node's browsers of ``tenant_id`` that ``topics`` changed."""
        for sub in list(self._subscribers.get(tenant_id, ())):
            sub.offer({"topics": topics})

    def nudge(self) -> None:
        """New events may exist (the node's wake-up): read them now instead of at the next poll."""
        self._nudge.set()

    async def _run(self) -> None:
        if self._cursor is None:
            self._cursor = await self.rt.db.read(_last_event_id)
        while self._subscribers and not self._closed:
            try:
                await self._poll()
            except Exception:  # a failed read must not end live updates for good
                log.exception("reading the events outbox failed")
            self._nudge.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudge.wait(), POLL_SECONDS)
        # Nobody listens: forget the cursor, the next subscriber starts from the present.
        self._cursor = None

    async def _poll(self) -> None:
        cursor = self._cursor or 0
        while True:
            rows = await self.rt.db.read(partial(_read, after_id=cursor))
            for row in rows:
                cursor = int(row["id"])
                topics = topics_of(row)
                if topics:
                    self.publish(int(row["tenant_id"]), topics)
            self._cursor = cursor
            if len(rows) < BATCH:
                return

    def stopping(self) -> None:
        """The server is stopping (called from its signal handler): end the streams from the loop."""
        self._loop.call_soon_threadsafe(self._end_streams)

    def _end_streams(self) -> None:
        self._closed = True
        for subs in self._subscribers.values():
            for sub in subs:
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    async def close(self) -> None:
        self._end_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _read(conn: Connection, *, after_id: int) -> list[dict[str, Any]]:
    return events_after(conn, after_id=after_id, limit=BATCH, types=MESSAGE_EVENTS)


def _last_event_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one())
