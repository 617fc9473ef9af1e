"""``/v1/channels``: delivery channels with their pacing and policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wagate.api.deps import AdminDep, JsonObject, PrincipalDep, RuntimeDep
from wagate.api.v1.schemas import iso
from wagate.domain.channels import public_settings
from wagate.domain.records import ChannelRow
from wagate.runtime import Runtime
from wagate.services import channels as service

router = APIRouter(prefix="/v1/channels", tags=["channels"])


def channel_json(rt: Runtime, row: ChannelRow) -> dict[str, Any]:
    secret_fields = rt.registry.get(row.kind).secret_fields if rt.registry.knows(row.kind) else ()
    return {
        "name": row.name,
        "kind": row.kind,
        "settings": public_settings(row.settings, secret_fields),
        "pacing": row.pacing,
        "policy": row.policy,
        "is_default": row.is_default,
        "status": row.status,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


@router.get("", summary="The tenant's channels")
async def list_channels(principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    rows = await rt.channels_of(principal.tenant.id, fresh=True)
    return {"data": [channel_json(rt, r) for r in sorted(rows.values(), key=lambda r: r.id)]}


@router.post("", status_code=201, summary="Create a channel (admin)")
async def create_channel(principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    return channel_json(rt, await service.create_channel(rt, principal.tenant, body))


@router.get("/{name}", summary="One channel")
async def get_channel(name: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    return channel_json(rt, await service.get_channel(rt, principal.tenant, name))


@router.patch("/{name}", summary="Change settings, pacing, policy, default or status (admin)")
async def patch_channel(name: str, principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    return channel_json(rt, await service.update_channel(rt, principal.tenant, name, body))
