"""The web channel's dashboard page: the live QR code, the state, the linked number, the buttons.

``/dashboard/channels/{name}/session`` shows the page; its panel reloads itself every few
seconds through htmx (``/…/session/panel``, no inline script, so it holds under the
dashboard's strict CSP). The QR code is drawn here with segno as inline SVG: the pairing
payload never leaves the gateway for a QR service.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wagate.api.deps import RuntimeDep
from wagate.channels.web.api import read_session, web_channel
from wagate.channels.web.session import NotConnected, SessionError
from wagate.dashboard.auth import AdminUserDep, UserDep
from wagate.dashboard.render import DashboardRoute, context, render
from wagate.domain.phones import normalize_phone
from wagate.errors import WagateError
from wagate.runtime import Runtime

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


def qr_svg(payload: str) -> str:
    """An SVG QR code of ``payload``, drawn locally."""
    out = io.BytesIO()
    segno.make_qr(payload, error="l").save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return out.getvalue().decode()


async def _panel_data(rt: Runtime, user: Any, name: str) -> dict[str, Any]:
    channel = await web_channel(rt, user.tenant, name)
    session = await read_session(rt, channel)
    sessions = rt.extras.get("web_sessions")
    here = sessions is not None and sessions.get(channel.id) is not None
    return {
        "channel": channel,
        "session": session,
        "qr_svg": qr_svg(session["qr"]) if session.get("qr") else None,
        "here": here,
    }


@router.get("/dashboard/channels/{name}/session")
async def session_page(name: str, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    data = await _panel_data(rt, user, name)
    code = request.query_params.get("code")
    return render(
        "web_session.html", context(request, user, code=code, error=request.query_params.get("error"), **data)
    )


@router.get("/dashboard/channels/{name}/session/panel")
async def session_panel(name: str, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    data = await _panel_data(rt, user, name)
    return render("_web_session.html", context(request, user, **data))


def _back(name: str, **query: str) -> Response:
    from urllib.parse import urlencode

    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"/dashboard/channels/{name}/session{suffix}", status_code=303)


def _supervisor(rt: Runtime, channel_id: int) -> Any:
    sessions = rt.extras.get("web_sessions")
    return sessions.get(channel_id) if sessions is not None else None


@router.post("/dashboard/channels/{name}/session/restart")
async def restart(name: str, rt: RuntimeDep, user: AdminUserDep) -> Response:
    channel = await web_channel(rt, user.tenant, name)
    supervisor = _supervisor(rt, channel.id)
    if supervisor is not None:
        await supervisor.restart()
    return _back(name)


@router.post("/dashboard/channels/{name}/session/logout")
async def logout(name: str, rt: RuntimeDep, user: AdminUserDep) -> Response:
    channel = await web_channel(rt, user.tenant, name)
    supervisor = _supervisor(rt, channel.id)
    if supervisor is not None:
        await supervisor.logout()
    return _back(name)


@router.post("/dashboard/channels/{name}/session/pairing-code")
async def pairing_code(name: str, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    channel = await web_channel(rt, user.tenant, name)
    form = await request.form()
    try:
        phone = normalize_phone(str(form.get("phone") or ""), user.tenant.default_region, "phone")
        supervisor = _supervisor(rt, channel.id)
        session = supervisor.session if supervisor is not None and supervisor.state == "pairing" else None
        if session is None:
            return _back(name, error="the session is not waiting for pairing")
        code = await session.pair_phone(phone)
    except WagateError as exc:
        return _back(name, error=exc.message)
    except (NotConnected, SessionError) as exc:
        return _back(name, error=str(exc)[:200])
    return _back(name, code=code)
