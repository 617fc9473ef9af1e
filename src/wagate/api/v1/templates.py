"""``/v1/templates``: local templates (an admin approves them) and templates synced from a cloud channel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from wagate.api.deps import MAX_ID, AdminDep, OperatorDep, PrincipalDep, RuntimeDep
from wagate.api.models import Page, RequestBody, ResponseBody
from wagate.services import templates as service

router = APIRouter(prefix="/v1/templates", tags=["templates"])


class TemplateContent(RequestBody):
    category: str | None = Field(default=None, description="`marketing`, `utility` or `authentication`")
    body: str | None = Field(default=None, description="Text with `{{1}}`, `{{2}}` … placeholders")
    header: str | dict[str, Any] | None = Field(default=None, description="Text, or a media header object")
    footer: str | None = None
    buttons: list[dict[str, Any]] | None = None
    scope: str | None = Field(default=None, description="The consent scope this template needs")
    status: str | None = Field(default=None, description="approved|pending|rejected (admin; local templates)")
    channel: str | None = Field(default=None, description="A channel name; on a cloud channel, Meta reviews it")


class TemplateIn(TemplateContent):
    name: str = Field(examples=["order_ready"])
    language: str = Field(examples=["en"])
    examples: list[str] | None = Field(
        default=None, description="Sample values, one per {{n}}, for Meta's review (cloud channels)"
    )
    category: str | None = Field(default=None, description="`marketing`, `utility` or `authentication`")
    body: str | None = Field(default=None, description="Text with `{{1}}`, `{{2}}` … placeholders")


class TemplatePatch(TemplateContent):
    name: str | None = Field(default=None, description="Identifies; cannot change")
    language: str | None = Field(default=None, description="Identifies; cannot change")


class TemplateOut(ResponseBody):
    id: int
    name: str
    language: str
    category: str | None
    scope: str | None
    required_scope: str | None
    body: str | None
    params: int
    header: dict[str, Any] | None
    footer: str | None
    buttons: list[Any]
    status: str
    provider_status: str | None
    provider_id: str | None = None
    provider_info: dict[str, Any] | None = None
    channel: str | None
    source: str | None
    created_at: str | None
    updated_at: str | None
    submissions: list[dict[str, Any]] | None = Field(
        default=None, description="On creation without a channel: one result per cloud channel it was submitted to"
    )


@router.post(
    "",
    status_code=201,
    summary="Create a local template (pending until an admin approves it)",
    responses={201: {"model": TemplateOut, "description": "Created"}},
)
async def create_template(principal: OperatorDep, rt: RuntimeDep, body: TemplateIn) -> JSONResponse:
    created = await service.create_template(rt, principal.tenant, body.fields(), is_admin=principal.role == "admin")
    if isinstance(created, service.TemplateCreated):
        return JSONResponse({**service.template_json(created.row), "submissions": created.submissions}, status_code=201)
    return JSONResponse(service.template_json(created), status_code=201)


@router.get("", summary="Templates, by id, with cursor paging", response_model=Page[TemplateOut])
async def list_templates(
    principal: PrincipalDep,
    rt: RuntimeDep,
    name: str | None = None,
    language: str | None = None,
    status: Annotated[str | None, Query(pattern="^(approved|pending|rejected)$")] = None,
    category: Annotated[str | None, Query(pattern="^(marketing|utility|authentication)$")] = None,
    channel: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
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


@router.get("/{ref}", summary="One template, by id or by name (?language=&channel=)", response_model=TemplateOut)
async def get_template(
    ref: str, principal: PrincipalDep, rt: RuntimeDep, language: str | None = None, channel: str | None = None
) -> dict[str, Any]:
    return service.template_json(await service.get_template(rt, principal.tenant, ref, language, channel))


@router.patch(
    "/{ref}", summary="Change a template; status: admin only, local templates only", response_model=TemplateOut
)
async def patch_template(
    ref: str,
    principal: OperatorDep,
    rt: RuntimeDep,
    body: TemplatePatch,
    language: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    row = await service.update_template(
        rt,
        principal.tenant,
        ref,
        body.fields(),
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
