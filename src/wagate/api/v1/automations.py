"""``/v1/automations``: working hours, away message, greeting, the menu bot, keyword replies;
the dry run ("what would the bot answer this now"); callback requests; hand-back to the bot."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from wagate.api.deps import AdminDep, JsonObject, OperatorDep, PrincipalDep, RowId, RuntimeDep
from wagate.errors import ValidationError
from wagate.services.automations import Automations, callback_json, normalize_optional_phone
from wagate.services.messages import resolve_channel

router = APIRouter(tags=["automations"])


def _service(request: Request) -> Automations:
    service: Automations = request.app.state.automations
    return service


@router.get("/v1/automations", summary="The tenant's automations (working hours, away message, menu, keywords)")
async def get_automations(request: Request, principal: AdminDep) -> dict[str, Any]:
    return await _service(request).get(principal.tenant)


@router.put("/v1/automations", summary="Replace the tenant's automations; the error names the field at fault")
async def put_automations(request: Request, principal: AdminDep, body: JsonObject) -> dict[str, Any]:
    return await _service(request).put(principal.tenant, body)


@router.post(
    "/v1/automations/dry-run",
    summary="What the bot would answer a text now (or at a given time); nothing is stored or sent",
)
async def dry_run(request: Request, principal: PrincipalDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    tenant = principal.tenant
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        raise ValidationError("text is a string (or null for a media message)", field="text")
    at = body.get("at")
    moment: datetime | None = None
    if at is not None:
        try:
            moment = datetime.fromisoformat(str(at))
        except ValueError as exc:
            raise ValidationError("at is an ISO 8601 date-time with an offset", field="at") from exc
        if moment.tzinfo is None:
            raise ValidationError("at needs an offset (e.g. +03:00 or Z)", field="at")
    channel = await resolve_channel(rt, tenant, body.get("channel"))
    phone = normalize_optional_phone(body.get("phone"), tenant.default_region)
    result = await _service(request).dry_run(
        tenant, text=text, channel=channel, phone=phone, at=moment, settings_body=body.get("settings")
    )
    reaction = result.reaction
    callback = reaction.callback
    return {
        "replies": list(reaction.replies),
        "rules": list(reaction.rules),
        "open": result.open,
        "back_at": result.back_at.isoformat() if result.back_at else None,
        "handoff": reaction.handoff,
        "callback": {
            "phone": callback.phone,
            "when": callback.at.isoformat() if callback.at else None,
            "asap": callback.asap,
            "text": callback.text,
        }
        if callback
        else None,
        "state": reaction.state.as_json(),
    }


@router.get("/v1/callbacks", summary="Callback requests by due time: open and taken unless status says otherwise")
async def list_callbacks(
    request: Request,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(description="open, taken, done or all")] = None,
    conversation_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows = await _service(request).list_callbacks(
        principal.tenant, status=status, conversation_id=conversation_id, limit=limit
    )
    return {"data": [callback_json(r) for r in rows]}


@router.post("/v1/callbacks/{callback_id}", summary='Take ({"status": "taken", "by"}), finish or reopen a request')
async def update_callback(
    callback_id: RowId, request: Request, principal: OperatorDep, body: JsonObject
) -> dict[str, Any]:
    by = body.get("by", principal.token_name)
    if not isinstance(by, str) or not by.strip() or len(by) > 100:
        raise ValidationError("by names who takes the call (up to 100 characters)", field="by")
    row = await _service(request).set_callback(principal.tenant, callback_id, str(body.get("status")), by.strip())
    return callback_json(row)


@router.post(
    "/v1/conversations/{conversation_id}/bot",
    summary='Hand a conversation back to the bot ({"active": true}) or take it from the bot (false)',
)
async def set_bot(conversation_id: RowId, request: Request, principal: OperatorDep, body: JsonObject) -> dict[str, Any]:
    active = body.get("active")
    if not isinstance(active, bool):
        raise ValidationError("active is true (the bot answers) or false (people do)", field="active")
    return await _service(request).set_mode(principal.tenant, conversation_id, active)
