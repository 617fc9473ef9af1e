"""The native error format: ``{"error": {"code", "message", "field"}}`` for every 4xx.

Compatibility doors (``/api2``, ``/whatsapp``) install their own translation for their paths.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from wagate.errors import DatabaseUnavailable, WagateError

log = logging.getLogger("wagate.api")


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def retry_after_headers(exc: Exception) -> dict[str, str] | None:
    """``Retry-After`` for an error that says "come back later" (the database unavailable)."""
    if isinstance(exc, DatabaseUnavailable):
        return {"Retry-After": str(exc.retry_after_seconds)}
    return None


def _loc_to_field(loc: tuple[Any, ...]) -> str | None:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WagateError)
    async def wagate_error(_request: Request, exc: WagateError) -> Response:
        if exc.code == "malformed_json":
            return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=400)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.field, **exc.details),
            status_code=exc.status_code,
            headers=retry_after_headers(exc),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        kind = str(first.get("type", "invalid"))
        field = _loc_to_field(tuple(first.get("loc", ())))
        if kind == "json_invalid":
            return JSONResponse(error_body("malformed_json", "the body is not valid JSON", "body"), 400)
        if kind == "extra_forbidden":
            return JSONResponse(error_body("unknown_field", f"unknown field {field}", field), status_code=422)
        code = "required" if kind == "missing" else "invalid"
        message = f"{field or 'body'}: {first.get('msg', 'invalid value')}"
        return JSONResponse(error_body(code, message, field or "body"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        page = getattr(request.app.state, "page_errors", None)
        if page is not None and request.method in ("GET", "HEAD"):
            # a plug-in with pages (the dashboard) answers its own paths with an HTML page
            answer: Response | None = await page(request, exc.status_code)
            if answer is not None:
                return answer
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal", "internal error"), status_code=500)
