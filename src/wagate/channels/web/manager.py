"""``WebSessions``: the node-wide keeper of web sessions and their leases.

Every ``RENEW_SECONDS`` (and at once when a channel is created or changed) it walks the web
channels of every tenant: it takes or renews the lease of each (``store.repos.web.acquire``),
starts a supervisor for every lease it holds and stops the ones whose lease it lost. A node
that stops releases its leases; a node that dies lets them expire after ``LEASE_SECONDS``,
and another node takes the sessions over (with a higher fence).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from functools import partial
from typing import Any

import sqlalchemy as sa

from wagate.channels.web.session import SessionFactory, SessionSpec, postgres_store, sqlite_store
from wagate.channels.web.supervisor import Supervisor
from wagate.runtime import Runtime
from wagate.store.repos import channels as channel_repo
from wagate.store.repos import web as web_repo
from wagate.store.repos.channels import ChannelRow

log = logging.getLogger("wagate.web")

LEASE_SECONDS = 30.0
RENEW_SECONDS = 10.0
#: Wake-ups (a message accepted, a channel changed) rescan at most this often.
MIN_SCAN_GAP = 1.0
#: A phone-check answer is kept this long; checks are spaced by ``PHONE_CHECK_INTERVAL``.
PHONE_CHECK_TTL = 24 * 3600.0
PHONE_CHECK_INTERVAL = 2.0


class WebSessions:
    def __init__(
        self,
        rt: Runtime,
        factory: SessionFactory,
        *,
        lease_seconds: float = LEASE_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
        scan_gap: float = MIN_SCAN_GAP,
        owner: str | None = None,
        check_store: bool = True,
    ) -> None:
        self.rt = rt
        self.factory = factory
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.scan_gap = scan_gap
        #: Ask whatsmeow's store before resuming a device (off for the fake, which has no store).
        self.check_store = check_store
        self.owner = owner or f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.supervisors: dict[int, Supervisor] = {}
        self._poke = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._phone_cache: dict[tuple[int, str], tuple[float, str]] = {}
        self._phone_locks: dict[int, asyncio.Lock] = {}
        self._phone_last: dict[int, float] = {}

    # -- life ------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.rt.wakeup.listeners.append(self.poke)
        await self.scan()
        self._task = asyncio.create_task(self._loop(), name="web-sessions")

    async def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(ValueError):
            self.rt.wakeup.listeners.remove(self.poke)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for channel_id in list(self.supervisors):
            await self._drop(channel_id, release=True)

    def poke(self) -> None:
        self._poke.set()

    async def _loop(self) -> None:
        last = time.monotonic()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), max(0.0, last + self.renew_seconds - time.monotonic()))
            gap = last + self.scan_gap - time.monotonic()
            if gap > 0:  # a burst of wake-ups (messages being accepted) makes one pass a second
                await asyncio.sleep(gap)
            self._poke.clear()
            last = time.monotonic()
            try:
                await self.scan()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("web sessions: lease pass failed; retrying")

    # -- leases ----------------------------------------------------------------------------------

    def spec_for(self, channel: ChannelRow) -> Any:
        db_url = self.rt.settings.database_url
        store = (
            postgres_store(db_url) if self.rt.db.is_postgres else sqlite_store(self.rt.settings.data_dir, channel.id)
        )
        name = str(channel.settings.get("device_name") or "wagate")[:40]

        def spec(jid: str | None) -> SessionSpec:
            return SessionSpec(channel_id=channel.id, store=store, jid=jid, device_name=name)

        return spec

    async def device_stored(self, channel: ChannelRow, jid: str) -> bool:
        """Whether whatsmeow's store still holds the linked device ``jid``.

        Resuming a device the store lost would crash whatsmeow (a nil device), taking the node
        with it; the supervisor asks first and pairs anew instead.
        """
        if self.rt.db.is_postgres:

            def read(conn: Any) -> bool:
                if not conn.execute(sa.text("SELECT to_regclass('whatsmeow_device') IS NOT NULL")).scalar():
                    return False
                found = conn.execute(sa.text("SELECT 1 FROM whatsmeow_device WHERE jid = :jid"), {"jid": jid})
                return found.first() is not None

            return bool(await self.rt.db.read(read))
        path = sqlite_store(self.rt.settings.data_dir, channel.id)

        def look() -> bool:
            import sqlite3

            try:
                with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                    return db.execute("SELECT 1 FROM whatsmeow_device WHERE jid = ?", (jid,)).fetchone() is not None
            except sqlite3.Error:
                return False

        return await asyncio.to_thread(look)

    async def scan(self) -> None:
        rows = [r for r in await self.rt.db.read(channel_repo.list_channels) if r.kind == "web"]
        now = self.rt.clock.now()
        seen = set()
        for row in rows:
            seen.add(row.id)
            fence = await self.rt.db.write(
                partial(web_repo.acquire, channel_id=row.id, owner=self.owner, now=now, ttl_seconds=self.lease_seconds)
            )
            current = self.supervisors.get(row.id)
            if fence is None:
                if current is not None:
                    log.warning("web channel %s: another node holds the session now", row.name)
                    await self._drop(row.id, release=False)
                continue
            if current is not None and current.fence == fence:
                current.channel = row
                continue
            if current is not None:
                await self._drop(row.id, release=False)
            await self._launch(row, fence)
        for channel_id in list(self.supervisors):
            if channel_id not in seen:
                await self._drop(channel_id, release=True)

    async def _launch(self, row: ChannelRow, fence: int) -> None:
        session_row = await self.rt.db.read(lambda c: web_repo.get_session(c, row.id))
        jid = session_row.jid if session_row is not None else None
        supervisor = Supervisor(
            self.rt,
            row,
            factory=self.factory,
            spec=self.spec_for(row),
            owner=self.owner,
            fence=fence,
            on_lost=self._lost,
            device_stored=(lambda jid: self.device_stored(row, jid)) if self.check_store else None,
        )
        self.supervisors[row.id] = supervisor
        await supervisor.start(jid)

    def _lost(self, channel_id: int) -> None:
        asyncio.get_running_loop().create_task(self._drop(channel_id, release=False))

    async def _drop(self, channel_id: int, *, release: bool) -> None:
        supervisor = self.supervisors.pop(channel_id, None)
        if supervisor is None:
            return
        await supervisor.stop()
        if release:
            owner, fence = self.owner, supervisor.fence
            with contextlib.suppress(Exception):
                await self.rt.db.write(lambda c: web_repo.release(c, channel_id, owner, fence))

    # -- what the API and the channel ask --------------------------------------------------------

    def get(self, channel_id: int) -> Supervisor | None:
        return self.supervisors.get(channel_id)

    async def check_phone(self, channel_id: int, phone: str) -> str:
        """``exists``/``none`` from WhatsApp (cached a day, one lookup per 2 s per channel), else ``unknown``."""
        cached = self._phone_cache.get((channel_id, phone))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        supervisor = self.supervisors.get(channel_id)
        if supervisor is None or not supervisor.connected or supervisor.session is None:
            return "unknown"
        lock = self._phone_locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            wait = self._phone_last.get(channel_id, 0.0) + PHONE_CHECK_INTERVAL - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._phone_last[channel_id] = time.monotonic()
            session = supervisor.session
            if session is None:
                return "unknown"
            try:
                answers = await session.is_on_whatsapp([phone])
            except Exception as exc:
                log.info("web phone check failed: %s", exc)
                return "unknown"
        answer = "exists" if any(a.IsIn for a in answers) else "none"
        self._phone_cache[(channel_id, phone)] = (time.monotonic() + PHONE_CHECK_TTL, answer)
        return answer
