"""``GET /v1/events``: the pull feed for CRMs that cannot receive webhooks, or catch up after one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from wagate.api.deps import PrincipalDep, RuntimeDep
from wagate.api.models import ResponseBody
from wagate.services import media_links
from wagate.webhooks import service
from wagate.webhooks.formats import Event
from wagate.webhooks.formats.native import envelope

router = APIRouter(prefix="/v1/events", tags=["events"])


class EventOut(ResponseBody):
    """One event, in the envelope native webhooks carry."""

    id: str = Field(examples=["evt_42"])
    type: str = Field(examples=["message.status"])
    timestamp: str
    data: dict[str, Any]


class EventPage(ResponseBody):
    data: list[EventOut]
    next_cursor: str = Field(description="Pass back as ?cursor= (the last event's id when the page is empty)")
    has_more: bool


@router.get(
    "",
    summary="Every event in order after a cursor (the same envelope as native webhooks)",
    response_model=EventPage,
)
async def list_events(
    principal: PrincipalDep,
    rt: RuntimeDep,
    cursor: str | None = None,
    types: Annotated[list[str] | None, Query(description="comma-separated or repeated")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    page = await service.feed(rt, principal.tenant, service.parse_cursor(cursor), service.parse_types(types), limit)
    data = [
        envelope(
            Event(
                id=int(r.id),
                tenant_id=int(r.tenant_id),
                type=r.type,
                message_id=r.message_id,
                payload=media_links.sign_links(rt, int(r.tenant_id), r.payload or {}),
                created_at=r.created_at,
            )
        )
        for r in page.events
    ]
    return {"data": data, "next_cursor": str(page.next_cursor), "has_more": page.has_more}
