"""The channels page: every channel of the tenant with its state, and (admins) a form to create one."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wagate.api.deps import RuntimeDep
from wagate.channels.device import service as device_service
from wagate.dashboard.auth import AdminUserDep, UserDep
from wagate.dashboard.render import DashboardRoute, context, is_htmx, render
from wagate.errors import ValidationError
from wagate.runtime import Runtime
from wagate.services import channels as channel_service
from wagate.store.repos.users import User

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

PAGE = "/dashboard/channels"


def _object(text: str, field: str) -> dict[str, Any]:
    """A JSON object typed into the form; empty means "the kind's defaults"."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"{field}: not valid JSON ({exc.args[0]})", field=field) from exc
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be a JSON object", field=field)
    return value


async def _context(request: Request, rt: Runtime, user: User, **extra: Any) -> dict[str, Any]:
    rows = await rt.channels_of(user.tenant.id, fresh=True)
    return context(
        request,
        user,
        channels=sorted(rows.values(), key=lambda r: r.id),
        kinds=sorted(rt.registry.kinds),
        **extra,
    )


@router.get(PAGE)
async def channels_page(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    """The page; for htmx (its 15-second refresh) only the table."""
    ctx = await _context(request, rt, user, created=request.query_params.get("created"))
    return render("_channels_table.html" if is_htmx(request) else "channels.html", ctx)


@router.post(PAGE)
async def create_channel(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()
    body = {
        "name": str(form.get("name") or "").strip(),
        "kind": str(form.get("kind") or ""),
        "settings": _object(str(form.get("settings") or ""), "settings"),
        "pacing": _object(str(form.get("pacing") or ""), "pacing"),
        "policy": _object(str(form.get("policy") or ""), "policy"),
        "is_default": form.get("is_default") == "on",
    }
    row = await channel_service.create_channel(rt, user.tenant, body)  # errors: the flash area
    target = f"{PAGE}?created={row.name}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post(PAGE + "/{name}/devices")
async def create_device_token(name: str, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    """A new device token for a device channel, shown once on the answered page (never stored in clear)."""
    form = await request.form()
    body = {"name": str(form.get("device") or "").strip() or None}
    device, token = await device_service.create_device(rt, user.tenant, name, body)
    new_token = {"channel": name, "device": device.name, "token": token}
    return render("channels.html", await _context(request, rt, user, created=None, new_token=new_token))
