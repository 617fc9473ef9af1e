"""An ASGI fast path for ``POST /v1/messages``, the one route CRMs hit thousands of times a second.

It answers exactly as the FastAPI route does (both call ``api.v1.messages.ingest``) but skips
routing, dependency resolution and request/response objects, which cost more than the work
itself. Everything else passes through to FastAPI untouched; the route stays in the OpenAPI
document.
"""

from __future__ import annotations

from types import SimpleNamespace

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wagate.api.v1.messages import ingest

PATH = "/v1/messages"
MAX_BODY = 8 * 1024 * 1024
_ROUTE = SimpleNamespace(path=PATH)  # what the metrics middleware labels the request with


class IngestFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in (PATH, PATH + "/"):
            await self.app(scope, receive, send)
            return
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
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _respond(send, 413, b'{"error":{"code":"too_large","message":"body over 8 MiB","field":"body"}}')
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        scope["route"] = _ROUTE
        runtime = scope["app"].state.runtime if "app" in scope else None
        if runtime is None:
            await self.app(scope, _replay(b"".join(chunks)), send)
            return
        status, body = await ingest(runtime, authorization, idempotency_key, b"".join(chunks))
        await _respond(send, status, body)


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
