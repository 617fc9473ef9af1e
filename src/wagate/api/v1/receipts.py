"""``POST /v1/messages/{id}/read``: tell the customer an inbound message was read (blue ticks), and
optionally (``{"typing": true}``) show "typing…" while an operator writes the answer — the Cloud API
shows it for up to 25 seconds or until the next message is sent."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from wagate.api.deps import PrincipalDep, RowId, RuntimeDep
from wagate.api.models import RequestBody
from wagate.errors import ValidationError
from wagate.services import messages as message_service
from wagate.store.repos import channels as channel_repo

router = APIRouter(prefix="/v1/messages", tags=["messages"])


class ReadIn(RequestBody):
    typing: bool = Field(default=False, description="Also show the customer a typing indicator")


@router.post("/{message_id}/read", summary='Mark an inbound message read; {"typing": true} also shows typing…')
async def mark_read(
    message_id: RowId, principal: PrincipalDep, rt: RuntimeDep, body: ReadIn | None = None
) -> dict[str, Any]:
    typing = body.typing if body is not None else False
    row, _history = await message_service.get_message(rt, principal.tenant, message_id)
    if row.direction != "in":
        raise ValidationError("only inbound messages can be marked read", field="id", code="not_inbound")
    channel_row = await rt.db.read(lambda c: channel_repo.get_channel_by_id(c, row.channel_id))
    mark = None
    if channel_row is not None and rt.registry.knows(channel_row.kind):
        mark = getattr(await rt.channel_instance(channel_row), "mark_read", None)
    if mark is None or not row.provider_id:
        raise ValidationError(
            f"channel {row.channel_name!r} cannot mark messages read", field="id", code="not_supported"
        )
    if typing:
        if "typing" not in inspect.signature(mark).parameters:
            raise ValidationError(
                f"channel {row.channel_name!r} cannot show a typing indicator", field="typing", code="not_supported"
            )
        await mark(row.provider_id, typing=True)
    else:
        await mark(row.provider_id)
    return {"id": row.id, "marked_read": True, "typing": typing}
