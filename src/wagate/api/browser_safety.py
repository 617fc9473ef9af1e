"""What a browser may do with what the gateway serves: the pages' policy and customers' files.

Customers send files (documents, images, voice notes) and the gateway keeps them on its own
origin, which is also the dashboard's. A file of an *active* type — HTML, SVG, XML, JavaScript,
PDF, anything unknown — opened from that origin would run the sender's script with the rights
of whoever is signed in. So every file is served with:

- ``X-Content-Type-Options: nosniff`` (the browser takes the declared type, never guesses);
- ``Content-Security-Policy: default-src 'none'; …; sandbox`` (a document opened anyway runs
  no script, loads nothing, and has an opaque origin: no cookies, no CSRF token to read);
- ``Content-Disposition: attachment`` for every type that is not a known passive one
  (raster images, audio, video), so the browser downloads it instead of rendering it.

Pages (the dashboard, the opt-in page) carry a strict policy without ``'unsafe-inline'``:
every script is a file under ``/dashboard/static``. ``SecurityHeadersMiddleware`` adds the
headers to every response of those paths — redirects, errors and static files included —
unless the route chose its own (media files do).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import Response
from fastapi.responses import FileResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
OPTIN_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#: A file is a sandboxed document that may load nothing (inline style only for the browser's own viewer).
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

PAGE_HEADERS = {
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
OPTIN_HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": OPTIN_CSP, "Referrer-Policy": "no-referrer"}

#: Types a browser only displays (decoders, no document, no script): shown inline, everything else downloaded.
RASTER_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"})
AUDIO_TYPES = frozenset(
    {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/wav", "audio/x-wav", "audio/webm", "audio/amr"}
)
VIDEO_TYPES = frozenset({"video/mp4", "video/webm", "video/ogg", "video/3gpp"})
INLINE_TYPES = RASTER_IMAGE_TYPES | AUDIO_TYPES | VIDEO_TYPES


def essence(mime_type: str | None) -> str:
    """``"Image/PNG; x=y"`` → ``"image/png"``; empty or missing → ``application/octet-stream``."""
    return (mime_type or "").split(";", 1)[0].strip().lower() or "application/octet-stream"


def shown_inline(mime_type: str | None) -> bool:
    """True for the passive types a browser may display in place (never HTML, SVG, XML, PDF …)."""
    return essence(mime_type) in INLINE_TYPES


def is_raster_image(mime_type: str | None) -> bool:
    return essence(mime_type) in RASTER_IMAGE_TYPES


def file_headers(cache: str = "private, max-age=86400") -> dict[str, str]:
    return {
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache,
    }


def file_response(path: Path, mime_type: str | None, filename: str | None = None) -> FileResponse:
    """A stored file, served so that no browser runs anything in it (see the module docstring)."""
    mime = essence(mime_type)
    return FileResponse(
        path,
        media_type=mime,
        filename=filename or path.name,
        content_disposition_type="inline" if shown_inline(mime) else "attachment",
        headers=file_headers(),
    )


def bytes_response(content: bytes, mime_type: str | None, filename: str) -> Response:
    """``file_response`` for bytes held in memory (the simulator's attachments)."""
    mime = essence(mime_type)
    disposition = "inline" if shown_inline(mime) else "attachment"
    safe_name = "".join(ch for ch in filename if ch.isalnum() or ch in "._-") or "file"
    headers = {**file_headers(cache="no-store"), "Content-Disposition": f'{disposition}; filename="{safe_name}"'}
    return Response(content, media_type=mime, headers=headers)


def _page_policy(path: str) -> dict[str, str] | None:
    if path == "/" or path == "/dashboard" or path.startswith("/dashboard/"):
        return PAGE_HEADERS
    if path.startswith("/optin/"):
        return OPTIN_HEADERS
    return None


class SecurityHeadersMiddleware:
    """Adds the page policy to every dashboard and opt-in response, ``nosniff`` to every response.

    Pure ASGI (no per-request overhead beyond a header merge). A header the route set itself
    is kept: media files answer with their own, stricter policy.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = _page_policy(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _add_missing(headers, policy.items() if policy is not None else _ALWAYS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


_ALWAYS = (("X-Content-Type-Options", "nosniff"),)


def _add_missing(headers: MutableHeaders, items: Iterable[tuple[str, str]]) -> None:
    for name, value in items:
        if name not in headers:
            headers[name] = value
