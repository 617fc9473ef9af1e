"""The ``web`` channel kind: messages sent through the channel's linked WhatsApp Web session.

``push`` is True: the dispatcher hands messages over, paced by the anti-ban defaults of the
kind. While the session is not connected the channel says it does not accept (``accepting``),
so the dispatcher leaves its messages ``queued`` (their validity still runs) instead of
spending their attempts. ``resend_safe`` is False: WhatsApp has no idempotency key, so a send
whose outcome is unknown (the connection broke after the message left) becomes ``unknown``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlparse

import httpx

from wagate.channels.base import ChannelConfig, OutgoingMessage, PhonePresence, SendResult
from wagate.channels.web import codec
from wagate.channels.web.session import NotConnected, SessionError
from wagate.errors import DeliveryUnknown, SendError, ValidationError
from wagate.services import media as media_service
from wagate.store.repos import messages as message_repo

log = logging.getLogger("wagate.web")

#: Largest media WhatsApp takes (documents: 2 GB; the gateway keeps to its own upload limit).
MAX_MEDIA_BYTES = media_service.MAX_UPLOAD_BYTES
FETCH_TIMEOUT = 30.0
DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "voice": "audio/ogg; codecs=opus",
    "document": "application/octet-stream",
}


def prepare_web_settings(settings: dict[str, Any], _context: Any = None) -> dict[str, Any]:
    """Settings of a web channel: ``device_name``, ``phone_operator``, ``link_preview``."""
    out = dict(settings)
    for key, limit in (("device_name", 40), ("phone_operator", 64)):
        value = out.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > limit):
            raise ValidationError(f"settings.{key} must be text of 1-{limit} characters", field=f"settings.{key}")
    if "link_preview" in out and not isinstance(out["link_preview"], bool):
        raise ValidationError("settings.link_preview must be true or false", field="settings.link_preview")
    return out


class WebChannel:
    kind: ClassVar[str] = "web"
    push: ClassVar[bool] = True
    resend_safe: ClassVar[bool] = False

    def __init__(self, config: ChannelConfig, rt: Any) -> None:
        self.config = config
        self.rt = rt

    @property
    def _sessions(self) -> Any:
        return self.rt.extras.get("web_sessions") if self.rt is not None else None

    def _supervisor(self) -> Any:
        sessions = self._sessions
        return sessions.get(self.config.id) if sessions is not None else None

    def accepting(self) -> bool:
        """True while this node runs the channel's session and it is connected."""
        supervisor = self._supervisor()
        return bool(supervisor is not None and supervisor.connected)

    async def connected(self) -> bool:
        """For the WAMM-style door: is a number linked and usable (messages may still wait for a
        reconnect)? No while pairing was never completed, after a logout, during a ban or a failure."""
        from wagate.store.repos import web as web_repo

        row = await self.rt.db.read(lambda c: web_repo.get_session(c, self.config.id))
        return bool(row is not None and row.phone and row.state in ("connected", "connecting", "disconnected"))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def check_phone(self, phone: str) -> PhonePresence:
        sessions = self._sessions
        if sessions is None:
            return "unknown"
        answer: str = await sessions.check_phone(self.config.id, phone)
        return answer

    async def send(self, message: OutgoingMessage) -> SendResult:
        supervisor = self._supervisor()
        session = supervisor.session if supervisor is not None and supervisor.connected else None
        if session is None:
            raise SendError("the WhatsApp Web session is not connected", code="session_not_connected", retryable=True)
        to = codec.recipient_jid(message.phone)
        try:
            built = await self._build(session, message, to)
            typing = float(self.config.pacing.get("typing_s") or 0)
            if typing > 0:
                await session.typing(to, True)
                await asyncio.sleep(min(typing, 10.0))
        except NotConnected as exc:
            raise SendError(str(exc), code="session_not_connected", retryable=True) from exc
        except SessionError as exc:  # an upload or presence failed: nothing was sent
            raise SendError(str(exc)[:300], code="web_prepare_failed", retryable=True) from exc
        preview = bool(self.config.settings.get("link_preview", True)) and message.type == "text"
        try:
            response = await session.send(to, built, link_preview=preview)
        except NotConnected as exc:
            raise SendError(str(exc), code="session_not_connected", retryable=True) from exc
        except SessionError as exc:
            raise DeliveryUnknown(f"WhatsApp Web send: {exc}"[:300]) from exc
        return SendResult(provider_id=str(response.ID))

    # -- building the message --------------------------------------------------------------------

    async def _quoted(self, message: OutgoingMessage) -> Any | None:
        reply_to = message.payload.get("reply_to")
        if reply_to is None:
            return None
        row = await self.rt.db.read(lambda c: message_repo.get_message(c, message.tenant_id, int(reply_to)))
        if row is None or not row.provider_id:
            raise SendError(f"reply_to {reply_to}: no such message on WhatsApp", code="reply_unknown", retryable=False)
        text = row.payload.get("text") if isinstance(row.payload, dict) else None
        participant = f"{row.phone}@s.whatsapp.net" if row.direction == "in" else ""
        return codec.quote({"message_id": row.provider_id, "participant": participant, "text": text or ""})

    async def _build(self, session: Any, message: OutgoingMessage, to: Any) -> Any:
        payload = message.payload
        kind = message.type
        context = await self._quoted(message)
        if kind == "text":
            return codec.text_message(str(payload.get("text") or ""), context)
        if kind == "template":
            rendered = payload.get("rendered") or payload.get("text")
            if not rendered:
                raise SendError("a web channel sends templates as their text", code="template_text", retryable=False)
            return codec.text_message(str(rendered), context)
        if kind in ("image", "video", "audio", "voice", "document"):
            media = dict(payload.get("media") or {})
            content, mime = await self._media_bytes(message.tenant_id, media)
            mime = media.get("mime_type") or mime or DEFAULT_MIME[kind]
            upload = await session.upload(content, "audio" if kind == "voice" else kind)
            return codec.media_message(kind, upload, media, mime, context)
        if kind == "location":
            return codec.location_message(payload["location"], context)
        if kind == "contacts":
            return codec.contacts_message(payload["contacts"], context)
        if kind == "reaction":
            reaction = payload.get("reaction") or {}
            target = reaction.get("message_id")
            row = await self.rt.db.read(lambda c: message_repo.get_message(c, message.tenant_id, int(target or 0)))
            if row is None or not row.provider_id:
                raise SendError("the reacted message is unknown to WhatsApp", code="reply_unknown", retryable=False)
            participant = None if row.direction == "out" else f"{row.phone}@s.whatsapp.net"
            return codec.reaction_message(
                to, row.provider_id, row.direction == "out", participant, str(reaction.get("emoji") or "")
            )
        raise SendError(f"the web channel cannot send {kind!r} messages", code="unsupported_type", retryable=False)

    async def _media_bytes(self, tenant_id: int, media: dict[str, Any]) -> tuple[bytes, str | None]:
        url = str(media.get("url") or "")
        settings = self.rt.settings if self.rt is not None else None
        local = media_service.local_name_for_url(settings, url) if settings is not None and url else None
        if media.get("id") and settings is not None:
            local = str(media["id"])
        if local is not None and settings is not None:
            content = await media_service.read(settings, tenant_id, local)
            if content is None:
                raise SendError(f"media file {local} not found", code="media_not_found", retryable=False)
            return content, media_service.mime_for_name(local)
        if not url.startswith(("http://", "https://")):
            raise SendError("media needs a url or a stored media id", code="media_missing", retryable=False)
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=True) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            raise SendError(f"cannot fetch {url}: {exc}", code="media_unreachable", retryable=True) from exc
        if response.status_code >= 400:
            retry = response.status_code >= 500 or response.status_code == 429
            raise SendError(f"media URL answered {response.status_code}", code="media_fetch_failed", retryable=retry)
        if len(response.content) > MAX_MEDIA_BYTES:
            raise SendError("media is larger than the gateway accepts", code="media_too_large", retryable=False)
        mime = response.headers.get("content-type")
        if not media.get("filename"):
            media["filename"] = PurePosixPath(urlparse(url).path).name or "file"
        return response.content, mime


def web_factory(config: ChannelConfig, context: Any) -> WebChannel:
    return WebChannel(config, context)
