"""Path-scoped error translation for the compatibility doors.

FastAPI's exception handlers are app-wide, and the native ones (``api/errors.py``) must keep
answering ``/v1``. A compatibility router therefore uses a route class whose handler catches
everything raised inside its routes — our ``WagateError``s, FastAPI's own
``RequestValidationError``, anything unexpected — and hands it to the door's translator. An
exception raised inside these routes can thus never reach the native handlers or become a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from wagate.observability.logging import redact

log = logging.getLogger("wagate.api.compat")

#: ``translate(request, route_path, exc) -> Response`` in the door's own dialect.
Translator = Callable[[Request, str, Exception], Response]


def dialect_route(translate: Translator) -> type[APIRoute]:
    """An ``APIRoute`` class whose routes answer every exception through ``translate``."""

    class DialectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            path = self.path

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except Exception as exc:
                    return translate(request, path, exc)

            return guarded

    return DialectRoute


def log_unexpected(exc: Exception, request: Request) -> None:
    """Log a bug with its traceback; the path goes through redaction (it may carry a token)."""
    log.error(
        "unexpected error in a compatibility door",
        exc_info=exc,
        extra={"path": redact(request.url.path)},
    )


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")
