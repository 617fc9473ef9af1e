"""A thin async client of the WhatsApp Cloud API (Graph API) over one pooled ``httpx.AsyncClient``.

Only the calls wagate makes: send a message, mark one read, upload / describe / download
media, list message templates and (where the endpoint exists) check contacts. Every error
answer becomes a ``GraphError``; transport failures stay ``httpx`` exceptions so the caller
can tell "Meta said no" from "Meta was not reached". The access token travels in the
``Authorization`` header only, never in a URL, so it never reaches a log line.

Why not ``pywa``: see docs/channels.md (it fixes the base URL to graph.facebook.com and is a
bot framework with its own webhook server; wagate needs a client it can point at the sandbox).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from wagate.channels.cloud.errors import GraphError, parse_error_body
from wagate.channels.cloud.versions import DEFAULT_API_VERSION
from wagate.errors import DeliveryUnknown

log = logging.getLogger("wagate.channels.cloud")

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_GRAPH_URL", "GraphClient", "MediaInfo", "TemplatePage"]

DEFAULT_GRAPH_URL = "https://graph.facebook.com"


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """``GET /{media_id}``: where to download it (with the same bearer token) and what it is."""

    id: str
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


@dataclass(frozen=True, slots=True)
class TemplatePage:
    data: list[dict[str, Any]]
    after: str | None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def _log_exchange(response: httpx.Response) -> None:
    """One debug line per Graph call: method, path (ids only; the token is in a header), status."""
    request = response.request
    log.debug("graph %s %s -> %d", request.method, request.url.path, response.status_code)


class GraphClient:
    def __init__(
        self,
        *,
        access_token: str,
        graph_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        max_connections: int = 50,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = f"{graph_url.rstrip('/')}/{api_version}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {access_token}", "User-Agent": "wagate"},
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            event_hooks={"response": [_log_exchange]},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise parse_error_body(body, response.status_code, _retry_after(response))
        try:
            return response.json()
        except ValueError as exc:
            raise GraphError(
                code=0, message="the Graph API answered with a body that is not JSON", http_status=502
            ) from exc

    async def send_message(self, phone_number_id: str, body: dict[str, Any]) -> str:
        """POST the message; returns the ``wamid`` Meta assigned (``DeliveryUnknown`` if a 2xx lacks it)."""
        response = await self._http.post(f"/{phone_number_id}/messages", json=body)
        if response.status_code >= 400:
            await self._json(response)  # raises the GraphError
        try:
            return str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # Meta answered "yes" but not with what: the message may be on its way.
            raise DeliveryUnknown(f"no message id in the answer: {response.text!r}"[:300]) from exc

    async def mark_read(self, phone_number_id: str, provider_id: str, *, typing: bool = False) -> None:
        """Blue ticks; with ``typing`` also Meta's typing indicator (shown until the reply or 25 s)."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": provider_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._json(await self._http.post(f"/{phone_number_id}/messages", json=body))

    async def upload_media(self, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str:
        data = await self._json(
            await self._http.post(
                f"/{phone_number_id}/media",
                data={"messaging_product": "whatsapp", "type": mime_type},
                files={"file": (filename, content, mime_type)},
            )
        )
        return str(data["id"])

    async def media_info(self, media_id: str) -> MediaInfo:
        data = await self._json(await self._http.get(f"/{media_id}"))
        size = data.get("file_size")
        return MediaInfo(
            id=str(data.get("id") or media_id),
            url=str(data["url"]),
            mime_type=data.get("mime_type"),
            sha256=data.get("sha256"),
            file_size=int(size) if size is not None and str(size).isdigit() else None,
        )

    async def download(self, url: str, max_bytes: int) -> bytes:
        """Fetch a media URL from ``media_info`` (it needs the same bearer token), bounded in size."""
        async with self._http.stream("GET", url) as response:
            if response.status_code >= 400:
                await response.aread()
                await self._json(response)
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise GraphError(code=0, message=f"media larger than {max_bytes} bytes", http_status=413)
                chunks.append(chunk)
            return b"".join(chunks)

    async def templates_page(self, waba_id: str, *, limit: int = 100, after: str | None = None) -> TemplatePage:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        data = await self._json(await self._http.get(f"/{waba_id}/message_templates", params=params))
        paging = data.get("paging") or {}
        cursor = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
        return TemplatePage(data=list(data.get("data") or []), after=cursor)

    async def phone_number(self, phone_number_id: str) -> dict[str, Any]:
        """``GET /{phone_number_id}``: quality, throughput and the portfolio's messaging limit."""
        fields = "display_phone_number,quality_rating,throughput,whatsapp_business_manager_messaging_limit"
        data = await self._json(await self._http.get(f"/{phone_number_id}", params={"fields": fields}))
        return data if isinstance(data, dict) else {}

    async def get_profile(self, phone_number_id: str, fields: str) -> dict[str, Any]:
        data = await self._json(
            await self._http.get(f"/{phone_number_id}/whatsapp_business_profile", params={"fields": fields})
        )
        items = data.get("data") if isinstance(data, dict) else None
        return dict(items[0]) if isinstance(items, list) and items and isinstance(items[0], dict) else {}

    async def update_profile(self, phone_number_id: str, changes: dict[str, Any]) -> None:
        body = {"messaging_product": "whatsapp", **changes}
        await self._json(await self._http.post(f"/{phone_number_id}/whatsapp_business_profile", json=body))

    async def create_template(self, waba_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /{waba_id}/message_templates``: submit for review; Meta answers ``{id, status, category}``."""
        data = await self._json(await self._http.post(f"/{waba_id}/message_templates", json=body))
        return data if isinstance(data, dict) else {}

    async def check_contacts(self, phone_number_id: str, phones: list[str]) -> dict[str, str]:
        """The On-Premises API's contact check (``POST …/contacts``), offered by the sandbox and some
        providers; Meta's Cloud API has no such endpoint. Returns ``{digits: "valid"|"invalid"}``."""
        body = {"blocking": "wait", "contacts": [f"+{p}" for p in phones], "force_check": False}
        data = await self._json(await self._http.post(f"/{phone_number_id}/contacts", json=body))
        out: dict[str, str] = {}
        for item in data.get("contacts") or []:
            digits = str(item.get("input", "")).lstrip("+")
            out[digits] = str(item.get("status", "unknown"))
        return out
