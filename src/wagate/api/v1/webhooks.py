"""``/v1/webhooks``: subscriptions, their deliveries log, replay and secret rotation (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wagate.api.deps import MAX_ID, AdminDep, RowId, RuntimeDep, json_object
from wagate.api.v1.schemas import iso
from wagate.webhooks import service

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

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


async def _optional_body(request: Request) -> dict[str, Any]:
    return await json_object(request) if await request.body() else {}


@router.post("", status_code=201, summary="Subscribe a URL to events; the signing secret is in this answer only")
async def create_webhook(request: Request, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    created = await service.create(rt, principal.tenant, await json_object(request))
    return subscription_json(created.row, secret=created.secret)


@router.get("", summary="The tenant's subscriptions")
async def list_webhooks(principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    return {"data": [subscription_json(r) for r in await service.list_all(rt, principal.tenant)]}


@router.get("/callbacks", summary="The sender of per-message callback_url requests, with delivery counts")
async def get_callbacks(principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    row, counts = await service.callbacks(rt, principal.tenant)
    return subscription_json(row, counts)


@router.post("/callbacks/rotate-secret", summary="New signing secret for per-message callbacks (shown once)")
async def rotate_callbacks_secret(request: Request, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    created = await service.rotate(rt, principal.tenant, None, await _optional_body(request))
    return subscription_json(created.row, secret=created.secret)


@router.get("/{subscription_id}", summary="One subscription with delivery counts")
async def get_webhook(subscription_id: RowId, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    row, counts = await service.get(rt, principal.tenant, subscription_id)
    return subscription_json(row, counts)


@router.patch("/{subscription_id}", summary="Change url, events, format, description or status (re-enable)")
async def patch_webhook(
    subscription_id: RowId, request: Request, principal: AdminDep, rt: RuntimeDep
) -> dict[str, Any]:
    row = await service.update(rt, principal.tenant, subscription_id, await json_object(request))
    return subscription_json(row)


@router.delete("/{subscription_id}", status_code=204, summary="Unsubscribe (its deliveries go with it)")
async def delete_webhook(subscription_id: RowId, principal: AdminDep, rt: RuntimeDep) -> Response:
    await service.delete(rt, principal.tenant, subscription_id)
    return Response(status_code=204)


@router.post(
    "/{subscription_id}/rotate-secret", summary="New signing secret (shown once); the old one signs too for a while"
)
async def rotate_secret(
    subscription_id: RowId, request: Request, principal: AdminDep, rt: RuntimeDep
) -> dict[str, Any]:
    created = await service.rotate(rt, principal.tenant, subscription_id, await _optional_body(request))
    return subscription_json(created.row, secret=created.secret)


@router.get("/{subscription_id}/deliveries", summary="Deliveries, newest first, each with its attempts")
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


@router.post("/{subscription_id}/replay", status_code=202, summary="Re-send dead letters, or chosen events")
async def replay(subscription_id: RowId, request: Request, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    count = await service.replay(rt, principal.tenant, subscription_id, await _optional_body(request))
    return {"replayed": count}
