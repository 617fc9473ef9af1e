"""``POST /v1/messages/{id}/resolve``: an admin records the real fate of an ``unknown`` message."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from wagate.api.deps import AdminDep, RowId, RuntimeDep
from wagate.api.models import RequestBody
from wagate.api.v1.schemas import MessageOut, message_json
from wagate.services.recovery import resolve_unknown

router = APIRouter(prefix="/v1/messages", tags=["messages"])


class ResolveIn(RequestBody):
    status: Literal["sent", "delivered", "read", "failed"] = Field(description="What really happened")
    note: str | None = Field(default=None, description="Why (kept in the status history)")


@router.post(
    "/{message_id}/resolve",
    summary="Resolve an unknown message: sent, delivered, read or failed (admin)",
    response_model=MessageOut,
    response_model_exclude_unset=True,
)
async def resolve_message(message_id: RowId, principal: AdminDep, rt: RuntimeDep, body: ResolveIn) -> dict[str, Any]:
    row, history = await resolve_unknown(
        rt, principal.tenant, message_id, body.status, body.note, by=f"token {principal.token_name}"
    )
    return message_json(row, history)
