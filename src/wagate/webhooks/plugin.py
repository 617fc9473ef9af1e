"""The lifespan plug-in: ``/v1/webhooks`` and ``/v1/events``, plus the fan-out, the sender and
the retention purge of this node (``WAGATE_WEBHOOKS=0`` keeps only the API and the feed).

Wake-ups, never polling: the fan-out is poked after every durable commit of this process
(``Database.add_commit_listener``), by ``rt.wakeup`` (new messages), by another node's
``events`` signal (``rt.signals``, carried by Redis when ``redis_url`` is set) and, on
PostgreSQL, by ``NOTIFY wagate_events`` from a trigger on ``events`` — delivered at commit, from
any node. The sender is poked by the fan-out, by finished attempts, by another node's
``deliveries`` signal and by ``NOTIFY wagate_deliveries``; otherwise it sleeps until the next
due retry. (With Redis on PostgreSQL both paths poke: a duplicate poke costs one cheap read.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from fastapi import FastAPI

from wagate.runtime import Runtime
from wagate.store.repos import webhooks as repo
from wagate.webhooks import service
from wagate.webhooks.fanout import Fanout
from wagate.webhooks.sender import Sender

log = logging.getLogger("wagate.webhooks")


class WebhookNode:
    """Everything that runs webhooks in one process; ``rt.components.get(WebhookNode)`` for tests and tools."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.sender = Sender(rt)
        self.fanout = Fanout(rt, on_deliveries=self._deliveries_created)
        self._tasks: list[asyncio.Task[None]] = []

    def _deliveries_created(self) -> None:
        """Our sender starts on them now; other nodes' senders hear of them too (they may be idle)."""
        self.sender.poke()
        self.rt.signals.announce("deliveries")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        fanout_poke = self.fanout.poke

        def threadsafe() -> None:
            with contextlib.suppress(RuntimeError):  # loop closed during shutdown
                loop.call_soon_threadsafe(fanout_poke)

        self.rt.db.add_commit_listener(threadsafe)
        self.rt.wakeup.listeners.append(fanout_poke)
        self.rt.signals.on("events", fanout_poke)
        self.rt.signals.on("deliveries", self.sender.poke)
        service.on_wake(self.rt, self.sender.poke)
        await self.sender.start()
        await self.fanout.start()
        self._tasks.append(asyncio.create_task(self._purge_loop(), name="webhooks-purge"))
        if self.rt.db.is_postgres:
            self._tasks.append(asyncio.create_task(self._listen(), name="webhooks-listen"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.fanout.stop()
        await self.sender.stop()
        with contextlib.suppress(ValueError):
            self.rt.wakeup.listeners.remove(self.fanout.poke)
        self.rt.signals.off("events", self.fanout.poke)
        self.rt.signals.off("deliveries", self.sender.poke)

    async def purge_once(self) -> tuple[int, int]:
        """Delete expired events and finished deliveries, chunk by chunk. Returns (events, deliveries)."""
        settings = self.rt.settings
        total_events = total_deliveries = 0
        while True:
            now = self.rt.clock.now()
            events_before, dead_before = repo.cutoffs(
                now, settings.events_retention_days, settings.webhook_dead_letter_days
            )

            events, deliveries = await self.rt.db.write(partial(_purge_chunk, before=events_before, dead=dead_before))
            total_events += events
            total_deliveries += deliveries
            if not events and not deliveries:
                return total_events, total_deliveries

    async def _purge_loop(self) -> None:
        while True:
            try:
                events, deliveries = await self.purge_once()
                if events or deliveries:
                    log.info("purged %d events and %d webhook deliveries", events, deliveries)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook retention purge failed")
            await asyncio.sleep(self.rt.settings.events_purge_interval_seconds)

    async def _listen(self) -> None:
        """LISTEN for other nodes' commits (PostgreSQL); reconnects after a lost connection."""
        fanout_poke, sender_poke = self.fanout.poke, self.sender.poke

        def on_events(*_args: Any) -> None:
            fanout_poke()

        def on_deliveries(*_args: Any) -> None:
            sender_poke()

        while True:
            try:
                async with self.rt.db.async_engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection
                    await driver.add_listener("wagate_events", on_events)
                    await driver.add_listener("wagate_deliveries", on_deliveries)
                    lost = asyncio.Event()
                    driver.add_termination_listener(partial(_set_event, lost))
                    try:
                        fanout_poke()  # anything committed while we were not listening
                        await lost.wait()
                    finally:
                        if not driver.is_closed():
                            await driver.remove_listener("wagate_events", on_events)
                            await driver.remove_listener("wagate_deliveries", on_deliveries)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("LISTEN connection lost; reconnecting")
            await asyncio.sleep(1.0)


def _purge_chunk(conn: Any, *, before: Any, dead: Any) -> tuple[int, int]:
    return repo.purge(
        conn, events_before=before, delivered_before=before, dead_before=dead, horizon=repo.read_cursor(conn)
    )


def _set_event(event: asyncio.Event, *_args: Any) -> None:
    event.set()


async def webhooks_plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]] | None:
    """Run fan-out, sender and purge unless ``settings.webhooks`` is off (``create_app`` mounts the API)."""
    if not rt.settings.webhooks:
        return None
    node = WebhookNode(rt)
    rt.components.add(node)
    await node.start()
    return node.stop
