"""``/v1/templates``: local templates (an admin approves them) and templates synced from a cloud channel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from wagate.api.deps import AdminDep, JsonObject, OperatorDep, PrincipalDep, RuntimeDep
from wagate.services import templates as service

router = APIRouter(prefix="/v1/templates", tags=["templates"])


@router.post("", status_code=201, summary="Create a local template (pending until an admin approves it)")
async def create_template(principal: OperatorDep, rt: RuntimeDep, body: JsonObject) -> JSONResponse:
    created = await service.create_template(rt, principal.tenant, body, is_admin=principal.role == "admin")
    if isinstance(created, service.TemplateCreated):
        return JSONResponse({**service.template_json(created.row), "submissions": created.submissions}, status_code=201)
    return JSONResponse(service.template_json(created), status_code=201)


@router.get("", summary="Templates, by id, with cursor paging")
async def list_templates(
    principal: PrincipalDep,
    rt: RuntimeDep,
    name: str | None = None,
    language: str | None = None,
    status: Annotated[str | None, Query(pattern="^(approved|pending|rejected)$")] = None,
    category: Annotated[str | None, Query(pattern="^(marketing|utility|authentication)$")] = None,
    channel: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows = await service.list_templates(
        rt,
        principal.tenant,
        name=name,
        language=language,
        status=status,
        category=category,
        channel=channel,
        after_id=cursor,
        limit=limit,
    )
    return {
        "data": [service.template_json(r) for r in rows],
        "next_cursor": rows[-1].id if len(rows) == limit else None,
    }


@router.post("/sync", summary="Sync a cloud channel's templates from the Cloud API (admin)")
async def sync_templates(principal: AdminDep, rt: RuntimeDep, channel: str | None = None) -> dict[str, Any]:
    return await service.sync_from_channel(rt, principal.tenant, channel)


@router.get("/{ref}", summary="One template, by id or by name (?language=&channel=)")
async def get_template(
    ref: str, principal: PrincipalDep, rt: RuntimeDep, language: str | None = None, channel: str | None = None
) -> dict[str, Any]:
    return service.template_json(await service.get_template(rt, principal.tenant, ref, language, channel))


@router.patch("/{ref}", summary="Change a template; status: admin only, local templates only")
async def patch_template(
    ref: str,
    principal: OperatorDep,
    rt: RuntimeDep,
    body: JsonObject,
    language: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    row = await service.update_template(
        rt,
        principal.tenant,
        ref,
        body,
        is_admin=principal.role == "admin",
        language=language,
        channel=channel,
    )
    return service.template_json(row)


@router.delete("/{ref}", status_code=204, summary="Delete a template (admin or operator)")
async def delete_template(
    ref: str, principal: OperatorDep, rt: RuntimeDep, language: str | None = None, channel: str | None = None
) -> Response:
    await service.delete_template(rt, principal.tenant, ref, language, channel)
    return Response(status_code=204)
