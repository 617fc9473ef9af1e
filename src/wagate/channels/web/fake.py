"""``FakeWhatsApp``: a faithful fake of WhatsApp Web for tests and benchmarks.

WhatsApp's servers are out of reach where tests run, so this fake stands in for the far side
of ``WebSession``. It speaks in neonize's own objects: events are neonize's protobuf event
messages (built from neonize's classes exactly as its Go core fills them), sends answer with
neonize's ``SendResponse``, uploads with ``UploadResponse``. Every call made to a session is
recorded (``calls``), so tests assert what the channel asked WhatsApp to do.

Behaviour: an unpaired session shows QR payloads until ``pair`` is called; a paired one
connects at once. ``unreachable`` makes ``run`` fail like a machine without a network.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from wagate.channels.web import library
from wagate.channels.web.codec import make_jid
from wagate.channels.web.session import EventSink, NotConnected, QrCode, SessionError, SessionSpec


@dataclass
class FakeWhatsApp:
    """The far side: which numbers exist, which LIDs map to which phones, media on the "CDN"."""

    registered: set[str] = field(default_factory=set)
    lids: dict[str, str] = field(default_factory=dict)
    unreachable: str | None = None
    sessions: dict[int, FakeWebSession] = field(default_factory=dict)
    created: list[FakeWebSession] = field(default_factory=list)
    cdn: dict[str, bytes] = field(default_factory=dict)
    #: Phone that scanning the QR links, per channel (what ``pair`` uses by default).
    pair_codes: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def factory(self, spec: SessionSpec) -> FakeWebSession:
        session = FakeWebSession(self, spec)
        self.sessions[spec.channel_id] = session
        self.created.append(session)
        return session

    def session(self, channel_id: int) -> FakeWebSession:
        return self.sessions[channel_id]


class FakeWebSession:
    def __init__(self, world: FakeWhatsApp, spec: SessionSpec) -> None:
        self.world = world
        self.spec = spec
        self.calls: list[tuple[str, Any]] = []
        self.sink: EventSink | None = None
        self.connected = False
        self.send_error: SessionError | None = None
        self._stop = asyncio.Event()
        self._ids = itertools.count(1)
        self.me: str | None = spec.jid

    # -- WebSession ------------------------------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        self.calls.append(("run", None))
        if self.world.unreachable:
            raise SessionError(self.world.unreachable)
        self.sink = sink
        if self.me is None:
            sink(QrCode(f"2@{secrets.token_urlsafe(24)},{secrets.token_urlsafe(12)},fake"))
        else:
            self.connect()
        await self._stop.wait()
        self.connected = False

    async def stop(self) -> None:
        self.calls.append(("stop", None))
        self._stop.set()

    async def pair_phone(self, phone: str) -> str:
        self.calls.append(("pair_phone", phone))
        if self.sink is None:
            raise NotConnected("pairing needs the websocket open")
        code = f"{next(self.world.pair_codes):04d}"
        return f"FAKE{code}"

    async def logout(self) -> None:
        self.calls.append(("logout", None))  # whatsmeow's Logout emits no LoggedOut event
        self.connected = False

    async def send(self, to: Any, message: Any, *, link_preview: bool = False) -> Any:
        self.calls.append(("send", (to, message, link_preview)))
        if not self.connected:
            raise NotConnected("websocket not connected")
        if self.send_error is not None:
            raise self.send_error
        message_id = f"3EB0{next(self._ids):016X}"
        return library.proto("pb.SendResponse")(ID=message_id, Timestamp=int(time.time()), Chat=to)

    async def upload(self, data: bytes, media_type: str) -> Any:
        self.calls.append(("upload", (media_type, len(data))))
        if not self.connected:
            raise NotConnected("websocket not connected")
        path = f"/v/t62.{media_type}/{secrets.token_hex(8)}"
        self.world.cdn[path] = data
        return library.proto("pb.UploadResponse")(
            url=f"https://mmg.whatsapp.net{path}",
            DirectPath=path,
            MediaKey=secrets.token_bytes(32),
            FileEncSHA256=hashlib.sha256(b"enc" + data).digest(),
            FileSHA256=hashlib.sha256(data).digest(),
            FileLength=len(data),
        )

    async def download(self, message: Any) -> bytes:
        self.calls.append(("download", None))
        for _descriptor, value in message.ListFields():
            path = getattr(value, "directPath", None)
            if path and path in self.world.cdn:
                return self.world.cdn[path]
        raise SessionError(f"download failed: media not found ({message.ListFields()[0][0].name})")

    async def is_on_whatsapp(self, phones: list[str]) -> list[Any]:
        self.calls.append(("is_on_whatsapp", list(phones)))
        if not self.connected:
            raise NotConnected("websocket not connected")
        answer = library.proto("pb.IsOnWhatsAppResponse")
        return [answer(Query=f"+{p}", JID=make_jid(p), IsIn=p in self.world.registered) for p in phones]

    async def typing(self, to: Any, composing: bool) -> None:
        self.calls.append(("typing", (to.User, composing)))

    async def phone_for_lid(self, lid: Any) -> Any | None:
        self.calls.append(("phone_for_lid", lid.User))
        phone = self.world.lids.get(lid.User)
        return make_jid(phone) if phone else None

    # -- driving it from a test ------------------------------------------------------------------

    def emit(self, event: Any) -> None:
        assert self.sink is not None, "the session is not running"
        self.sink(event)

    def connect(self) -> None:
        self.connected = True
        self.emit(library.proto("pb.Connected")(status=True))

    def pair(self, phone: str, device: int = 7) -> None:
        """The user scanned the QR (or typed the code) on the phone with number ``phone``."""
        jid = library.proto("pb.JID")(User=phone, Server="s.whatsapp.net", Device=device, IsEmpty=False)
        self.me = f"{phone}:{device}@s.whatsapp.net"
        self.emit(library.proto("pb.PairStatus")(ID=jid, Status=2, Platform="android"))
        self.connect()

    def drop(self) -> None:
        """The connection dropped (whatsmeow reconnects by itself, then ``connect`` again)."""
        self.connected = False
        self.emit(library.proto("pb.Disconnected")(status=True))

    def incoming(
        self,
        message: Any,
        *,
        sender: str,
        chat: str | None = None,
        from_me: bool = False,
        message_id: str | None = None,
        pushname: str = "",
        sender_alt: str | None = None,
        recipient_alt: str | None = None,
        timestamp: int | None = None,
    ) -> str:
        """Deliver a ``waE2E.Message`` as neonize's ``Message`` event; returns its id.

        ``sender``/``chat`` are JIDs as text (``7900…@s.whatsapp.net``, ``…@lid``, ``…@g.us``).
        """
        pb = library.load()["pb"]
        chat = chat or sender
        mid = message_id or f"ABCD{secrets.token_hex(8).upper()}"

        def jid(text: str | None) -> Any:
            if not text:
                return pb.JID()
            user, _, server = text.partition("@")
            return pb.JID(User=user, Server=server, IsEmpty=False)

        source = pb.MessageSource(
            Chat=jid(chat),
            Sender=jid(sender),
            IsFromMe=from_me,
            IsGroup=chat.endswith("@g.us"),
            SenderAlt=jid(sender_alt),
            RecipientAlt=jid(recipient_alt),
        )
        info = pb.MessageInfo(
            MessageSource=source, ID=mid, Type="text", Pushname=pushname, Timestamp=timestamp or int(time.time())
        )
        self.emit(pb.Message(Info=info, Message=message))
        return mid

    def receipt(self, kind: int, message_ids: list[str], chat: str) -> None:
        """A delivery/read/played receipt (neonize ``Receipt.Type``: 1 delivered, 4 read, 6 played)."""
        pb = library.load()["pb"]
        user, _, server = chat.partition("@")
        source = pb.MessageSource(Chat=pb.JID(User=user, Server=server), Sender=pb.JID(User=user, Server=server))
        self.emit(pb.Receipt(MessageSource=source, MessageIDs=message_ids, Timestamp=int(time.time()), Type=kind))
