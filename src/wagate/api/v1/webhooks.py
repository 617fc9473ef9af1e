"""``/v1/webhooks``: subscriptions, their deliveries log, replay and secret rotation (admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import Field

from wagate.api.deps import MAX_ID, AdminDep, RowId, RuntimeDep
from wagate.api.models import Listing, Page, RequestBody, ResponseBody
from wagate.api.v1.schemas import iso
from wagate.webhooks import service

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

EVENTS = "`message.status`, `message.received`, `channel.status`, `consent.changed`, `callback.requested` …"
EventId = Annotated[int, Field(ge=1, le=MAX_ID)]


class SubscriptionIn(RequestBody):
    url: str = Field(examples=["https://crm.example.com/hooks/wagate"])
    events: list[str] | None = Field(default=None, description=f"Event types ({EVENTS}); every type when absent")
    format: Literal["native", "devino"] | None = Field(default=None, description="`native` by default")
    description: str | None = None


class SubscriptionPatch(RequestBody):
    url: str | None = None
    events: list[str] | None = None
    format: Literal["native", "devino"] | None = None
    description: str | None = None
    status: Literal["active", "disabled"] | None = Field(default=None, description="`active` re-enables")


class RotateIn(RequestBody):
    grace_seconds: int | None = Field(default=None, description="How long the old secret still signs too")


class ReplayIn(RequestBody):
    """Without ids: every dead letter. With ids: those events or deliveries."""

    event_ids: list[EventId] | None = None
    delivery_ids: list[EventId] | None = None


class SubscriptionOut(ResponseBody):
    id: int
    kind: str
    url: str | None
    events: list[str] | None
    format: str
    description: str | None
    status: str
    disabled_reason: str | None
    previous_secret_until: str | None
    created_at: str | None
    updated_at: str | None
    deliveries: dict[str, int] | None = Field(default=None, description="Counts by delivery status")
    secret: str | None = Field(default=None, description="Only in the answer that created or rotated it")


class AttemptOut(ResponseBody):
    attempt: int
    at: str | None
    status_code: int | None
    latency_ms: float | None
    error: str | None
    response: Any = None


class DeliveryOut(ResponseBody):
    id: int
    event_id: int
    webhook_id: str
    event_type: str
    url: str | None
    format: str | None
    status: str
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str | None
    finished_at: str | None
    log: list[AttemptOut]


class Replayed(ResponseBody):
    replayed: int


DELIVERY_STATUSES = ("blocked", "pending", "sending", "delivered", "dead", "replayed")


def subscription_json(row: Any, counts: dict[str, int] | None = None, secret: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "url": row.url,
        "events": row.events,
        "format": row.format,
        "description": row.description,
        "status": row.status,
        "disabled_reason": row.disabled_reason,
        "previous_secret_until": iso(row.previous_secret_until),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
    if counts is not None:
        data["deliveries"] = {status: counts.get(status, 0) for status in DELIVERY_STATUSES}
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_json(row: Any, attempts: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "webhook_id": f"evt_{row.event_id}",
        "event_type": row.event_type,
        "url": row.url,
        "format": row.format,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.status in ("pending", "blocked") else None,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": iso(row.created_at),
        "finished_at": iso(row.finished_at),
        "log": [
            {
                "attempt": a.attempt,
                "at": iso(a.at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "response": a.response,
            }
            for a in attempts
        ],
    }


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to events; the signing secret is in this answer only",
    response_model=SubscriptionOut,
    response_model_exclude_unset=True,
)
async def create_webhook(body: SubscriptionIn, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    created = await service.create(rt, principal.tenant, body.fields())
    return subscription_json(created.row, secret=created.secret)


@router.get(
    "", summary="The tenant's subscriptions", response_model=Listing[SubscriptionOut], response_model_exclude_unset=True
)
async def list_webhooks(principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    return {"data": [subscription_json(r) for r in await service.list_all(rt, principal.tenant)]}


@router.get(
    "/callbacks",
    summary="The sender of per-message callback_url requests, with delivery counts",
    response_model=SubscriptionOut,
    response_model_exclude_unset=True,
)
async def get_callbacks(principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    row, counts = await service.callbacks(rt, principal.tenant)
    return subscription_json(row, counts)


@router.post(
    "/callbacks/rotate-secret",
    summary="New signing secret for per-message callbacks (shown once)",
    response_model=SubscriptionOut,
    response_model_exclude_unset=True,
)
async def rotate_callbacks_secret(principal: AdminDep, rt: RuntimeDep, body: RotateIn | None = None) -> dict[str, Any]:
    created = await service.rotate(rt, principal.tenant, None, body.fields() if body else {})
    return subscription_json(created.row, secret=created.secret)


@router.get(
    "/{subscription_id}",
    summary="One subscription with delivery counts",
    response_model=SubscriptionOut,
    response_model_exclude_unset=True,
)
async def get_webhook(subscription_id: RowId, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    row, counts = await service.get(rt, principal.tenant, subscription_id)
    return subscription_json(row, counts)


@router.patch(
    "/{subscription_id}",
    summary="Change url, events, format, description or status (re-enable)",
    response_model=SubscriptionOut,
    response_model_exclude_unset=True,
)
async def patch_webhook(
    subscription_id: RowId, body: SubscriptionPatch, principal: AdminDep, rt: RuntimeDep
) -> dict[str, Any]:
    row = await service.update(rt, principal.tenant, subscription_id, body.fields())
    return subscription_json(row)


@router.delete("/{subscription_id}", status_code=204, summary="Unsubscribe (its deliveries go with it)")
async def delete_webhook(subscription_id: RowId, principal: AdminDep, rt: RuntimeDep) -> Response:
    await service.delete(rt, principal.tenant, subscription_id)
    return Response(status_code=204)


@router.post(
    "/{subscription_id}/rotate-secret",
    summary="New signing secret (shown once); the old one signs too for a while",
    response_model=SubscriptionOut,
    response_model_exclude_unset=True,
)
async def rotate_secret(
    subscription_id: RowId, principal: AdminDep, rt: RuntimeDep, body: RotateIn | None = None
) -> dict[str, Any]:
    created = await service.rotate(rt, principal.tenant, subscription_id, body.fields() if body else {})
    return subscription_json(created.row, secret=created.secret)


@router.get(
    "/{subscription_id}/deliveries",
    summary="Deliveries, newest first, each with its attempts",
    response_model=Page[DeliveryOut],
    response_model_exclude_unset=True,
)
async def list_deliveries(
    subscription_id: RowId,
    principal: AdminDep,
    rt: RuntimeDep,
    status: Annotated[str | None, Query(pattern="^(blocked|pending|sending|delivered|dead|replayed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    rows = await service.deliveries(rt, principal.tenant, subscription_id, status=status, before=cursor, limit=limit)
    next_cursor = rows[-1][0].id if len(rows) == limit else None
    return {"data": [delivery_json(r, a) for r, a in rows], "next_cursor": next_cursor}


@router.post(
    "/{subscription_id}/replay",
    status_code=202,
    summary="Re-send dead letters, or chosen events",
    response_model=Replayed,
    response_model_exclude_unset=True,
)
async def replay(
    subscription_id: RowId, principal: AdminDep, rt: RuntimeDep, body: ReplayIn | None = None
) -> dict[str, Any]:
    count = await service.replay(rt, principal.tenant, subscription_id, body.fields() if body else {})
    return {"replayed": count}
