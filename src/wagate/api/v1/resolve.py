"""``POST /v1/messages/{id}/resolve``: an admin records the real fate of an ``unknown`` message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wagate.api.deps import AdminDep, JsonObject, RowId, RuntimeDep
from wagate.api.v1.schemas import message_json
from wagate.services.recovery import resolve_unknown

router = APIRouter(prefix="/v1/messages", tags=["messages"])


@router.post("/{message_id}/resolve", summary="Resolve an unknown message: sent, delivered, read or failed (admin)")
async def resolve_message(message_id: RowId, principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    row, history = await resolve_unknown(
        rt, principal.tenant, message_id, body.get("status"), body.get("note"), by=f"token {principal.token_name}"
    )
    return message_json(row, history)
