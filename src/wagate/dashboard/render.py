"""Rendering pages and fragments, and turning errors into something a person can read.

``DashboardRoute`` is the route class of every dashboard router: a missing session becomes
a redirect to the sign-in page (``HX-Redirect`` for htmx requests), a ``WagateError`` becomes
the error page, or — for htmx — a message in the page's flash area. (Exception handlers
cannot be used: plug-ins add routers after the app's middleware stack is built.)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from wagate.api.browser_safety import PAGE_HEADERS
from wagate.api.errors import retry_after_headers
from wagate.dashboard.auth import SignInRequired, optional_user
from wagate.dashboard.i18n import (
    TEXTS,
    ago,
    day_label,
    duration,
    elapsed,
    file_size,
    local_time,
    pick_locale,
    translator,
)
from wagate.domain.policy import TenantPolicy
from wagate.domain.records import User
from wagate.errors import WagateError
from wagate.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {**PAGE_HEADERS, "Cache-Control": "no-store"}

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    auto_reload=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


def person(key: object) -> str:
    """A person as the dashboard shows them: ``+79001234567``, or the BSUID/LID when WhatsApp
    withholds the phone (never a ``+`` before something that is not a number)."""
    text = str(key or "")
    return f"+{text}" if text.isdigit() else text


env.filters["person"] = person


def tenant_zone(settings: dict[str, Any]) -> ZoneInfo:
    """Times are shown in the working hours' zone, else the tenant's policy zone, else UTC."""
    hours = (settings.get("analytics") or {}).get("working_hours") or {}
    for name in (hours.get("tz"), TenantPolicy.of(settings).timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (KeyError, ValueError):
                continue
    return ZoneInfo("UTC")


def context(request: Request, user: User | None, **extra: Any) -> dict[str, Any]:
    rt: Runtime = request.app.state.runtime
    locale = pick_locale(
        user.locale if user else request.query_params.get("lang"), request.headers.get("accept-language")
    )
    t = translator(locale)
    now = rt.clock.now()
    tz = tenant_zone(user.tenant.settings) if user else ZoneInfo("UTC")
    return {
        "request": request,
        "user": user,
        "locale": locale,
        "locales": list(TEXTS),
        "_": t,
        "now": now,
        "tz": tz,
        "csrf": getattr(request.state, "csrf", ""),
        "ago": lambda moment: ago(moment, now, t),
        "elapsed": lambda moment: elapsed(moment, now, t),
        "duration": lambda seconds: duration(seconds, t),
        "when": lambda moment: local_time(moment, tz, now),
        "day": lambda moment: day_label(moment, tz, now, t),
        "file_size": lambda size: file_size(size, t),
        "path": request.url.path,
        **extra,
    }


def render(name: str, ctx: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    html = env.get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def flash(request: Request, message: str, *, error: bool = False, user: User | None = None) -> HTMLResponse:
    """A message shown in the page's flash area (htmx retargets the answer there)."""
    user = user or getattr(request.state, "user", None)
    ctx = context(request, user, message=message, error=error)
    return render("_flash.html", ctx, headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/dashboard/login" + (f"?next={quote(target, safe='')}" if target not in ("/", "") else "")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_response(request: Request, exc: WagateError) -> Response:
    user = getattr(request.state, "user", None)
    t = translator(pick_locale(user.locale if user else None, request.headers.get("accept-language")))
    message = {"not_found": t("not_found"), "forbidden": t("forbidden")}.get(exc.code, exc.message)
    if is_htmx(request):
        return flash(request, message, error=True, user=user)
    headers = retry_after_headers(exc)
    if request.url.path.endswith((".csv", "/events")) or request.url.path.startswith("/dashboard/media/"):
        return Response(message, status_code=exc.status_code, media_type="text/plain; charset=utf-8", headers=headers)
    return render("error.html", context(request, user, message=message), status=exc.status_code, headers=headers)


async def page_error(request: Request, status: int) -> Response | None:
    """An unknown ``/dashboard/...`` page (or ``/dashboard/...`` refused by routing) as an HTML page.

    The API's paths keep their JSON errors; static files and media keep plain answers."""
    path = request.url.path
    if not path.startswith("/dashboard/") or path.startswith(("/dashboard/static/", "/dashboard/media/")):
        return None
    user = await optional_user(request)
    t = translator(pick_locale(user.locale if user else None, request.headers.get("accept-language")))
    message = t("page_not_found") if status in (404, 405) else t("error")
    if is_htmx(request):
        return flash(request, message, error=True, user=user)
    return render("error.html", context(request, user, message=message), status=404 if status == 405 else status)


class DashboardRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except WagateError as exc:
                return error_response(request, exc)

        return guarded


def safe_next(value: str | None) -> str:
    """Only local paths: a sign-in link must not send anyone to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
