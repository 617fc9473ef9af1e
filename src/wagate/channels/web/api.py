"""``/v1/channels/{name}/session``: the web channel's session, pairing by code, logout, restart.

Every node answers ``GET`` from the ``web_sessions`` row. The actions need the session itself,
so they are carried out by the node holding the channel's lease; another node answers 409
``session_elsewhere`` naming it (in a single-node deployment that never happens).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wagate.api.deps import AdminDep, JsonObject, PrincipalDep, RuntimeDep
from wagate.api.v1.schemas import iso
from wagate.channels.web.session import NotConnected, SessionError
from wagate.domain.phones import normalize_phone
from wagate.errors import ConflictError, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import channels as channel_service
from wagate.store.repos import web as web_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.tenants import Tenant

router = APIRouter(prefix="/v1/channels", tags=["channels"])


async def web_channel(rt: Runtime, tenant: Tenant, name: str) -> ChannelRow:
    row = await channel_service.get_channel(rt, tenant, name)
    if row.kind != "web":
        raise ValidationError(
            f"channel {name!r} is a {row.kind} channel; sessions belong to web channels",
            field="name",
            code="not_supported",
        )
    return row


def session_json(row: Any) -> dict[str, Any]:
    if row is None:
        return {"state": "connecting", "qr": None, "phone": None, "error": None, "since": None}
    return {
        "state": row.state,
        "qr": row.qr if row.state == "pairing" else None,
        "phone": row.phone,
        "error": row.error,
        "since": iso(row.since),
    }


async def read_session(rt: Runtime, channel: ChannelRow) -> dict[str, Any]:
    row = await rt.db.read(lambda c: web_repo.get_session(c, channel.id))
    return session_json(row)


def _supervisor(rt: Runtime, channel: ChannelRow) -> Any:
    sessions = rt.extras.get("web_sessions")
    supervisor = sessions.get(channel.id) if sessions is not None else None
    if supervisor is None:
        raise ConflictError(
            "another node runs this channel's session (or it is starting); try again", code="session_elsewhere"
        )
    return supervisor


@router.get("/{name}/session", summary="The web channel's session: state, QR payload, linked phone")
async def get_session(name: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    channel = await web_channel(rt, principal.tenant, name)
    return await read_session(rt, channel)


@router.post("/{name}/session/pairing-code", summary="Pair by phone number: the code to type on the phone (admin)")
async def pairing_code(name: str, principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    channel = await web_channel(rt, principal.tenant, name)
    raw = body.get("phone")
    if not isinstance(raw, str | int) or isinstance(raw, bool) or not str(raw).strip():
        raise ValidationError("phone is required", field="phone", code="required")
    phone = normalize_phone(str(raw), principal.tenant.default_region, "phone")
    supervisor = _supervisor(rt, channel)
    if supervisor.state == "connected":
        raise ConflictError("the channel is already linked; log out first", code="already_paired")
    session = supervisor.session
    if session is None or supervisor.state != "pairing":
        raise ConflictError(
            f"the session is {supervisor.state}, not waiting for pairing; try again shortly or restart it",
            code="not_pairing",
        )
    try:
        code = await session.pair_phone(phone)
    except (NotConnected, SessionError) as exc:
        raise WagateError(f"WhatsApp refused the pairing code request: {exc}"[:300], code="pairing_failed") from exc
    return {"code": code}


@router.post("/{name}/session/logout", summary="Unlink the channel from the phone (admin)")
async def logout(name: str, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    channel = await web_channel(rt, principal.tenant, name)
    await _supervisor(rt, channel).logout()
    return await read_session(rt, channel)


@router.post("/{name}/session/restart", summary="Reconnect now (and pair again after a logout) (admin)")
async def restart(name: str, principal: AdminDep, rt: RuntimeDep) -> dict[str, Any]:
    channel = await web_channel(rt, principal.tenant, name)
    await _supervisor(rt, channel).restart()
    return await read_session(rt, channel)
