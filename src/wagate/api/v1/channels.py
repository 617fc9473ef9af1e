"""``/v1/channels``: delivery channels with their pacing and policy."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from wagate.api.deps import AdminDep, PrincipalDep, RuntimeDep
from wagate.api.models import Listing, RequestBody, ResponseBody
from wagate.api.v1.schemas import iso
from wagate.domain.channels import public_settings
from wagate.domain.records import ChannelRow
from wagate.runtime import Runtime
from wagate.services import channels as service

router = APIRouter(prefix="/v1/channels", tags=["channels"])

PACING = "`per_second`, `min_interval_s`, `max_interval_s`, `daily_cap`"
POLICY = "`service_window` (bool), `consent` (enforce|warn|off), `messaging_limit`, `duplicate_window_s` …"


class ChannelIn(RequestBody):
    name: str = Field(description="Unique per tenant; messages name their channel by it", examples=["sales"])
    kind: str = Field(description="`cloud`, `device`, `web` (and `http`)", examples=["device"])
    settings: dict[str, Any] | None = Field(default=None, description="Kind-specific (credentials are kept encrypted)")
    pacing: dict[str, Any] | None = Field(default=None, description=f"Overrides of the kind's pacing: {PACING}")
    policy: dict[str, Any] | None = Field(default=None, description=f"Overrides of the kind's policy: {POLICY}")
    is_default: bool | None = Field(default=None, description="Messages without `channel` go here")


class ChannelPatch(RequestBody):
    """Only the fields sent change; ``settings`` merges (a masked secret ``***`` keeps its value)."""

    kind: str | None = Field(default=None, description="Cannot change; accepted when equal")
    settings: dict[str, Any] | None = None
    pacing: dict[str, Any] | None = Field(default=None, description=PACING)
    policy: dict[str, Any] | None = Field(default=None, description=POLICY)
    is_default: bool | None = None
    status: Literal["active", "paused"] | None = None


class ChannelOut(ResponseBody):
    name: str
    kind: str
    settings: dict[str, Any] = Field(description="Secrets masked as `***`")
    pacing: dict[str, Any]
    policy: dict[str, Any]
    is_default: bool
    status: str
    created_at: str | None
    updated_at: str | None


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


@router.get("", summary="The tenant's channels", response_model=Listing[ChannelOut])
async def list_channels(principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    rows = await rt.channels_of(principal.tenant.id, fresh=True)
    return {"data": [channel_json(rt, r) for r in sorted(rows.values(), key=lambda r: r.id)]}


@router.post("", status_code=201, summary="Create a channel (admin)", response_model=ChannelOut)
async def create_channel(principal: AdminDep, rt: RuntimeDep, body: ChannelIn) -> dict[str, Any]:
    return channel_json(rt, await service.create_channel(rt, principal.tenant, body.fields()))


@router.get("/{name}", summary="One channel", response_model=ChannelOut)
async def get_channel(name: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    return channel_json(rt, await service.get_channel(rt, principal.tenant, name))


@router.patch(
    "/{name}", summary="Change settings, pacing, policy, default or status (admin)", response_model=ChannelOut
)
async def patch_channel(name: str, principal: AdminDep, rt: RuntimeDep, body: ChannelPatch) -> dict[str, Any]:
    return channel_json(rt, await service.update_channel(rt, principal.tenant, name, body.fields()))
