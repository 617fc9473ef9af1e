"""Webhooks from the simulator: Meta's envelope, signed with ``X-Hub-Signature-256``, over real HTTP.

Each delivery is POSTed with ``httpx`` to the configured callback URL; a non-2xx answer or
a transport error is retried with backoff (Meta retries for days; the simulator a few
times), and every attempt is kept in a short log for ``GET /sandbox/webhooks``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from wagate.sandbox.config import SimulatorConfig

log = logging.getLogger("wagate.sandbox")

LOG_SIZE = 500


def signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(
    config: SimulatorConfig, value: dict[str, Any], field: str = "messages", at: float | None = None
) -> dict[str, Any]:
    """``{"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"value", "field"}]}]}``.

    Account-level fields (templates, account updates) carry ``entry[].time`` as Meta sends it;
    ``messages`` changes do not."""
    if field == "messages":
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": config.display_phone_number,
                "phone_number_id": config.phone_number_id,
            },
            **value,
        }
    entry: dict[str, Any] = {"id": config.waba_id}
    if field != "messages":
        entry["time"] = int(at if at is not None else time.time())
    entry["changes"] = [{"value": value, "field": field}]
    return {"object": "whatsapp_business_account", "entry": [entry]}


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one webhook: what was sent and how the receiver answered."""

    url: str | None
    kind: str
    delivered: bool
    status_code: int | None
    attempts: int
    error: str | None
    at: float


class WebhookSender:
    def __init__(self, get_config: Any, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._get_config = get_config
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0), transport=transport)
        self.log: deque[Delivery] = deque(maxlen=LOG_SIZE)
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def config(self) -> SimulatorConfig:
        cfg: SimulatorConfig = self._get_config()
        return cfg

    async def deliver(self, body: dict[str, Any], kind: str) -> Delivery:
        """POST one signed webhook, retrying a few times; never raises."""
        config = self.config
        url = config.webhook_url
        if not url:
            outcome = Delivery(None, kind, False, None, 0, "no webhook URL configured", time.time())
            self.log.append(outcome)
            return outcome
        raw = orjson.dumps(body)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(raw, config.app_secret),
            "User-Agent": "facebookexternalua",
        }
        error: str | None = None
        status: int | None = None
        attempts = 0
        for attempt in range(max(1, config.webhook_attempts)):
            attempts = attempt + 1
            try:
                response = await self._http.post(url, content=raw, headers=headers)
                status = response.status_code
                if 200 <= status < 300:
                    outcome = Delivery(url, kind, True, status, attempts, None, time.time())
                    self.log.append(outcome)
                    return outcome
                error = f"HTTP {status}: {response.text[:200]}"
                if 400 <= status < 500 and status not in (408, 429):
                    break  # the receiver refuses this body; retrying will not change its mind
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            await asyncio.sleep(min(8.0, 0.25 * 2**attempt))
        log.warning("sandbox webhook not delivered", extra={"kind": kind, "error": error})
        outcome = Delivery(url, kind, False, status, attempts, error, time.time())
        self.log.append(outcome)
        return outcome

    def spawn(self, coro: Any) -> None:
        """Run a delivery sequence in the background, tracked so ``close`` can stop it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for background deliveries (tests, orderly shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    async def verify_callback(self) -> Delivery:
        """Meta's subscription handshake against the callback URL: GET with hub.* and expect the challenge."""
        config = self.config
        url = config.webhook_url
        if not url:
            return Delivery(None, "verify", False, None, 0, "no webhook URL configured", time.time())
        challenge = str(int(time.time() * 1000))
        params = {"hub.mode": "subscribe", "hub.verify_token": config.verify_token, "hub.challenge": challenge}
        try:
            response = await self._http.get(url, params=params)
        except httpx.HTTPError as exc:
            return Delivery(url, "verify", False, None, 1, f"{type(exc).__name__}: {exc}"[:300], time.time())
        ok = response.status_code == 200 and response.text.strip() == challenge
        error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
        return Delivery(url, "verify", ok, response.status_code, 1, error, time.time())
