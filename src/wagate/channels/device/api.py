"""HTTP doors of the device channel.

* ``/device/v1`` — the device protocol (CONTRACT §8), ``Authorization: Bearer DEVICE_TOKEN``.
* ``/v1/channels/{name}/devices`` — device tokens for admins (created once, listed, revoked).

Errors are the native ``{"error": {"code", "message", "field"}}``. The device token is read
from the header, hashed, and never logged.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from wagate.api.deps import AdminDep, PrincipalDep, RuntimeDep, bearer_token, json_object
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


async def device_json_body(request: Request) -> dict[str, Any]:
    """A device's report: kept whatever it holds, with unstorable characters replaced (a phone's
    notification is a customer's words; refusing it would lose them)."""
    scrubbed: dict[str, Any] = storable.scrub(await json_object(request))
    return scrubbed


DeviceBody = Annotated[dict[str, Any], Depends(device_json_body)]


async def optional_json(request: Request) -> dict[str, Any]:
    """A JSON object body, or ``{}`` when there is none (``name`` and ``serial`` are optional)."""
    if not await request.body():
        return {}
    return await json_object(request)


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


@protocol.get("/next", summary="Lease the next due message (200) or nothing is due (204)")
async def next_message(device: DeviceDep, rt: RuntimeDep) -> Response:
    await service.seen(rt, device)
    offer = await service.next_message(rt, device)
    if offer.message is not None:
        return JSONResponse(offer.message)
    wait = service.poll_seconds(device) if offer.retry_after is None else offer.retry_after
    headers = {"Retry-After": str(max(1, math.ceil(wait))), "X-Retry-After-Seconds": f"{wait:.3f}"}
    return Response(status_code=204, headers=headers)


@protocol.post("/messages/{message_id}/result", summary="Report sent / failed / not_on_whatsapp (idempotent)")
async def message_result(message_id: int, device: DeviceDep, rt: RuntimeDep, body: DeviceBody) -> dict[str, Any]:
    await service.seen(rt, device)
    return await service.record_result(rt, device, message_id, body)


@protocol.post("/notifications", summary="A WhatsApp notification: becomes an inbound message (deduplicated by key)")
async def notification(device: DeviceDep, rt: RuntimeDep, body: DeviceBody) -> dict[str, Any]:
    await service.seen(rt, device)
    return await inbound.record_notification(rt, device, body)


@protocol.post("/heartbeat", summary="Battery, charging, screen, versions; keeps the device online")
async def heartbeat(device: DeviceDep, rt: RuntimeDep, body: DeviceBody) -> dict[str, Any]:
    row = await service.seen(rt, device, service.heartbeat_fields(body))
    return {
        **device_json(row),
        "channel": device.channel_name,
        "poll_interval_s": service.poll_seconds(device),
        "server_time": iso(rt.clock.now()),
    }


# -- management (native API) ---------------------------------------------------------------------------


@management.post("", status_code=201, summary="Create a device token (admin; the token is shown once)")
async def create_device(
    name: str, principal: AdminDep, rt: RuntimeDep, body: Annotated[dict[str, Any], Depends(optional_json)]
) -> dict[str, Any]:
    row, token = await service.create_device(rt, principal.tenant, name, body)
    return {**device_json(row), "channel": name, "token": token}


@management.get("", summary="The channel's devices with their presence and last heartbeat")
async def list_devices(name: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    rows = await service.list_devices(rt, principal.tenant, name)
    return {"data": [device_json(r) for r in rows]}


@management.delete("/{device_id}", status_code=204, summary="Revoke a device token (admin)")
async def revoke_device(name: str, device_id: int, principal: AdminDep, rt: RuntimeDep) -> Response:
    await service.revoke_device(rt, principal.tenant, name, device_id)
    return Response(status_code=204)
