"""The input rules of every route, applied once, in front of the routers.

* **One body-size limit** for every route: 8 MiB for a JSON or form body, 101 MiB for a
  multipart upload (a 100 MB file and its framing). A larger body is refused with 413 before
  it is read to the end.
* **JSON endpoints want JSON.** On the native doors (``/v1``, ``/device/v1``, the sandbox
  controls) a body must be ``application/json`` (or ``application/*+json``). A body without a
  Content-Type is taken as JSON, and so is one labelled ``application/x-www-form-urlencoded``
  whose text opens with ``{`` or ``[``: that is what ``curl -d '{…}'`` sends, and refusing it
  would only punish the first curl a developer types. Anything else is 415. The compatibility
  doors and provider webhooks keep their own, more lenient, rules.
* **Nesting depth is capped** (32 levels) on those doors before any handler walks the value:
  422 ``too_deep`` naming the field where it goes too deep.

The ``POST /v1/messages`` fast path (``wagate.api.fastpath``) applies the same rules itself.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wagate.api.errors import error_body
from wagate.domain.inputs import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_UPLOAD_BYTES,
    check_depth,
    is_json_type,
    looks_like_json,
    media_type,
)
from wagate.errors import WagateError

#: Paths whose bodies are JSON. The Graph API simulator speaks Meta's rules, not ours.
JSON_PREFIXES = ("/v1/", "/device/v1/", "/sandbox/")
LENIENT_PREFIXES = ("/sandbox/graph/",)
#: Routes that take a ``multipart/form-data`` upload as well as (or instead of) JSON.
UPLOAD_ROUTES = frozenset({"/v1/media", "/v1/campaigns"})
FORM = "application/x-www-form-urlencoded"
TOO_DEEP = error_body("too_deep", f"body is nested deeper than {MAX_JSON_DEPTH} levels", "body")


def is_json_route(path: str) -> bool:
    return path.startswith(JSON_PREFIXES) and not path.startswith(LENIENT_PREFIXES)


def body_limit(content_type: str) -> int:
    return MAX_UPLOAD_BYTES if media_type(content_type) == "multipart/form-data" else MAX_BODY_BYTES


def content_type_problem(path: str, content_type: str, body: bytes) -> str | None:
    """Why this body may not go to a JSON route, or ``None`` when it may."""
    if not content_type or is_json_type(content_type):
        return None
    kind = media_type(content_type)
    if kind == FORM and looks_like_json(body):
        return None
    if kind == "multipart/form-data" and path.rstrip("/") in UPLOAD_ROUTES:
        return None
    return f"this endpoint takes application/json, not {kind}"


class InputRulesMiddleware:
    """Pure ASGI: reads a request body once, applies the rules, and replays it to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        content_type = ""
        declared = -1
        for name, value in headers:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                declared = int(value) if value.isdigit() else -1
        limit = body_limit(content_type)
        if declared > limit:
            await _refuse(send, 413, error_body("too_large", f"the body is over {limit} bytes", "body"))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, 413, error_body("too_large", f"the body is over {limit} bytes", "body"))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        path: str = scope["path"]
        if body and is_json_route(path):
            problem = content_type_problem(path, content_type, body)
            if problem is not None:
                await _refuse(send, 415, error_body("unsupported_media_type", problem, "Content-Type"))
                return
            if media_type(content_type) == FORM:
                # curl -d: the body is JSON whatever the label says; relabel it for the handlers.
                headers = [(n, v) for n, v in headers if n != b"content-type"]
                headers.append((b"content-type", b"application/json"))
                scope = {**scope, "headers": headers}
            if media_type(content_type) != "multipart/form-data":
                try:
                    check_depth(orjson.loads(body))
                except orjson.JSONDecodeError as exc:
                    if "depth limit" in str(exc) or "ecursion" in str(exc):  # deeper than orjson's own limit (1024)
                        await _refuse(send, 422, TOO_DEEP)
                        return
                    # otherwise the handler answers malformed JSON in its own words
                except WagateError as exc:
                    await _refuse(send, exc.status_code, error_body(exc.code, exc.message, exc.field))
                    return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, body: object) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
