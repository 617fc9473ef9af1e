"""The device protocol (``/device/v1``, docs/device.md) from the phone's side, over httpx.

The device token travels only in the ``Authorization`` header and is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from wagate import __version__


class GatewayError(Exception):
    """The gateway answered with an error (``status`` and its native error body)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"gateway answered {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class Offer:
    """A message leased to this device."""

    id: int
    phone: str
    type: str
    text: str
    link: str
    attempt: int
    media: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CheckJob:
    """A phone check leased to this device: is ``phone`` on WhatsApp?"""

    id: int
    phone: str
    link: str


class GatewayClient:
    def __init__(
        self, url: str, token: str, *, timeout: float = 15.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/") + "/device/v1",
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"wagate-agent/{__version__}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:500]
            raise GatewayError(response.status_code, body)
        return response.json() if response.content else None

    def next(self) -> Offer | float | None:
        """The next leased message, or the seconds the server says to wait (``None``: no hint)."""
        response = self._http.get("/next")
        if response.status_code == 204:
            hint = response.headers.get("X-Retry-After-Seconds") or response.headers.get("Retry-After")
            try:
                return float(hint) if hint else None
            except ValueError:
                return None
        data = self._check(response)
        return Offer(
            id=int(data["id"]),
            phone=str(data["phone"]),
            type=str(data.get("type") or "text"),
            text=str(data.get("text") or ""),
            link=str(data["link"]),
            attempt=int(data.get("attempt") or 1),
            media=data.get("media"),
        )

    def result(self, message_id: int, status: str, error: str | None = None, retry: bool = False) -> Any:
        """Report one message; ``None`` when the gateway no longer knows it (nothing left to report)."""
        body: dict[str, Any] = {"status": status}
        if error:
            body["error"] = error
        if retry:
            body["retry"] = True
        response = self._http.post(f"/messages/{message_id}/result", json=body)
        if response.status_code == 404:
            return None
        return self._check(response)

    def next_check(self) -> CheckJob | None:
        """The next leased phone check, or ``None`` (nothing due, or a gateway without checks)."""
        response = self._http.get("/checks/next")
        if response.status_code in (204, 404, 405):
            return None
        data = self._check(response)
        return CheckJob(id=int(data["id"]), phone=str(data["phone"]), link=str(data["link"]))

    def check_result(self, job_id: int, whatsapp: str) -> Any:
        """Report a phone check (``exists``/``none``); ``None`` when the gateway no longer knows it."""
        response = self._http.post(f"/checks/{job_id}/result", json={"whatsapp": whatsapp})
        if response.status_code == 404:
            return None
        return self._check(response)

    def notification(self, body: dict[str, Any]) -> Any:
        return self._check(self._http.post("/notifications", json=body))

    def heartbeat(self, body: dict[str, Any]) -> Any:
        return self._check(self._http.post("/heartbeat", json=body))

    def download(self, url: str) -> tuple[bytes, str | None]:
        """Fetch a message's media (its own URL, outside the device API)."""
        response = httpx.get(url, timeout=60.0, follow_redirects=True)
        response.raise_for_status()
        return response.content, response.headers.get("content-type")
