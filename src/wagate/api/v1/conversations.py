"""``/v1/conversations``: the CRM's view of the shared inbox — list, read, assign, close, notes.

Conversations are kept by ``services.conversations`` from messages; API tokens read and change
them like dashboard users do (``filter=mine`` is the dashboard's: API callers pass ``assignee``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from wagate.api.deps import JsonObject, OperatorDep, PrincipalDep, RuntimeDep
from wagate.errors import ValidationError
from wagate.services import conversations as service

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.get("", summary="Conversations, most recent activity first, with cursor paging")
async def list_conversations(
    principal: PrincipalDep,
    rt: RuntimeDep,
    filter: Annotated[str, Query(description="all, unassigned, waiting or closed")] = "all",
    assignee: Annotated[str | None, Query(description="a dashboard user's login")] = None,
    channel: str | None = None,
    phone: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    page = await service.list_conversations(
        rt,
        principal.tenant,
        filter=filter,
        assignee=assignee,
        channel=channel,
        phone=phone,
        cursor=cursor,
        limit=limit,
    )
    return {"data": [service.conversation_json(r) for r in page.rows], "next_cursor": page.next_cursor}


@router.get("/{conversation_id}", summary="One conversation with its internal notes")
async def get_conversation(conversation_id: int, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row = await service.get_conversation(rt, principal.tenant, conversation_id)
    notes = await service.notes(rt, principal.tenant, conversation_id)
    return {**service.conversation_json(row), "notes": [service.note_json(n) for n in notes]}


@router.post("/{conversation_id}/assign", summary='Assign to a user ({"assignee": "login"}) or unassign (null)')
async def assign(conversation_id: int, principal: OperatorDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    if "assignee" not in body:
        raise ValidationError("assignee is required (a login, or null to unassign)", field="assignee", code="required")
    login = body["assignee"]
    if login is not None and not isinstance(login, str):
        raise ValidationError("assignee is a login or null", field="assignee")
    row = await service.assign(rt, principal.tenant, conversation_id, login or None)
    return service.conversation_json(row)


@router.post("/{conversation_id}/close", summary="Close (the client's next message reopens it)")
async def close(conversation_id: int, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return service.conversation_json(await service.set_closed(rt, principal.tenant, conversation_id, True))


@router.post("/{conversation_id}/reopen", summary="Reopen a closed conversation")
async def reopen(conversation_id: int, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return service.conversation_json(await service.set_closed(rt, principal.tenant, conversation_id, False))


@router.post("/{conversation_id}/notes", status_code=201, summary='Add an internal note ({"text"}); never sent')
async def add_note(conversation_id: int, principal: OperatorDep, rt: RuntimeDep, body: JsonObject) -> JSONResponse:
    await service.add_note(
        rt, principal.tenant, conversation_id, body.get("text"), author=principal.token_name, author_id=None
    )
    notes = await service.notes(rt, principal.tenant, conversation_id)
    return JSONResponse(service.note_json(notes[-1]), status_code=201)
