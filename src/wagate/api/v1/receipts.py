"""``POST /v1/messages/{id}/read``: tell the customer an inbound message was read (blue ticks), and
optionally (``{"typing": true}``) show "typing…" while an operator writes the answer — the Cloud API
shows it for up to 25 seconds or until the next message is sent."""

from __future__ import annotations

import inspect
from typing import Any

import orjson
from fastapi import APIRouter, Request

from wagate.api.deps import PrincipalDep, RuntimeDep
from wagate.errors import ValidationError
from wagate.services import messages as message_service
from wagate.store.repos import channels as channel_repo

router = APIRouter(prefix="/v1/messages", tags=["messages"])


@router.post("/{message_id}/read", summary='Mark an inbound message read; {"typing": true} also shows typing…')
async def mark_read(message_id: int, principal: PrincipalDep, rt: RuntimeDep, request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = orjson.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict) or set(body) - {"typing"} or not isinstance(body.get("typing", False), bool):
        raise ValidationError('the body is empty or {"typing": true|false}', field="typing")
    typing = bool(body.get("typing", False))
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
