"""``/v1/conversations``: the CRM's view of the shared inbox — list, read, assign, close, notes.

Conversations are kept by ``services.conversations`` from messages; API tokens read and change
them like dashboard users do (``filter=mine`` is the dashboard's: API callers pass ``assignee``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from wagate.api.deps import OperatorDep, PrincipalDep, RowId, RuntimeDep
from wagate.api.models import Page, RequestBody, ResponseBody
from wagate.services import conversations as service

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


class Assignee(ResponseBody):
    login: str
    name: str | None


class NoteOut(ResponseBody):
    id: int
    author: str | None
    author_name: str | None
    text: str
    created_at: str | None


class ConversationOut(ResponseBody):
    id: int
    channel: str | None
    phone: str | None
    contact_name: str | None
    profile_name: str | None
    state: str
    assignee: Assignee | None
    unread: int
    last_message_at: str | None
    last_direction: str | None
    preview: str | None
    last_inbound_at: str | None
    last_reply_at: str | None
    awaiting_since: str | None
    created_at: str | None
    updated_at: str | None
    notes: list[NoteOut] | None = Field(default=None, description="On a single conversation")


@router.get(
    "",
    summary="Conversations, most recent activity first, with cursor paging",
    response_model=Page[ConversationOut],
    response_model_exclude_unset=True,
)
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


@router.get("/{conversation_id}", summary="One conversation with its internal notes", response_model=ConversationOut)
async def get_conversation(conversation_id: RowId, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row = await service.get_conversation(rt, principal.tenant, conversation_id)
    notes = await service.notes(rt, principal.tenant, conversation_id)
    return {**service.conversation_json(row), "notes": [service.note_json(n) for n in notes]}


class AssignIn(RequestBody):
    assignee: str | None = Field(description="A dashboard user's login, or null to unassign")


class NoteIn(RequestBody):
    text: str = Field(description="Seen by operators only; never sent to the client")


@router.post(
    "/{conversation_id}/assign",
    summary='Assign to a user ({"assignee": "login"}) or unassign (null)',
    response_model=ConversationOut,
    response_model_exclude_unset=True,
)
async def assign(conversation_id: RowId, principal: OperatorDep, rt: RuntimeDep, body: AssignIn) -> dict[str, Any]:
    login = body.assignee
    row = await service.assign(rt, principal.tenant, conversation_id, login or None)
    return service.conversation_json(row)


@router.post(
    "/{conversation_id}/close",
    summary="Close (the client's next message reopens it)",
    response_model=ConversationOut,
    response_model_exclude_unset=True,
)
async def close(conversation_id: RowId, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return service.conversation_json(await service.set_closed(rt, principal.tenant, conversation_id, True))


@router.post(
    "/{conversation_id}/reopen",
    summary="Reopen a closed conversation",
    response_model=ConversationOut,
    response_model_exclude_unset=True,
)
async def reopen(conversation_id: RowId, principal: OperatorDep, rt: RuntimeDep) -> dict[str, Any]:
    return service.conversation_json(await service.set_closed(rt, principal.tenant, conversation_id, False))


@router.post(
    "/{conversation_id}/notes",
    status_code=201,
    summary='Add an internal note ({"text"}); never sent',
    responses={201: {"model": NoteOut, "description": "The note"}},
)
async def add_note(conversation_id: RowId, principal: OperatorDep, rt: RuntimeDep, body: NoteIn) -> JSONResponse:
    await service.add_note(
        rt, principal.tenant, conversation_id, body.text, author=principal.token_name, author_id=None
    )
    notes = await service.notes(rt, principal.tenant, conversation_id)
    return JSONResponse(service.note_json(notes[-1]), status_code=201)
