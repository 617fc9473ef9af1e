"""``/v1/analytics``: operators' response times, replies and SLA share for a period (JSON or CSV).

The definitions are in ``wagate.domain.analytics`` and ``docs/dashboard.md``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from wagate.api.deps import AdminDep, JsonObject, PrincipalDep, RuntimeDep
from wagate.services import analytics as service

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])


@router.get(
    "/operators",
    summary="Per operator: conversations, replies, response times, SLA share, unanswered",
    responses={
        200: {
            "description": "The report (format=json) or its CSV (format=csv)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def operators(
    principal: PrincipalDep,
    rt: RuntimeDep,
    since: Annotated[
        str | None, Query(description="YYYY-MM-DD (local day) or ISO date-time; default 6 days ago")
    ] = None,
    until: Annotated[
        str | None, Query(description="YYYY-MM-DD (that day included) or ISO date-time; default now")
    ] = None,
    sla_minutes: Annotated[float | None, Query(description="override the tenant's SLA for this report")] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    report, names = await service.operators_report(
        rt, principal.tenant, since=since, until=until, sla_minutes=sla_minutes
    )
    if format == "csv":
        return Response(
            service.report_csv(report, names),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="operators.csv"'},
        )
    return service.report_json(report, names)


@router.get("/settings", summary="SLA, working hours and dialogue gap the analytics use")
async def get_settings(principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    return (await service.get_settings(rt, principal.tenant)).as_json()


@router.patch("/settings", summary="Change sla_minutes, working_hours {tz, days, start, end} or dialogue_gap_hours")
async def patch_settings(principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    return (await service.update_settings(rt, principal.tenant, body)).as_json()
