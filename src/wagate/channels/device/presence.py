"""The presence monitor: devices silent past their channel's threshold are marked ``offline``.

One background task per node (a lifespan plug-in). It sleeps until the next moment an
online device would turn silent, or until a device comes online (which sets a new
deadline). Several processes may run it: the guarded UPDATE in
``store.repos.devices.mark_silent_offline`` lets only one of them record each change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from wagate.channels.device import service
from wagate.runtime import Runtime
from wagate.store.repos import devices as repo

log = logging.getLogger("wagate.device")

#: Longest sleep between sweeps when no device is online (a safety net; arrivals wake it).
MAX_SLEEP = 30.0
#: Shortest sleep, so a burst of deadlines costs a few sweeps, not a busy loop.
MIN_SLEEP = 0.05


class PresenceMonitor:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._task: asyncio.Task[None] | None = None
        self._changed = service.presence_changed(rt)
        self._stopping = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="device-presence")

    async def stop(self) -> None:
        """Stop by flag first: on Python 3.11 ``wait_for`` can swallow a cancel that races its wake-up."""
        self._stopping = True
        self._changed.set()
        if self._task is not None:
            _done, pending = await asyncio.wait({self._task}, timeout=5.0)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._task = None

    async def sweep(self) -> float:
        """Mark silent devices offline; return the seconds until the next deadline."""
        marked = await service.sweep_offline(self.rt)
        for row in marked:
            log.warning("device went offline", extra={"device": row.name, "channel": row.channel_name})
        deadline = await self.rt.db.read(repo.next_offline_deadline)
        if deadline is None:
            return MAX_SLEEP
        seconds = (deadline - self.rt.clock.now()).total_seconds() + 0.01
        return min(MAX_SLEEP, max(MIN_SLEEP, seconds))

    async def _run(self) -> None:
        while not self._stopping:
            try:
                timeout = await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("device presence sweep failed; retrying soon")
                timeout = 5.0
            if self._stopping:
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
