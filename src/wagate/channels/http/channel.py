"""``http``: each message is POSTed as JSON to the channel's ``url``; a 2xx answer means ``sent``.

Useful for bridging wagate's queue, pacing and retries to any system that can take an HTTP
request (an SMS gateway, a bot, a test sink). Settings: ``url`` (required), ``timeout_s``
(default 10), ``bearer_token`` (optional, sent as ``Authorization: Bearer …``; masked by the
API, stored encrypted when given as ``enc:v1:…``).

Errors, in the dispatcher's terms:

* connection refused / connect timeout — the request never left: retryable;
* ``408``, ``425``, ``429`` and ``5xx`` — retryable (``Retry-After`` honoured);
* any other ``4xx`` — permanent, code ``http_<status>``;
* a timeout or a dropped connection *after* the request was written — the receiver may have it:
  ``DeliveryUnknown``, so the message becomes ``unknown`` rather than being sent twice.

The receiver gets an ``Idempotency-Key: wagate-<message id>`` header and may dedupe on it;
wagate still declares the kind not resend-safe (``resend_safe = False``), because it cannot
know that the receiver does.
"""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp
import orjson

from wagate.channels.base import ChannelConfig, OutgoingMessage, PhonePresence, SendResult, warn_if_lease_shorter
from wagate.crypto import PREFIX
from wagate.errors import DeliveryUnknown, SendError

RETRYABLE_STATUSES = frozenset({408, 425, 429})
DEFAULT_TIMEOUT = 10.0


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class HttpChannel:
    kind: ClassVar[str] = "http"
    push: ClassVar[bool] = True
    resend_safe: ClassVar[bool] = False

    def __init__(
        self, config: ChannelConfig, bearer_token: str | None = None, lease_seconds: float | None = None
    ) -> None:
        self.config = config
        self.lease_seconds = lease_seconds
        settings = config.settings
        self.url = settings.get("url")
        self.timeout = float(settings.get("timeout_s") or DEFAULT_TIMEOUT)
        self._headers = {"content-type": "application/json", "user-agent": "wagate-http-channel"}
        if bearer_token:
            self._headers["authorization"] = f"Bearer {bearer_token}"
        self._client: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        warn_if_lease_shorter(self.config.name, self.timeout, self.lease_seconds)
        # aiohttp rather than httpx here: on the 2-core reference machine it made ~3,000 POST/s
        # where httpx made 400–800, and this channel is meant to be paced at up to 1,000/s.
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=64),
            timeout=aiohttp.ClientTimeout(total=self.timeout, connect=min(self.timeout, 5.0)),
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def body(self, message: OutgoingMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "channel": self.config.name,
            "to": message.phone,
            "type": message.type,
            "payload": message.payload,
            "attempt": message.attempt,
            "client_ref": message.client_ref,
        }

    async def send(self, message: OutgoingMessage) -> SendResult:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise SendError("the http channel has no valid settings.url", code="misconfigured", retryable=False)
        if self._client is None:  # closed under us (the node is stopping)
            raise SendError("the channel is closed", code="channel_closed", retryable=True)
        headers = {**self._headers, "idempotency-key": f"wagate-{message.id}"}
        try:
            async with self._client.post(self.url, data=orjson.dumps(self.body(message)), headers=headers) as response:
                status = response.status
                text = "" if 200 <= status < 300 else (await response.text(errors="replace"))[:200]
                retry_after = _retry_after(response)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise SendError(f"cannot reach {self.url}: {exc}", code="http_unreachable", retryable=True) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:  # written, then timed out or dropped
            raise DeliveryUnknown(f"no answer from {self.url}: {type(exc).__name__}") from exc
        if 200 <= status < 300:
            return SendResult(provider_id=f"http-{message.id}")
        if status in RETRYABLE_STATUSES or status >= 500:
            raise SendError(
                f"HTTP {status}: {text}",
                code=f"http_{status}",
                retryable=True,
                retry_after=retry_after,
                provider_code=str(status),
            )
        raise SendError(f"HTTP {status}: {text}", code=f"http_{status}", retryable=False, provider_code=str(status))

    async def check_phone(self, phone: str) -> PhonePresence:
        return "unknown"


def http_factory(config: ChannelConfig, context: Any) -> HttpChannel:
    """Build from a channel row; ``context`` is the runtime (for decrypting the bearer token)."""
    token = config.settings.get("bearer_token")
    if isinstance(token, str) and token.startswith(PREFIX) and context is not None:
        token = context.secret_box.decrypt(token)
    lease = context.settings.lease_seconds if context is not None else None
    return HttpChannel(config, bearer_token=token if isinstance(token, str) else None, lease_seconds=lease)
