"""A fast path for ``POST /v1/messages``, the one route CRMs hit thousands of times a second.

``GatewayApp`` is FastAPI with one shortcut in front of its middleware stack: that route is
answered exactly as the FastAPI route answers it (both call ``api.v1.messages.ingest``), but
without routing, dependency resolution, request/response objects and the middleware layers,
which together cost more than the work itself. The shortcut records its own HTTP metrics and
turns an unexpected exception into the native 500 body, as the stack would. Every other request
goes through FastAPI untouched; the route stays in the OpenAPI document.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from wagate.api.errors import error_body
from wagate.api.v1.messages import ingest
from wagate.errors import DatabaseUnavailable
from wagate.observability.metrics import Metrics

PATH = "/v1/messages"
MAX_BODY = 8 * 1024 * 1024
TOO_LARGE = orjson.dumps(error_body("too_large", "body over 8 MiB", "body"))
INTERNAL = orjson.dumps(error_body("internal", "internal error"))

log = logging.getLogger("wagate.api")


class GatewayApp(FastAPI):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in (PATH, PATH + "/")
            or getattr(self.state, "runtime", None) is None
        ):
            await super().__call__(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        try:
            status = await self._ingest(scope, receive, send)
        except Exception:
            log.exception("POST /v1/messages failed")
            await _respond(send, 500, INTERNAL)
        finally:
            counter, latency = self._series(status)
            counter.inc()
            latency.observe(time.perf_counter() - start)

    def _series(self, status: int) -> tuple[Any, Any]:
        """The route's labelled series, looked up once per status (``labels()`` takes a lock)."""
        cache: dict[int, tuple[Any, Any]] = self.state.runtime.extras.setdefault("fastpath_series", {})
        series = cache.get(status)
        if series is None:
            metrics: Metrics = self.state.runtime.extras["metrics"]
            series = cache[status] = (
                metrics.http_requests.labels("POST", PATH, str(status)),
                metrics.http_latency.labels("POST", PATH),
            )
        return series

    async def _ingest(self, scope: Scope, receive: Receive, send: Send) -> int:
        authorization = ""
        idempotency_key: str | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"idempotency-key":
                idempotency_key = value.decode("latin-1")
        chunks: list[bytes] = []
        size = 0
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                return 499  # the client left; nothing was stored
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _respond(send, 413, TOO_LARGE)
                return 413
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        status, body = await ingest(self.state.runtime, authorization, idempotency_key, b"".join(chunks))
        await _respond(send, status, body)
        return status


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 503:  # the database is unavailable: nothing was stored, come back
        headers.append((b"retry-after", str(DatabaseUnavailable.retry_after_seconds).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
