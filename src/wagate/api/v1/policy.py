"""``/v1/policy``: the tenant's policy settings and usage, refusals, and each client's service window."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from wagate.api.deps import MAX_ID, AdminDep, JsonObject, PrincipalDep, RuntimeDep
from wagate.domain.inputs import check_moment
from wagate.domain.phones import normalize_phone
from wagate.services import policy as service
from wagate.store.repos import policy as repo

router = APIRouter(tags=["policy"])


@router.get("/v1/policy", summary="The tenant's policy settings and today's usage")
async def get_policy(principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    settings = await service.tenant_policy(rt, principal.tenant)
    return {**settings.as_json(), "usage": await service.usage(rt, principal.tenant)}


@router.patch("/v1/policy", summary="Change daily_cap, timezone, opt-out keywords and texts, opt-in page (admin)")
async def patch_policy(principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    settings = await service.update_policy(rt, principal.tenant, body)
    return {**settings.as_json(), "usage": await service.usage(rt, principal.tenant)}


@router.get("/v1/policy/refusals", summary="Messages a rule refused or let through with a warning, newest first")
async def list_refusals(
    principal: PrincipalDep,
    rt: RuntimeDep,
    code: str | None = None,
    phone: str | None = None,
    outcome: Annotated[str | None, Query(pattern="^(refused|warned)$")] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    tenant = principal.tenant
    if since is not None:
        check_moment(since, "since")
    normalized = normalize_phone(phone, tenant.default_region, "phone") if phone else None
    rows = await rt.db.read(
        lambda c: repo.list_refusals(
            c, tenant.id, code=code, phone=normalized, outcome=outcome, since=since, before_id=cursor, limit=limit
        )
    )
    return {
        "data": [service.refusal_json(r) for r in rows],
        "next_cursor": rows[-1].id if len(rows) == limit else None,
    }


@router.get("/v1/contacts/{phone}/window", tags=["contacts"], summary="The client's 24-hour service window")
async def contact_window(
    phone: str, principal: PrincipalDep, rt: RuntimeDep, channel: str | None = None
) -> dict[str, Any]:
    return await service.contact_window(rt, principal.tenant, phone, channel)
