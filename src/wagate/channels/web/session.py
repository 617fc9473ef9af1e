"""``WebSession``: the small seam between the web channel and WhatsApp Web.

Two implementations: ``NeonizeSession`` (the real one, over neonize/whatsmeow) and
``FakeWebSession`` (tests and benchmarks: WhatsApp's servers are out of reach there). Both
speak in neonize's own objects: the events a session emits are neonize's protobuf event
messages (``Connected``, ``Message``, ``Receipt``, ``LoggedOut`` …), and messages are sent as
neonize's ``waE2E.Message``. Only two things neonize hands over outside protobufs get a small
class here: a QR payload (``QrCode``) and the end of the QR pairing window (``PairingEnded``).

``run`` connects and returns only when the session ends (``stop``, or the library's own loop
ends); it raises ``SessionError`` when connecting fails (no network, a store error). Events
are handed to ``sink`` from whatever thread the library uses: the sink must be thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

#: Called with each event; must be safe to call from any thread.
EventSink = Callable[[Any], None]


class SessionError(RuntimeError):
    """Connecting or a call failed; the message is WhatsApp's or the library's own words."""


class NotConnected(SessionError):
    """A call that needs a connection was made while there is none: nothing was sent."""


@dataclass(frozen=True, slots=True)
class QrCode:
    """A QR payload to show (``ref,publickey,identitykey,advsecret``); it rotates every ~20 s."""

    code: str


@dataclass(frozen=True, slots=True)
class PairingEnded:
    """The QR pairing window closed: ``success``, ``timeout`` (nobody scanned) or ``err-…``."""

    event: str


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What a session is built from: the channel, where its device keys live, which device to resume."""

    channel_id: int
    #: A SQLite file path or a ``postgres://`` URL: whatsmeow's device store.
    store: str
    #: The linked device's JID (``7900…:12@s.whatsapp.net``) once paired; ``None`` pairs a new device.
    jid: str | None
    #: The device name the phone lists under "Linked devices".
    device_name: str = "wagate"


class WebSession(Protocol):
    async def run(self, sink: EventSink) -> None:
        """Connect and serve until stopped; ``SessionError`` if connecting fails."""

    async def stop(self) -> None:
        """End ``run`` (idempotent)."""

    async def pair_phone(self, phone: str) -> str:
        """The 8-character code to type on the phone (Linked devices → Link with phone number)."""
        ...

    async def logout(self) -> None:
        """Unlink this device from the phone."""

    async def send(self, to: Any, message: Any, *, link_preview: bool = False) -> Any:
        """Send a ``waE2E.Message`` to a ``JID``; neonize's ``SendResponse``.

        ``NotConnected`` when nothing left this process; any other ``SessionError`` may have.
        """
        ...

    async def upload(self, data: bytes, media_type: str) -> Any:
        """Encrypt and upload media (``image``, ``video``, ``audio``, ``document``); ``UploadResponse``."""
        ...

    async def download(self, message: Any) -> bytes:
        """The decrypted media of a received ``waE2E.Message``."""
        ...

    async def is_on_whatsapp(self, phones: list[str]) -> list[Any]:
        """neonize's ``IsOnWhatsAppResponse`` per number."""
        ...

    async def typing(self, to: Any, composing: bool) -> None:
        """Show (or stop showing) "typing…" to a chat."""

    async def phone_for_lid(self, lid: Any) -> Any | None:
        """The phone-number ``JID`` behind a LID ``JID``, when the device store knows it."""
        ...


#: Builds a session for a spec; the real factory loads neonize on first use.
SessionFactory = Callable[[SessionSpec], WebSession]


def sqlite_store(data_dir: Path, channel_id: int) -> str:
    """The device store of a channel on a SQLite node: a file of its own under the data dir."""
    directory = data_dir / "web"
    directory.mkdir(parents=True, exist_ok=True)
    return str((directory / f"channel-{int(channel_id)}.db").resolve())


def postgres_store(database_url: str) -> str:
    """The gateway's own PostgreSQL database, in the form whatsmeow's driver (lib/pq) takes.

    Device keys then live with the rest of the gateway's data, so whichever node takes over a
    channel's lease finds its session there.
    """
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    user = url.username or "postgres"
    auth = user + (f":{url.password}" if url.password else "")
    host = url.host or "127.0.0.1"
    port = url.port or 5432
    query = dict(url.query)
    query.setdefault("sslmode", "disable")
    params = "&".join(f"{k}={v}" for k, v in sorted(query.items()) if isinstance(v, str))
    return f"postgres://{auth}@{host}:{port}/{url.database or 'postgres'}?{params}"
