"""``CloudChannel``: wagate's messages through the WhatsApp Cloud API (or the sandbox that imitates it).

Media rule (``settings.upload_media``), decided here because Meta must be able to fetch a
``link`` itself from the public internet:

* ``media.id`` is sent as is (already uploaded to Meta);
* a URL of this gateway's own media (``{public URL}/v1/media/…``, a local file) is read
  from ``WAGATE_DATA_DIR`` and uploaded through ``POST /{phone_number_id}/media``;
* ``auto`` (default): a URL Meta cannot reach — an IP literal that is not global
  (loopback, private, link-local …) or a host name without a public suffix (``localhost``,
  ``*.local``, ``*.internal``, a single label) — is downloaded by the gateway and uploaded;
  any other URL goes out as ``link``;
* ``always``: every URL is downloaded and uploaded (files behind your own auth or firewall);
* ``never``: every URL goes out as ``link``.

Uploads of a local file are remembered for a day (a local file never changes), so a
campaign with one attachment uploads it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

import httpx

from wagate.channels.base import ChannelConfig, OutgoingMessage, PhonePresence, SendResult, warn_if_lease_shorter
from wagate.channels.cloud import payloads
from wagate.channels.cloud.client import GraphClient
from wagate.channels.cloud.errors import NOT_ON_WHATSAPP, GraphError, to_send_error
from wagate.channels.cloud.settings import CloudSettings
from wagate.channels.cloud.versions import notice
from wagate.channels.cloud.webhook import MediaRef
from wagate.errors import ChannelError, DeliveryUnknown, SendError
from wagate.outbound import OutboundPolicy, OutboundRefused, fetch, guarded_transport
from wagate.services import media as media_service

if TYPE_CHECKING:
    from wagate.runtime import Runtime

log = logging.getLogger("wagate.channels.cloud")

#: Cloud API size limits per media type (bytes).
MEDIA_LIMITS = {
    "image": 5 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "voice": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
    "sticker": 500 * 1024,
}
INBOUND_MEDIA_LIMIT = 100 * 1024 * 1024
PRESENCE_TTL = timedelta(days=7)
UPLOAD_CACHE_SECONDS = 24 * 3600
UPLOAD_CACHE_SIZE = 1000
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
PROFILE_FIELDS = "about,address,description,email,profile_picture_url,websites,vertical"
#: Failures before a byte of the request could reach Meta: sending again cannot duplicate anything.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol, httpx.ProxyError)
NON_PUBLIC_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp")


def publicly_fetchable(url: str) -> bool:
    """Whether Meta's servers could plausibly fetch ``url`` (no DNS lookup: names are judged by form)."""
    host = (urlparse(url).hostname or "").lower()
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if host == "localhost" or "." not in host:
        return False
    return not host.endswith(NON_PUBLIC_SUFFIXES)


@dataclass(frozen=True, slots=True)
class CloudTemplate:
    """A message template as ``GET /{waba_id}/message_templates`` describes it."""

    id: str | None
    name: str
    language: str
    status: str  # approved | pending | rejected | paused | disabled …, lower case
    category: str | None
    body: str | None
    param_count: int
    components: list[dict[str, Any]] = field(default_factory=list)


def parse_template(item: dict[str, Any]) -> CloudTemplate:
    components = [c for c in item.get("components") or [] if isinstance(c, dict)]
    body = next((c.get("text") for c in components if str(c.get("type", "")).upper() == "BODY"), None)
    params = {int(n) for n in PLACEHOLDER.findall(body or "")}
    return CloudTemplate(
        id=str(item["id"]) if item.get("id") is not None else None,
        name=str(item.get("name") or ""),
        language=str(item.get("language") or ""),
        status=str(item.get("status") or "").lower(),
        category=str(item["category"]).lower() if item.get("category") else None,
        body=body,
        param_count=len(params),
        components=components,
    )


class CloudChannel:
    kind: ClassVar[str] = "cloud"
    push: ClassVar[bool] = True
    #: The Cloud API has no idempotency key: a resend after an unknown outcome may duplicate.
    resend_safe: ClassVar[bool] = False

    def __init__(
        self, config: ChannelConfig, rt: Runtime | None, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.rt = rt
        self.settings = CloudSettings.from_stored(config.settings, rt.secret_box if rt is not None else None)
        self._transport = transport
        self._client: GraphClient | None = None
        self._fetcher: httpx.AsyncClient | None = None
        self._policy = OutboundPolicy()
        self._uploaded: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """Counts calls in progress, so ``close`` lets them finish (the runtime rebuilds a channel
        whose settings changed, possibly while the dispatcher is in the middle of a send)."""
        self._inflight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    # lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        lease = self.rt.settings.lease_seconds if self.rt is not None else None
        warn_if_lease_shorter(self.config.name, self.settings.timeout_seconds, lease)
        today = (self.rt.clock.now() if self.rt is not None else datetime.now(UTC)).date()
        version = notice(self.settings.api_version, today)
        if version.warns:
            log.warning(version.message(), extra={"channel": self.config.name, "api_version": version.version})
        self._client = GraphClient(
            access_token=self.settings.access_token,
            graph_url=self.settings.graph_url,
            api_version=self.settings.api_version,
            timeout=self.settings.timeout_seconds,
            transport=self._transport,
        )
        if self.rt is not None:
            settings = self.rt.settings
            self._policy = OutboundPolicy(settings.media_allow_private, settings.media_allow_loopback)
        self._fetcher = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.timeout_seconds, connect=10.0),
            follow_redirects=False,  # each hop is judged by the outbound policy (outbound.fetch)
            headers={"User-Agent": "wagate"},
            transport=guarded_transport(self._policy),
            trust_env=False,
        )

    async def close(self) -> None:
        if self._inflight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.settings.timeout_seconds + 5)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None

    @property
    def client(self) -> GraphClient:
        if self._client is None:
            raise RuntimeError("channel not started")
        return self._client

    # sending -------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> SendResult:
        with self._busy():
            return await self._send(message)

    async def _send(self, message: OutgoingMessage) -> SendResult:
        """Build the body (media uploads may be retried freely), then POST it once.

        Once the POST may have left, only an answer decides: no answer (a read timeout, a
        dropped connection) or an answer that does not say what happened (a 5xx without a
        Graph error, a 2xx without a message id) is ``DeliveryUnknown`` — the message becomes
        ``unknown``, because Meta may already be delivering it. A retry follows only a failure
        that proves nothing was accepted: the connection was never made, or Graph said why not.
        """
        try:
            body = await self._body(message)
        except GraphError as exc:
            raise to_send_error(exc) from exc
        except httpx.TransportError as exc:  # an upload or fetch: no message was sent
            raise SendError(
                f"media could not be prepared ({type(exc).__name__})", code="provider_unreachable", retryable=True
            ) from exc
        try:
            provider_id = await self.client.send_message(self.settings.phone_number_id, body)
        except GraphError as exc:
            if exc.code in NOT_ON_WHATSAPP:
                await self.record_presence(message.tenant_id, message.phone, "none")
            if exc.code == 0 and exc.http_status >= 500:  # a proxy's 502/504: Meta's fate of it is unknown
                raise DeliveryUnknown(f"the Graph API's answer does not say what happened: {exc.describe()}") from exc
            raise to_send_error(exc) from exc
        except NOT_SENT as exc:
            raise SendError(
                f"the Graph API is unreachable ({type(exc).__name__}: {exc})"[:500],
                code="provider_unreachable",
                retryable=True,
            ) from exc
        except httpx.TransportError as exc:
            raise DeliveryUnknown(
                f"the request left but no answer came back ({type(exc).__name__}); Meta may have accepted it"
            ) from exc
        log.debug("sent", extra={"channel": self.config.name, "message_id": message.id, "provider_id": provider_id})
        return SendResult(provider_id=provider_id)

    async def _body(self, message: OutgoingMessage) -> dict[str, Any]:
        payload = message.payload
        kind = message.type
        if kind == "text":
            return payloads.text_body(message.phone, str(payload["text"]))
        if kind in ("image", "document", "audio", "voice", "video"):
            media = payload.get("media") or {}
            reference = await self._media_object(message.tenant_id, kind, media)
            return payloads.media_body(message.phone, kind, media, reference)
        if kind == "location":
            return payloads.location_body(message.phone, payload["location"])
        if kind == "contacts":
            return payloads.contacts_body(message.phone, payload["contacts"])
        if kind == "template":
            return payloads.template_body(message.phone, payload["template"])
        raise SendError(f"the cloud channel cannot send {kind!r} messages", code="unsupported_type", retryable=False)

    async def _media_object(self, tenant_id: int, kind: str, media: dict[str, Any]) -> dict[str, str]:
        if media.get("id"):
            return {"id": str(media["id"])}
        url = str(media.get("url") or "")
        limit = MEDIA_LIMITS.get(kind, MEDIA_LIMITS["document"])
        rt_settings = self.rt.settings if self.rt is not None else None
        local = media_service.local_name_for_url(rt_settings, url) if rt_settings is not None else None
        if local is not None and rt_settings is not None:
            cached = self._cached_upload(f"{tenant_id}/{local}")
            if cached is not None:
                return {"id": cached}
            content = await media_service.read(rt_settings, tenant_id, local)
            if content is None:
                raise SendError(f"media file {local} not found", code="media_not_found", retryable=False)
            self._check_size(content, limit, kind)
            mime = media.get("mime_type") or media_service.mime_for_name(local)
            media_id = await self.client.upload_media(
                self.settings.phone_number_id, content, media_service.base_mime(mime), media.get("filename") or local
            )
            self._remember_upload(f"{tenant_id}/{local}", media_id)
            return {"id": media_id}
        mode = self.settings.upload_media
        if mode == "never" or (mode == "auto" and publicly_fetchable(url)):
            return {"link": url}
        content, mime = await self._fetch(url, limit, kind)
        filename = media.get("filename") or PurePosixPath(urlparse(url).path).name or "file"
        media_id = await self.client.upload_media(
            self.settings.phone_number_id, content, media_service.base_mime(media.get("mime_type") or mime), filename
        )
        return {"id": media_id}

    @staticmethod
    def _check_size(content: bytes, limit: int, kind: str) -> None:
        if len(content) > limit:
            raise SendError(
                f"{kind} is {len(content)} bytes; the Cloud API accepts at most {limit}",
                code="media_too_large",
                retryable=False,
            )

    async def _fetch(self, url: str, limit: int, kind: str) -> tuple[bytes, str | None]:
        """Download a URL Meta could not reach, so it can be uploaded instead (outbound policy applies)."""
        assert self._fetcher is not None
        try:
            status, content, content_type = await fetch(self._fetcher, url, self._policy, max_bytes=limit)
        except OutboundRefused as exc:
            raise SendError(f"media URL refused: {exc}", code="media_url_refused", retryable=False) from exc
        except ValueError as exc:
            raise SendError(
                f"{kind} at {url} is larger than the Cloud API's {limit} bytes", code="media_too_large", retryable=False
            ) from exc
        except httpx.HTTPError as exc:
            if isinstance(exc.__cause__, OutboundRefused) or "outbound policy" in str(exc):
                raise SendError(f"media URL refused: {exc}", code="media_url_refused", retryable=False) from exc
            raise SendError(
                f"media URL could not be fetched ({type(exc).__name__})", code="media_unavailable", retryable=True
            ) from exc
        if status >= 400:
            raise SendError(
                f"media URL answered HTTP {status}",
                code="media_unavailable",
                retryable=status >= 500 or status == 429,
            )
        return content, content_type

    def _cached_upload(self, key: str) -> str | None:
        hit = self._uploaded.get(key)
        if hit is None or time.monotonic() - hit[0] > UPLOAD_CACHE_SECONDS:
            return None
        self._uploaded.move_to_end(key)
        return hit[1]

    def _remember_upload(self, key: str, media_id: str) -> None:
        self._uploaded[key] = (time.monotonic(), media_id)
        while len(self._uploaded) > UPLOAD_CACHE_SIZE:
            self._uploaded.popitem(last=False)

    # other calls ---------------------------------------------------------------------

    async def check_phone(self, phone: str) -> PhonePresence:
        """Meta's Cloud API cannot check a number; where the endpoint offers the On-Premises contact
        check (the sandbox does) and ``contacts_check`` is on, ask it. Otherwise ``unknown``: the
        cache is filled by facts instead (131026 → none; an inbound message or delivery → exists)."""
        if not self.settings.contacts_check:
            return "unknown"
        try:
            with self._busy():
                answers = await self.client.check_contacts(self.settings.phone_number_id, [phone])
        except (GraphError, httpx.HTTPError) as exc:
            log.warning("contact check failed", extra={"channel": self.config.name, "error": str(exc)[:200]})
            return "unknown"
        return {"valid": "exists", "invalid": "none"}.get(answers.get(phone, ""), "unknown")

    async def mark_read(self, provider_id: str, typing: bool = False) -> None:
        """Blue ticks for an inbound message (``status: read`` on the messages endpoint); ``typing``
        also shows "typing…" to the customer (Meta's ``typing_indicator``)."""
        try:
            with self._busy():
                await self.client.mark_read(self.settings.phone_number_id, provider_id, typing=typing)
        except GraphError as exc:
            raise ChannelError(exc.describe(), code="provider_rejected") from exc
        except httpx.HTTPError as exc:
            raise ChannelError(
                f"the Graph API is unreachable ({type(exc).__name__})", code="provider_unreachable"
            ) from exc

    async def list_templates(self) -> list[CloudTemplate]:
        """Every message template of the WABA (all pages), parsed."""
        if not self.settings.waba_id:
            raise ChannelError("settings.waba_id is needed to list templates", code="missing_waba_id")
        out: list[CloudTemplate] = []
        after: str | None = None
        for _ in range(100):
            try:
                with self._busy():
                    page = await self.client.templates_page(self.settings.waba_id, after=after)
            except GraphError as exc:
                raise ChannelError(exc.describe(), code="provider_rejected") from exc
            except httpx.HTTPError as exc:
                raise ChannelError(
                    f"the Graph API is unreachable ({type(exc).__name__})", code="provider_unreachable"
                ) from exc
            out.extend(parse_template(item) for item in page.data if isinstance(item, dict))
            if not page.after:
                break
            after = page.after
        return out

    async def account_facts(self) -> dict[str, Any]:
        """The number as Meta describes it now (messaging limit, throughput, quality)."""
        facts: dict[str, Any] = await self._graph_call(self.client.phone_number(self.settings.phone_number_id))
        return facts

    async def get_profile(self) -> dict[str, Any]:
        """The number's business profile (about, address, description, e-mail, websites, vertical, photo URL)."""
        profile: dict[str, Any] = await self._graph_call(
            self.client.get_profile(self.settings.phone_number_id, PROFILE_FIELDS)
        )
        return profile

    async def update_profile(self, changes: dict[str, Any]) -> None:
        await self._graph_call(self.client.update_profile(self.settings.phone_number_id, changes))

    async def _graph_call(self, call: Any) -> Any:
        try:
            with self._busy():
                return await call
        except GraphError as exc:
            raise ChannelError(exc.describe(), code="provider_rejected") from exc
        except httpx.HTTPError as exc:
            raise ChannelError(
                f"the Graph API is unreachable ({type(exc).__name__})", code="provider_unreachable"
            ) from exc

    async def submit_template(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit a template to the channel's WABA for Meta's review (``payloads.template_submission``)."""
        if not self.settings.waba_id:
            raise ChannelError("settings.waba_id is needed to submit templates", code="missing_waba_id")
        try:
            with self._busy():
                return await self.client.create_template(self.settings.waba_id, body)
        except GraphError as exc:
            raise ChannelError(exc.describe(), code="provider_rejected") from exc
        except httpx.HTTPError as exc:
            raise ChannelError(
                f"the Graph API is unreachable ({type(exc).__name__})", code="provider_unreachable"
            ) from exc

    async def fetch_media(self, tenant_id: int, ref: MediaRef) -> media_service.StoredMedia:
        """Download inbound media (``GET /{id}`` → URL → bytes) into ``WAGATE_DATA_DIR``."""
        if self.rt is None:
            raise RuntimeError("fetching media needs the runtime")
        with self._busy():
            info = await self.client.media_info(ref.id)
            content = await self.client.download(info.url, INBOUND_MEDIA_LIMIT)
        return await media_service.store(
            self.rt.settings, tenant_id, content, ref.mime_type or info.mime_type, ref.filename
        )

    async def record_presence(self, tenant_id: int, phone: str, answer: str) -> None:
        """Remember what a send or a webhook proved about a number (``GET /v1/phones`` reads it)."""
        if self.rt is None:
            return
        from wagate.store.repos.contacts import record_phone_check

        rt = self.rt
        now = rt.clock.now()
        name = self.config.name[:32]
        try:
            await rt.db.write(lambda c: record_phone_check(c, tenant_id, phone, answer, name, now, now + PRESENCE_TTL))
        except Exception:  # a cache: losing one answer must never fail the send or the webhook
            log.warning("could not record a phone check", extra={"channel": self.config.name}, exc_info=True)
