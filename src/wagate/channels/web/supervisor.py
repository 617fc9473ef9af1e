"""One channel's WhatsApp Web session, kept alive: states, reconnects, and every event handled.

States (``GET /v1/channels/{name}/session``): ``connecting`` → ``pairing`` (a QR to scan, or a
pairing code) → ``connected``; ``disconnected`` (no network, the connection dropped, a QR
nobody scanned), ``logged_out`` (unlinked from the phone: pair again), ``banned`` (a
temporary ban: retried when it ends), ``failed`` (the library cannot run here, or WhatsApp
refuses this client version). Each change is written to ``web_sessions`` and appended as a
``channel.status`` event (webhooks, dashboard) in one transaction.

Reconnecting: a failed connection attempt waits with exponential backoff and full jitter
(2 s doubling to 5 minutes), so an offline node makes a handful of attempts an hour and logs
one line per change of state, not per attempt. Once connected, whatsmeow reconnects a dropped
connection by itself; the supervisor only reports it. A logged-out, stream-replaced or
unpaired session waits for ``restart`` instead of retrying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from wagate.channels.web import recorder
from wagate.channels.web.library import LibraryUnavailable
from wagate.channels.web.session import PairingEnded, QrCode, SessionError, SessionFactory, SessionSpec, WebSession
from wagate.runtime import Runtime
from wagate.store.repos import web as web_repo
from wagate.store.repos.channels import ChannelRow

log = logging.getLogger("wagate.web")

#: Events handled concurrently (up to ``MAX_CONCURRENT_EVENTS`` at once); the rest in order.
CONCURRENT = frozenset({"Message", "Receipt"})
MAX_CONCURRENT_EVENTS = 64
STATES = ("pairing", "connecting", "connected", "disconnected", "logged_out", "banned", "failed")
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
#: QR windows (about 2.5 minutes each) shown in a row before waiting for ``restart``.
MAX_PAIRING_WINDOWS = 3
LOGGED_OUT_REASONS = {2: "logged out", 4: "the main device is gone", 5: "logged out (unknown reason)"}
BAN_CODES = {
    1: "sent to too many people",
    2: "blocked by too many users",
    3: "created too many groups",
    4: "sent too many identical messages",
    5: "broadcast lists",
}


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: full jitter under a doubling ceiling."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass
class Halt:
    """Why the supervisor stopped retrying; ``until`` (seconds) resumes by itself (a ban)."""

    reason: str
    until: float | None = None


class Supervisor:
    def __init__(
        self,
        rt: Runtime,
        channel: ChannelRow,
        *,
        factory: SessionFactory,
        spec: Callable[[str | None], SessionSpec],
        owner: str,
        fence: int,
        on_lost: Callable[[int], None],
        device_stored: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.rt = rt
        self.channel = channel
        self.factory = factory
        self.spec = spec
        self.owner = owner
        self.fence = fence
        self.on_lost = on_lost
        self.device_stored = device_stored
        self.state = "connecting"
        self.jid: str | None = None
        self.session: WebSession | None = None
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_EVENTS)
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._halt: Halt | None = None
        self._attempt = 0
        self._pairing_windows = 0
        self._stopping = False
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- life ------------------------------------------------------------------------------------

    async def start(self, jid: str | None) -> None:
        self.jid = jid
        self.loop = asyncio.get_running_loop()
        self._consumer = asyncio.create_task(self._consume(), name=f"web-events-{self.channel.id}")
        self._task = asyncio.create_task(self._run(), name=f"web-session-{self.channel.id}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        session = self.session
        if session is not None:
            with contextlib.suppress(Exception):
                await session.stop()
        for task in (self._task, self._consumer, *self._inflight):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def restart(self) -> None:
        """Leave any halt (logged out, unscanned QR, stream replaced) and connect again now."""
        self._halt = None
        self._attempt = 0
        self._pairing_windows = 0
        await self._end_session()
        self._wake.set()

    async def logout(self) -> None:
        """Unlink from the phone (when connected) and wait for ``restart`` to pair again."""
        session = self.session
        if session is not None and self.state == "connected":
            with contextlib.suppress(SessionError):
                await session.logout()
        await self._logged_out("logged out through the API")

    @property
    def connected(self) -> bool:
        return self.state == "connected" and self.session is not None

    # -- the connection loop ---------------------------------------------------------------------

    def _sink(self, event: Any) -> None:
        """Thread-safe: whatsmeow calls it from its own threads."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._events.put_nowait, event)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._attempt_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is down, say: never let the session die with it
                log.exception("web channel %s: session loop failed; retrying", self.channel.name)
                self._attempt += 1
                await self._sleep(backoff(self._attempt))

    async def _attempt_once(self) -> None:
        """One turn: wait out a halt, or connect, serve until the session ends, and back off."""
        if self._halt is not None:
            await self._wait_halt(self._halt)
            return
        await self.report(state="connecting")
        if self.jid and self.device_stored is not None and not await self.device_stored(self.jid):
            await self._logged_out("the linked device's keys are gone from the device store; pair again")
            return
        try:
            session = self.factory(self.spec(self.jid))
        except LibraryUnavailable as exc:
            await self.report(state="failed", error=str(exc))
            self._halt = Halt(str(exc))
            return
        except Exception as exc:
            log.exception("web session of channel %s cannot be built", self.channel.name)
            await self.report(state="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            self._halt = Halt(str(exc))
            return
        self.session = session
        error: str | None = None
        try:
            await session.run(self._sink)
        except SessionError as exc:
            error = str(exc)[:500] or "connection failed"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a library bug: report it, retry like a failed connection
            log.exception("web session of channel %s crashed", self.channel.name)
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            self.session = None
        await self.drained()  # everything the session said is handled before we judge
        if self._stopping:
            return
        if self._halt is not None:
            return
        self._attempt += 1
        delay = backoff(self._attempt)
        if self.state not in ("disconnected", "failed") or error:
            await self.report(state="disconnected", error=error or "the connection ended", qr=None)
        log.info("web channel %s: %s; retrying in %.0f s", self.channel.name, error or "connection ended", delay)
        await self._sleep(delay)

    async def _wait_halt(self, halt: Halt) -> None:
        await self._sleep(halt.until)
        if halt.until is not None and self._halt is halt:
            self._halt = None

    async def _sleep(self, seconds: float | None) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _end_session(self) -> None:
        session = self.session
        if session is not None:
            with contextlib.suppress(Exception):
                await session.stop()

    async def _halt_with(self, halt: Halt) -> None:
        self._halt = halt
        await self._end_session()

    # -- events ----------------------------------------------------------------------------------

    async def _consume(self) -> None:
        """State events one by one, in order; messages and receipts concurrently (bounded), so
        their writes share group commits instead of paying one commit each in a row."""
        while True:
            event = await self._events.get()
            try:
                if type(event).__name__ in CONCURRENT:
                    await self._slots.acquire()
                    task = asyncio.create_task(self._handle_in_slot(event))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                else:
                    await self._handle_logged(event)
            finally:
                self._events.task_done()

    async def _handle_in_slot(self, event: Any) -> None:
        try:
            await self._handle_logged(event)
        finally:
            self._slots.release()

    async def _handle_logged(self, event: Any) -> None:
        try:
            await self.handle(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("web channel %s: handling %s failed", self.channel.name, type(event).__name__)

    async def drained(self) -> None:
        """Every event received so far is handled (messages included)."""
        await self._events.join()
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def handle(self, event: Any) -> None:
        name = type(event).__name__
        if isinstance(event, QrCode):
            await self.report(state="pairing", qr=event.code, error=None)
        elif isinstance(event, PairingEnded):
            await self._pairing_ended(event.event)
        elif name == "PairStatus":
            if int(event.Status) == 2:
                jid = event.ID
                self.jid = f"{jid.User}:{jid.Device}@{jid.Server or 's.whatsapp.net'}"
                await self.report(jid=self.jid, phone=str(jid.User), qr=None, error=None)
            else:
                await self.report(error=f"pairing failed: {event.Error}"[:500])
        elif name == "Connected":
            self._attempt = 0
            self._pairing_windows = 0
            await self.report(state="connected", qr=None, error=None)
            self.rt.wakeup.notify()  # messages that waited for the session can go now
        elif name == "Disconnected":
            if self.state == "connected":
                await self.report(state="disconnected", error="connection lost; whatsmeow is reconnecting")
        elif name == "KeepAliveTimeout":
            await self.report(state="disconnected", error=f"keep-alive timeout ({event.ErrorCount} in a row)")
        elif name == "KeepAliveRestored":
            await self.report(state="connected", error=None)
            self.rt.wakeup.notify()
        elif name == "LoggedOut":
            await self._logged_out(LOGGED_OUT_REASONS.get(int(event.Reason), "logged out from the phone"))
        elif name == "TemporaryBan":
            await self._banned(int(event.Code), int(event.Expire))
        elif name == "StreamReplaced":
            reason = "another client opened this session (stream replaced); restart to take it back"
            await self.report(state="disconnected", error=reason)
            await self._halt_with(Halt(reason))
        elif name == "ConnectFailure":
            await self._connect_failure(int(event.Reason), str(event.Message))
        elif name == "ClientOutdated":
            reason = "WhatsApp refuses this client version: update neonize"
            await self.report(state="failed", error=reason)
            await self._halt_with(Halt(reason))
        elif name == "StreamError":
            await self.report(state="disconnected", error=f"stream error {event.Code}")
        elif name == "Message":
            await recorder.record_message(self.rt, self.channel, self.session, event)
        elif name == "Receipt":
            await recorder.record_receipt(self.rt, self.channel, event)

    async def _pairing_ended(self, event: str) -> None:
        if event == "success":
            return
        self._pairing_windows += 1
        if self._pairing_windows >= MAX_PAIRING_WINDOWS:
            reason = "nobody scanned the QR code; restart the session to pair"
            await self.report(state="disconnected", qr=None, error=reason)
            await self._halt_with(Halt(reason))
        else:
            await self.report(qr=None, error=f"QR pairing window ended ({event})")
            await self._end_session()

    async def _logged_out(self, reason: str) -> None:
        self.jid = None
        await self.report(state="logged_out", qr=None, jid=None, error=reason)
        await self._halt_with(Halt(f"{reason}; restart the session to pair again"))

    async def _banned(self, code: int, expire_seconds: int) -> None:
        why = BAN_CODES.get(code, f"code {code}")
        until = self.rt.clock.now() + timedelta(seconds=max(0, expire_seconds))
        reason = f"temporarily banned by WhatsApp ({why}) until {until.isoformat(timespec='seconds')}"
        await self.report(state="banned", error=reason)
        await self._halt_with(Halt(reason, until=float(max(60, expire_seconds))))

    async def _connect_failure(self, reason: int, message: str) -> None:
        if reason in LOGGED_OUT_REASONS:
            await self._logged_out(LOGGED_OUT_REASONS[reason])
        elif reason == 3:
            await self._banned(0, 3600)
        elif reason == 6:
            text = "WhatsApp refuses this client version: update neonize"
            await self.report(state="failed", error=text)
            await self._halt_with(Halt(text))
        else:
            await self.report(state="disconnected", error=f"connect failure {reason}: {message}"[:500])
            await self._end_session()

    # -- the row ---------------------------------------------------------------------------------

    async def report(self, **values: Any) -> bool:
        """Write what changed (fenced by our lease); a lost lease stops this supervisor."""
        if "state" in values:
            if values["state"] != self.state:
                log.info("web channel %s: %s → %s", self.channel.name, self.state, values["state"])
            self.state = values["state"]
        now = self.rt.clock.now()
        channel, owner, fence = self.channel, self.owner, self.fence
        held = await self.rt.db.write(
            lambda c: web_repo.report(c, channel, owner=owner, fence=fence, values=values, now=now)
        )
        if not held and not self._stopping:
            log.warning("web channel %s: lease lost; stopping the session here", channel.name)
            self.on_lost(channel.id)
        return bool(held)
