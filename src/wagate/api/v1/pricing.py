"""``/v1/pricing`` (the tenant's rate card) and ``/v1/analytics/costs`` (what messages cost)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from wagate.api.deps import AdminDep, JsonObject, PrincipalDep, RuntimeDep
from wagate.services import pricing as service

router = APIRouter(tags=["pricing"])


@router.get("/v1/pricing", summary="The rate card: currency, price per category, per-country overrides")
async def get_pricing(principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    return (await service.require_card(rt, principal.tenant)).as_json()


@router.put("/v1/pricing", summary="Replace the rate card (admin)")
async def put_pricing(principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    return (await service.put_card(rt, principal.tenant, body)).as_json()


@router.get("/v1/analytics/costs", summary="Known message costs summed per day, operator, campaign, conversation …")
async def costs(
    principal: PrincipalDep,
    rt: RuntimeDep,
    group: Annotated[str, Query(description="day | operator | campaign | conversation | channel | category")] = "day",
    since: Annotated[str | None, Query(description="YYYY-MM-DD or ISO date-time; default 6 days ago")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD (included) or ISO date-time; default now")] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    report = await service.costs_report(rt, principal.tenant, group=group, since=since, until=until)
    if format == "csv":
        return Response(
            service.costs_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="costs-{group}.csv"'},
        )
    return report
