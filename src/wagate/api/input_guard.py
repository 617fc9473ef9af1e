"""Refuse, at the door, request values the database could not store (see ``domain.storable``).

One ASGI middleware looks at what a client sends to the native API, the dashboard and the
opt-in page — the query string, a JSON body, a form body — and answers 422 with the field's
name when a value holds NUL or a lone surrogate, before any route runs. The common case costs
a byte scan: a body is parsed a second time only when the scan finds ``\\u0000``, a surrogate
escape or ``%00``.

Not guarded here, on purpose:

* ``POST /v1/messages`` (a batch is judged per item: one bad message must not refuse the
  others) and the compatibility doors (their errors have their own dialect): message and
  contact fields are checked by the domain (``validate_outbound``, ``validate_contact``), so
  every door refuses them in its own words;
* provider and device doors (Cloud API webhooks, ``/device/v1``): what a customer sent is kept,
  with the character replaced (``storable.scrub``), never refused;
* multipart uploads (files are bytes; their text fields are checked where they are used).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wagate.api.errors import error_body
from wagate.domain import storable

GUARDED_PREFIXES = ("/v1/", "/dashboard/", "/optin/")
UNGUARDED = frozenset({("POST", "/v1/messages"), ("POST", "/v1/messages/")})
MAX_SCANNED_BODY = 8 * 1024 * 1024
_JSON_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_FORM_SUSPECT = re.compile(rb"%00|\x00")


def _query_field(raw: bytes) -> str | None:
    if not _FORM_SUSPECT.search(raw):
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
        if storable.UNSTORABLE.search(name) or storable.UNSTORABLE.search(value):
            return name.replace("\x00", "") or "query"
    return None


def _json_field(body: bytes) -> str | None:
    if not _JSON_SUSPECT.search(body):
        return None
    try:
        value: Any = json.loads(body)  # the standard parser keeps lone surrogates, so they can be found
    except ValueError:
        return None  # not JSON: the route answers that
    return storable.find(value, "")


def body_field(content_type: str, body: bytes) -> str | None:
    """The field of a JSON or form body holding an unstorable character, if any."""
    if "application/x-www-form-urlencoded" in content_type:
        return _query_field(body)
    if "multipart/" in content_type:
        return None
    return _json_field(body)


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(GUARDED_PREFIXES) or (scope["method"], path) in UNGUARDED:
            await self.app(scope, receive, send)
            return
        if "\x00" in unquote(path):
            await _refuse(scope, send, "path")
            return
        field = _query_field(scope.get("query_string", b""))
        if field is not None:
            await _refuse(scope, send, field)
            return
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        content_type = ""
        length = 0
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1").lower()
            elif name == b"content-length" and value.isdigit():
                length = int(value)
        if "multipart/" in content_type or length > MAX_SCANNED_BODY:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > MAX_SCANNED_BODY:  # too big to scan: hand it on as it comes
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": more}
                await self.app(scope, _replay([first], receive), send)
                return
        body = b"".join(chunks)
        field = body_field(content_type, body)
        if field is not None:
            await _refuse(scope, send, field)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _refuse(scope: Scope, send: Send, field: str) -> None:
    message = f"{field} contains a character that cannot be stored (NUL or a lone surrogate)"
    if scope["path"].startswith("/v1/"):
        body = orjson.dumps(error_body(storable.CODE, message, field))
        content_type = b"application/json"
    else:
        body = message.encode()
        content_type = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
