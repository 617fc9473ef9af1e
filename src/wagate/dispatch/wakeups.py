"""Cross-process wake-ups on PostgreSQL: ``LISTEN``/``NOTIFY`` on a dedicated asyncpg connection.

Every local wake-up (``rt.wakeup.notify()``: a message accepted and committed, a channel
changed, a retry requeued) is relayed as ``NOTIFY wagate_wakeup``; every notification from
another process wakes this one's dispatcher. Notifications carry the sender's token so a
process ignores its own. Bursts are coalesced: at most one NOTIFY is in flight, plus one
pending. If the connection drops it is re-opened with backoff and the local dispatcher is woken
(a notification may have been missed while it was down), so nothing waits for a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa

from wagate.runtime import Runtime

log = logging.getLogger("wagate.dispatch.wakeups")

CHANNEL = "wagate_wakeup"


def asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` → a DSN asyncpg understands."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgWakeupRelay:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.token = uuid.uuid4().hex
        self._conn: Any = None
        self._relaying = False
        self._in_flight = False
        self._pending = False
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconnect: asyncio.Task[None] | None = None
        #: Notifications received from other processes (observability and tests).
        self.received = 0

    async def start(self) -> None:
        await self._connect()
        self.rt.wakeup.listeners.append(self._on_local_wakeup)

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(ValueError):
            self.rt.wakeup.listeners.remove(self._on_local_wakeup)
        tasks = list(self._tasks) + ([self._reconnect] if self._reconnect else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=5)
            self._conn = None

    async def _connect(self) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.rt.settings.database_url))
        await conn.add_listener(CHANNEL, self._on_notification)
        conn.add_termination_listener(self._on_terminated)
        self._conn = conn

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == self.token:
            return
        self.received += 1
        self._relaying = True
        try:
            self.rt.wakeup.notify()
        finally:
            self._relaying = False

    def _on_local_wakeup(self) -> None:
        if self._relaying or self._closing:
            return
        if self._in_flight:
            self._pending = True
            return
        self._in_flight = True
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        try:
            while True:
                self._pending = False
                conn = self._conn
                if conn is not None and not conn.is_closed():
                    try:
                        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, self.token)
                    except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                        log.warning("NOTIFY failed; other processes wake on their own timers", exc_info=True)
                if not self._pending:
                    return
        finally:
            self._in_flight = False

    def _on_terminated(self, _conn: Any) -> None:
        if self._closing:
            return
        log.warning("the LISTEN connection closed; reconnecting")
        self._conn = None
        self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delay = 0.5
        while not self._closing:
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self._relaying = True
            try:
                self.rt.wakeup.notify()  # something may have been missed while down
            finally:
                self._relaying = False
            return
