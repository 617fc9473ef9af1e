"""``/v1/campaigns``: bulk template sends from a CSV, with a dry run, live stats and ban protection.

``POST /v1/campaigns`` takes ``multipart/form-data`` (``file`` = the CSV, the settings as form
fields) or JSON (``csv`` = the CSV as text, or ``rows`` = ``[{phone, name, params}]``). The
campaign is created as a ``draft`` with its dry-run ``report``; nothing is sent before
``POST /v1/campaigns/{id}/start`` (docs/campaigns.md).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from wagate.api.deps import OperatorDep, PrincipalDep, RuntimeDep, parse_json_object
from wagate.domain import campaigns as domain
from wagate.errors import ValidationError
from wagate.services import campaigns as service
from wagate.services.campaign_import import RecipientFile

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])

STATES = "^(draft|running|paused|completed|cancelled)$"
RECIPIENT_STATES = "^(pending|enqueued|refused|invalid|duplicate)$"


def _form_fields(form: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "file" or not isinstance(value, str):
            continue
        if key == "protection" and value.strip():
            try:
                fields[key] = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise ValidationError("protection is a JSON object", field="protection") from exc
        else:
            fields[key] = value
    return fields


_SETTINGS: dict[str, Any] = {
    "template": {"type": "string", "description": "the approved template's name"},
    "language": {"type": "string", "description": "its language, when it has several (en, ru, en_US)"},
    "channel": {"type": "string", "description": "channel name; the default channel if absent"},
    "name": {"type": "string"},
    "start_at": {"type": "string", "format": "date-time", "description": "ISO 8601 with a zone"},
    "window": {"type": "string", "example": "10:00-20:00", "description": "sending window, the tenant's zone"},
    "timezone": {"type": "string", "example": "Europe/Moscow"},
    "max_in_flight": {"type": "integer", "default": 50, "description": "most messages queued at once"},
}
_PROTECTION = {"type": "object", "example": {"window": 100, "min_sample": 20, "max_optout_rate": 0.05}}
CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "template"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the CSV of recipients"},
                        **_SETTINGS,
                        "protection": {"type": "string", "description": "ban protection as a JSON object"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["template"],
                    "properties": {
                        "csv": {"type": "string", "description": "the CSV's text (or rows)"},
                        "rows": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "[{phone, name, params}]",
                        },
                        **_SETTINGS,
                        "protection": _PROTECTION,
                    },
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=201,
    summary="Create a campaign from a CSV: a draft with its dry-run report",
    openapi_extra=CREATE_BODY,
)
async def create_campaign(principal: OperatorDep, rt: RuntimeDep, request: Request) -> JSONResponse:
    tenant = principal.tenant
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationError("file (the CSV of recipients) is required", field="file", code="required")
            spec = domain.validate_spec(_form_fields(form))
            source = RecipientFile(upload.file, filename=upload.filename)
            row = await service.create_campaign(rt, tenant, spec, source)
    else:
        body = parse_json_object(await request.body())
        spec = domain.validate_spec(body)
        text, rows = body.get("csv"), body.get("rows")
        if (text is None) == (rows is None):
            raise ValidationError("give the recipients as csv (text) or rows (a list)", field="csv", code="required")
        if text is not None:
            if not isinstance(text, str):
                raise ValidationError("csv is the file's text", field="csv")
            source = RecipientFile.from_text(text)
        else:
            if not isinstance(rows, list) or not rows:
                raise ValidationError("rows is a non-empty list of {phone, name, params}", field="rows")
            source = RecipientFile(rows=rows)
        row = await service.create_campaign(rt, tenant, spec, source)
    return JSONResponse(service.campaign_json(row, await service.stats(rt, row)), status_code=201)


@router.get("", summary="Campaigns, newest first, with their live stats")
async def list_campaigns(
    principal: PrincipalDep,
    rt: RuntimeDep,
    state: Annotated[str | None, Query(pattern=STATES)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    rows = await service.list_campaigns(rt, principal.tenant, state=state, before_id=cursor, limit=limit)
    return {
        "data": [service.campaign_json(r, await service.stats(rt, r)) for r in rows],
        "next_cursor": rows[-1].id if len(rows) == limit else None,
    }


@router.get("/{campaign_id}", summary="One campaign: settings, dry-run report, live stats")
async def get_campaign(campaign_id: int, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row = await service.get_campaign(rt, principal.tenant, campaign_id)
    return service.campaign_json(row, await service.stats(rt, row))


@router.get("/{campaign_id}/recipients", summary="The campaign's recipients in file order (?state=, cursor = line)")
async def list_recipients(
    campaign_id: int,
    principal: PrincipalDep,
    rt: RuntimeDep,
    state: Annotated[str | None, Query(pattern=RECIPIENT_STATES)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows = await service.list_recipients(rt, principal.tenant, campaign_id, state=state, after_line=cursor, limit=limit)
    return {
        "data": [service.recipient_json(r) for r in rows],
        "next_cursor": rows[-1].line if len(rows) == limit else None,
    }


async def _act(action: str, campaign_id: int, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row = await service.ACTIONS[action](rt, principal.tenant, campaign_id)
    return service.campaign_json(row, await service.stats(rt, row))


@router.post("/{campaign_id}/start", summary="Start sending a draft campaign")
async def start(campaign_id: int, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return await _act("start", campaign_id, principal, rt)


@router.post("/{campaign_id}/pause", summary="Pause: queued messages are pulled back until resumed")
async def pause(campaign_id: int, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return await _act("pause", campaign_id, principal, rt)


@router.post("/{campaign_id}/resume", summary="Resume a paused campaign where it stopped")
async def resume(campaign_id: int, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return await _act("resume", campaign_id, principal, rt)


@router.post("/{campaign_id}/cancel", summary="Cancel: nothing more is sent; queued messages are cancelled")
async def cancel(campaign_id: int, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return await _act("cancel", campaign_id, principal, rt)


@router.delete("/{campaign_id}", status_code=204, summary="Delete a draft, completed or cancelled campaign")
async def delete_campaign(campaign_id: int, principal: OperatorDep, rt: RuntimeDep) -> Response:
    await service.delete(rt, principal.tenant, campaign_id)
    return Response(status_code=204)
