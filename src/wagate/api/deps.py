"""Dependencies shared by the native API routers: the runtime and the caller's identity."""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import Depends, Path, Request

from wagate.domain.inputs import MAX_JSON_DEPTH, MAX_ROW_ID, check_depth
from wagate.domain.records import Principal
from wagate.errors import AuthError, ForbiddenError, ValidationError
from wagate.runtime import Runtime
from wagate.store.repos import tenants as tenant_repo

AUTH_CACHE_SECONDS = 10.0


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def authenticate(rt: Runtime, token: str) -> Principal:
    """Token → principal, cached for a few seconds so auth stays off the hot path."""
    cache: dict[str, tuple[float, Principal | None]] = rt.caches.auth
    digest = tenant_repo.hash_token(token)
    hit = cache.get(digest)
    if hit is not None and time.monotonic() - hit[0] < AUTH_CACHE_SECONDS:
        principal = hit[1]
    else:
        principal = await rt.db.read(lambda c: tenant_repo.lookup_token(c, token))
        if len(cache) > 10000:
            cache.clear()
        cache[digest] = (time.monotonic(), principal)
    if principal is None:
        raise AuthError("invalid token", field="Authorization", code="invalid_token")
    return principal


def bearer_token(request: Request) -> str:
    return parse_bearer(request.headers.get("authorization", ""))


def parse_bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing bearer token", field="Authorization", code="missing_token")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    """The caller of a native API request. Hot routes call this directly instead of through
    ``Depends``: FastAPI's dependency resolution costs more than the lookup itself."""
    principal = await authenticate(request.app.state.runtime, bearer_token(request))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str) -> object:
    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise ForbiddenError(
                f"role {principal.role!r} may not do this; needs {' or '.join(roles)}",
                field="Authorization",
                code="forbidden",
            )
        return principal

    return Depends(check)


AdminDep = Annotated[Principal, require_role("admin")]
OperatorDep = Annotated[Principal, require_role("admin", "operator")]


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (its Content-Type was checked by ``wagate.api.inputs``)."""
    return parse_json_object(await request.body())


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "ecursion" in str(exc):
            raise ValidationError(
                f"body is nested deeper than {MAX_JSON_DEPTH} levels", field="body", code="too_deep"
            ) from exc
        raise ValidationError("the body is not valid JSON", field="body", code="malformed_json") from exc
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    check_depth(body)
    return body


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


#: A row id in a path: 1 … 2^63−1. A larger number names no row, and is refused (422) before
#: it reaches a database that would overflow on it.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id", examples=[1])]
#: The maximum of an integer cursor or id in a query string.
MAX_ID = MAX_ROW_ID
