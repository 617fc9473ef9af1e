"""``NeonizeSession``: a ``WebSession`` over neonize's synchronous client.

Why the synchronous client: neonize's asyncio client (``neonize.aioze``) dispatches every
event to one process-wide event loop fixed at the first ``connect``, which breaks a node (or
a test run) that owns more than one loop. The synchronous client calls our handlers from
whatsmeow's threads; the session hands events to a thread-safe sink and runs the blocking
calls (send, upload, download) in worker threads, so the event loop never waits on Go.

``run`` first checks that WhatsApp's server answers at all: without a network every
``Neonize`` call would open a fresh device-store connection pool inside Go that is never
closed, so an offline node retrying with backoff would slowly leak them.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from typing import Any

from wagate.channels.web import library
from wagate.channels.web.session import EventSink, NotConnected, PairingEnded, QrCode, SessionError, SessionSpec

#: WhatsApp Web's websocket endpoint, checked before each connection attempt.
WA_HOST = "web.whatsapp.com"
WA_PORT = 443
PREFLIGHT_TIMEOUT = 10.0
#: neonize event classes forwarded to the sink (``neonize.events``).
FORWARDED = (
    "ConnectedEv",
    "DisconnectedEv",
    "LoggedOutEv",
    "TemporaryBanEv",
    "StreamReplacedEv",
    "ConnectFailureEv",
    "ClientOutdatedEv",
    "KeepAliveTimeoutEv",
    "KeepAliveRestoredEv",
    "PairStatusEv",
    "MessageEv",
    "ReceiptEv",
    "StreamErrorEv",
)
NOT_CONNECTED_HINTS = ("not connected", "websocket not connected", "not logged in")


def _client_class() -> Any:
    modules = library.load()
    base = modules["client"].NewClient

    class _Client(base):  # type: ignore[misc, valid-type]
        """neonize's client with its login-status callback (which prints) routed to the sink."""

        sink: EventSink | None = None

        def _NewClient__onLoginStatus(self, uuid: int, status: Any) -> None:
            import ctypes

            text = ctypes.string_at(status).decode(errors="replace") if isinstance(status, int) else str(status)
            if self.sink is not None:
                self.sink(PairingEnded(text))

    return _Client


def jid_text(jid: Any) -> str:
    device = f":{jid.Device}" if getattr(jid, "Device", 0) else ""
    return f"{jid.User}{device}@{jid.Server}"


def parse_jid(text: str) -> Any:
    """``user[:device]@server`` → neonize's ``JID``."""
    jid_cls = library.proto("pb.JID")
    user, _, server = text.partition("@")
    user, _, device = user.partition(":")
    return jid_cls(User=user, Server=server or "s.whatsapp.net", Device=int(device or 0), IsEmpty=False)


class NeonizeSession:
    def __init__(self, spec: SessionSpec) -> None:
        self.spec = spec
        modules = library.load()  # LibraryUnavailable propagates: the channel shows "failed"
        self._events = modules["events"]
        self._enum = modules["enum"]
        cls = _client_class()
        jid = parse_jid(spec.jid) if spec.jid else None
        # A fresh uuid per session object: neonize's finalizer stops the Go client of its uuid
        # when the Python object is collected, which must never hit a newer session's client.
        self._client = cls(
            spec.store, jid=jid, uuid=f"wagate-{spec.channel_id}-{secrets.token_hex(4)}", new_device=jid is None
        )
        self._thread: threading.Thread | None = None
        self._stopped = False

    async def _preflight(self) -> None:
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(WA_HOST, WA_PORT), PREFLIGHT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise SessionError(f"cannot reach {WA_HOST}:{WA_PORT}: {exc or type(exc).__name__}") from exc
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    def _install(self, sink: EventSink) -> None:
        client = self._client
        client.sink = sink
        for name in FORWARDED:
            cls = getattr(self._events, name)

            def forward(_client: Any, event: Any) -> None:
                sink(event)

            client.event(cls)(forward)
        client.event.qr(lambda _client, data: sink(QrCode(bytes(data).decode(errors="replace"))))

    async def run(self, sink: EventSink) -> None:
        if self._stopped:
            return
        await self._preflight()
        self._install(sink)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[BaseException | None] = loop.create_future()

        def finish(result: BaseException | None) -> None:
            if not done.done():
                done.set_result(result)

        def target() -> None:
            result: BaseException | None = None
            try:
                self._client.connect()
            except BaseException as exc:  # surfaced on the loop as SessionError
                result = exc
            with contextlib.suppress(RuntimeError):  # the loop is gone (process ending)
                loop.call_soon_threadsafe(finish, result)

        # A daemon thread: neonize's connect blocks until stopped.
        self._thread = threading.Thread(target=target, name=f"wagate-web-{self.spec.channel_id}", daemon=True)
        self._thread.start()
        try:
            error = await asyncio.shield(done)
        except asyncio.CancelledError:
            await self.stop()
            raise
        if error is not None and not self._stopped:
            raise SessionError(str(error) or type(error).__name__)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._client.stop)

    async def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        except Exception as exc:
            text = str(exc) or type(exc).__name__
            if any(hint in text.lower() for hint in NOT_CONNECTED_HINTS):
                raise NotConnected(text) from exc
            raise SessionError(text) from exc

    def _require_connection(self) -> None:
        # ``is_connected`` asks whatsmeow; neonize's own ``connected`` flag never turns back to False.
        if self._thread is None or not self._client.is_connected:
            raise NotConnected("the session is not connected")

    async def pair_phone(self, phone: str) -> str:
        enum = self._enum
        code = await self._call(self._client.PairPhone, phone, True, enum.ClientName.LINUX)
        return str(code)

    async def logout(self) -> None:
        await self._call(self._client.logout)

    async def send(self, to: Any, message: Any, *, link_preview: bool = False) -> Any:
        self._require_connection()
        if link_preview and message.conversation:
            return await self._call(self._client.send_message, to, message.conversation, link_preview=True)
        return await self._call(self._client.send_message, to, message)

    async def upload(self, data: bytes, media_type: str) -> Any:
        self._require_connection()
        kinds = self._enum.MediaType
        kind = {
            "image": kinds.MediaImage,
            "video": kinds.MediaVideo,
            "audio": kinds.MediaAudio,
        }.get(media_type, kinds.MediaDocument)
        return await self._call(self._client.upload, data, kind)

    async def download(self, message: Any) -> bytes:
        data = await self._call(self._client.download_any, message)
        return bytes(data or b"")

    async def is_on_whatsapp(self, phones: list[str]) -> list[Any]:
        self._require_connection()
        return list(await self._call(self._client.is_on_whatsapp, *[f"+{p}" for p in phones]))

    async def typing(self, to: Any, composing: bool) -> None:
        enum = self._enum
        state = enum.ChatPresence.CHAT_PRESENCE_COMPOSING if composing else enum.ChatPresence.CHAT_PRESENCE_PAUSED
        await self._call(self._client.send_chat_presence, to, state, enum.ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT)

    async def phone_for_lid(self, lid: Any) -> Any | None:
        try:
            jid = await self._call(self._client.get_pn_from_lid, lid)
        except SessionError:
            return None
        return jid if jid is not None and jid.User else None


def neonize_factory(spec: SessionSpec) -> NeonizeSession:
    return NeonizeSession(spec)
