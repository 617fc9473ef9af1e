"""HTTP doors of the device channel.

* ``/device/v1`` — the device protocol (docs/device.md), ``Authorization: Bearer DEVICE_TOKEN``.
* ``/v1/channels/{name}/devices`` — device tokens for admins (created once, listed, revoked).

Errors are the native ``{"error": {"code", "message", "field"}}``. The device token is read
from the header, hashed, and never logged.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from wagate.api.deps import AdminDep, PrincipalDep, RowId, RuntimeDep, bearer_token
from wagate.api.models import Listing, RequestBody, ResponseBody
from wagate.api.v1.schemas import iso
from wagate.channels.device import inbound, service
from wagate.domain import storable
from wagate.errors import AuthError
from wagate.store.repos.devices import DeviceAuth

protocol = APIRouter(prefix="/device/v1", tags=["device"])
management = APIRouter(prefix="/v1/channels/{name}/devices", tags=["channels"])


async def current_device(request: Request, rt: RuntimeDep) -> DeviceAuth:
    device = await service.authenticate(rt, bearer_token(request))
    if device is None:
        raise AuthError("invalid device token", field="Authorization", code="invalid_token")
    return device


DeviceDep = Annotated[DeviceAuth, Depends(current_device)]


def scrubbed(body: RequestBody) -> dict[str, Any]:
    """A device's report: kept whatever it holds, with unstorable characters replaced (a phone's
    notification is a customer's words; refusing it would lose them)."""
    fields: dict[str, Any] = storable.scrub(body.fields())
    return fields


class ResultIn(RequestBody):
    status: Literal["sent", "failed", "not_on_whatsapp"]
    error: str | None = Field(default=None, description="What the phone saw, for a failure")
    retry: bool | None = Field(default=None, description="A failure worth another try (default false)")


class CheckResultIn(RequestBody):
    """The phone's answer to a phone check (``GET /device/v1/checks/next``)."""

    whatsapp: Literal["exists", "none"] = Field(description="Whether WhatsApp knows the number")


class NotificationIn(RequestBody):
    """A WhatsApp notification the phone posted; ``key`` deduplicates it."""

    key: str = Field(description="Android's notification key (stable for one notification)")
    package: str | None = Field(default=None, examples=["com.whatsapp"])
    title: str | None = Field(default=None, description="The sender (a name or a phone)")
    text: str | None = None
    posted_at: str | int | float | None = Field(default=None, description="ISO 8601 or epoch milliseconds")
    phone: str | int | None = Field(default=None, description="The sender's phone, when the device knows it")
    group: str | None = None


class HeartbeatIn(RequestBody):
    battery: float | None = Field(default=None, ge=0, le=100)
    charging: bool | None = None
    screen_on: bool | None = None
    screen: bool | Literal["on", "off"] | None = None
    whatsapp_version: str | None = None
    app_version: str | None = None
    serial: str | None = None


class DeviceIn(RequestBody):
    name: str | None = None
    serial: str | None = None


class Offer(ResponseBody):
    """A leased message for the phone to type."""

    id: int
    phone: str
    type: str
    text: str | None
    media: dict[str, Any] | None
    link: str | None
    attempt: int
    lease_expires_at: str | None
    client_ref: str | None = None


class DeviceOut(ResponseBody):
    id: int
    name: str | None
    serial: str | None
    status: str
    last_seen_at: str | None
    battery: int | None
    charging: bool | None
    screen_on: bool | None
    whatsapp_version: str | None
    app_version: str | None
    created_at: str | None
    channel: str | None = None
    token: str | None = Field(default=None, description="Only in the answer that created the device")


def device_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "serial": row.serial,
        "status": row.status,
        "last_seen_at": iso(row.last_seen_at),
        "battery": row.battery,
        "charging": row.charging,
        "screen_on": row.screen_on,
        "whatsapp_version": row.whatsapp_version,
        "app_version": row.app_version,
        "created_at": iso(row.created_at),
    }


# -- the device protocol ------------------------------------------------------------------------------


@protocol.get(
    "/next",
    summary="Lease the next due message (200) or nothing is due (204)",
    response_class=Response,
    responses={
        200: {"model": Offer, "description": "The leased message"},
        204: {"description": "Nothing is due; `Retry-After` says when to ask again"},
    },
)
async def next_message(device: DeviceDep, rt: RuntimeDep) -> Response:
    await service.seen(rt, device)
    offer = await service.next_message(rt, device)
    if offer.message is not None:
        return JSONResponse(offer.message)
    wait = service.poll_seconds(device) if offer.retry_after is None else offer.retry_after
    headers = {"Retry-After": str(max(1, math.ceil(wait))), "X-Retry-After-Seconds": f"{wait:.3f}"}
    return Response(status_code=204, headers=headers)


@protocol.post("/messages/{message_id}/result", summary="Report sent / failed / not_on_whatsapp (idempotent)")
async def message_result(message_id: RowId, device: DeviceDep, rt: RuntimeDep, body: ResultIn) -> dict[str, Any]:
    await service.seen(rt, device)
    return await service.record_result(rt, device, message_id, scrubbed(body))


@protocol.get("/checks/next", summary="Lease the next phone check (200) or nothing is due (204)")
async def next_check(device: DeviceDep, rt: RuntimeDep) -> Response:
    await service.seen(rt, device)
    offer = await service.next_check(rt, device)
    if offer.job is not None:
        return JSONResponse(offer.job)
    wait = service.poll_seconds(device) if offer.retry_after is None else offer.retry_after
    headers = {"Retry-After": str(max(1, math.ceil(wait))), "X-Retry-After-Seconds": f"{wait:.3f}"}
    return Response(status_code=204, headers=headers)


@protocol.post("/checks/{check_id}/result", summary='Report a phone check: {"whatsapp": "exists"|"none"} (idempotent)')
async def check_result(check_id: RowId, device: DeviceDep, rt: RuntimeDep, body: CheckResultIn) -> dict[str, Any]:
    await service.seen(rt, device)
    return await service.record_check(rt, device, check_id, body.fields())


@protocol.post("/notifications", summary="A WhatsApp notification: becomes an inbound message (deduplicated by key)")
async def notification(device: DeviceDep, rt: RuntimeDep, body: NotificationIn) -> dict[str, Any]:
    await service.seen(rt, device)
    return await inbound.record_notification(rt, device, scrubbed(body))


@protocol.post("/heartbeat", summary="Battery, charging, screen, versions; keeps the device online")
async def heartbeat(device: DeviceDep, rt: RuntimeDep, body: HeartbeatIn) -> dict[str, Any]:
    row = await service.seen(rt, device, service.heartbeat_fields(scrubbed(body)))
    return {
        **device_json(row),
        "channel": device.channel_name,
        "poll_interval_s": service.poll_seconds(device),
        "server_time": iso(rt.clock.now()),
    }


# -- management (native API) ---------------------------------------------------------------------------


@management.post(
    "",
    status_code=201,
    summary="Create a device token (admin; the token is shown once)",
    response_model=DeviceOut,
    response_model_exclude_unset=True,
)
async def create_device(name: str, principal: AdminDep, rt: RuntimeDep, body: DeviceIn | None = None) -> dict[str, Any]:
    row, token = await service.create_device(rt, principal.tenant, name, body.fields() if body else {})
    return {**device_json(row), "channel": name, "token": token}


@management.get(
    "",
    summary="The channel's devices with their presence and last heartbeat",
    response_model=Listing[DeviceOut],
    response_model_exclude_unset=True,
)
async def list_devices(name: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    rows = await service.list_devices(rt, principal.tenant, name)
    return {"data": [device_json(r) for r in rows]}


@management.delete("/{device_id}", status_code=204, summary="Revoke a device token (admin)")
async def revoke_device(name: str, device_id: RowId, principal: AdminDep, rt: RuntimeDep) -> Response:
    await service.revoke_device(rt, principal.tenant, name, device_id)
    return Response(status_code=204)
