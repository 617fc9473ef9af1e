"""Sign-in, first-admin set-up, the inbox, live updates (SSE), media and the user's language."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse

from wagate.api import browser_safety
from wagate.api.deps import RuntimeDep
from wagate.dashboard import auth
from wagate.dashboard.auth import UserDep
from wagate.dashboard.broker import Broker
from wagate.dashboard.i18n import pick_locale, translator
from wagate.dashboard.render import DashboardRoute, context, is_htmx, render, safe_next
from wagate.domain.conversations import FILTERS
from wagate.domain.mediatypes import mime_for_name
from wagate.domain.records import User
from wagate.errors import NotFoundError, WagateError
from wagate.runtime import Runtime
from wagate.services import conversations as conversation_service
from wagate.services import media as media_service
from wagate.services import users as user_service
from wagate.store.repos import tenants as tenant_repo

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

HEARTBEAT_SECONDS = 15.0


def _client(request: Request) -> str:
    rt: Runtime = request.app.state.runtime
    trusted = auth.parse_networks(rt.settings.trusted_proxies)  # a few addresses: parsed per sign-in
    return auth.client_address(request, trusted)


async def _too_many(request: Request, rt: Runtime, message: str, wait: float) -> Response:
    response = await _sign_in_page(request, rt, error=message, status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


# ---------------------------------------------------------------- sign-in


async def _sign_in_page(request: Request, rt: Runtime, *, error: str | None = None, status: int = 200) -> Response:
    token = auth.new_login_token()
    ctx = context(
        request,
        None,
        error=error,
        next=safe_next(request.query_params.get("next")),
        login_token=token,
        no_users=not await user_service.any_users(rt),
    )
    response = render("login.html", ctx, status=status)
    auth.set_login_cookie(rt, response, token)
    return response


@router.get("/dashboard/login")
async def login_page(request: Request, rt: RuntimeDep) -> Response:
    if await auth.optional_user(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return await _sign_in_page(request, rt)


@router.post("/dashboard/login")
async def login(request: Request, rt: RuntimeDep) -> Response:
    form = await request.form()
    t = translator(pick_locale(None, request.headers.get("accept-language")))
    if not auth.login_token_ok(request, str(form.get("csrf") or "")):
        return await _sign_in_page(request, rt, error=t("expired_form"), status=403)
    login_name = str(form.get("login") or "").strip().lower()[:64]
    password = str(form.get("password") or "")
    limiter = auth.limiter(rt)
    keys = auth.sign_in_keys(login_name, _client(request))
    wait = limiter.retry_after(*keys)
    if wait is not None:
        return await _too_many(request, rt, t("too_many_attempts"), wait)
    user = await user_service.check_credentials(rt, login_name, password)
    if user is None:
        limiter.fail(*keys)
        return await _sign_in_page(request, rt, error=t("bad_credentials"), status=401)
    limiter.forget(keys[0])  # this person got it right; the login's and address's counts stay
    token = await user_service.start_session(rt, user, request.headers.get("user-agent"))
    response = RedirectResponse(safe_next(str(form.get("next") or "/")), status_code=303)
    auth.set_session_cookie(rt, response, token)
    response.delete_cookie(auth.LOGIN_COOKIE, path="/dashboard")
    return response


@router.post("/dashboard/logout")
async def logout(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    token = auth.session_token(request)
    if token is not None:
        await user_service.end_session(rt, token)
    response: Response = RedirectResponse("/dashboard/login", status_code=303)
    if request.headers.get("hx-request"):
        response = Response(status_code=204, headers={"HX-Redirect": "/dashboard/login"})
    auth.clear_session_cookie(rt, response)
    return response


@router.get("/dashboard/setup")
async def setup_page(request: Request, rt: RuntimeDep) -> Response:
    """The first-admin form while no user exists anywhere; afterwards a page that says so."""
    closed = await user_service.any_users(rt)
    return render("setup.html", context(request, None, error=None, done=False, closed=closed))


@router.post("/dashboard/setup")
async def setup(request: Request, rt: RuntimeDep) -> Response:
    """The first admin of a tenant, created with that tenant's admin API token (``make run`` prints one).

    Open only while the tenant has no users; afterwards admins create users in the dashboard.
    """
    form = await request.form()
    t = translator(pick_locale(None, request.headers.get("accept-language")))
    token = str(form.get("token") or "").strip()
    principal = await rt.db.read(lambda c: tenant_repo.lookup_token(c, token)) if token else None
    error = None
    guessing = f"setup:{_client(request)}"  # a guessed token: the limiter's default, 5 per window
    if principal is None or principal.role != "admin" or auth.limiter(rt).blocked(guessing):
        auth.limiter(rt).fail(guessing)
        error = t("bad_token")
    elif await user_service.has_users(rt, principal.tenant.id):
        error = t("setup_closed")
    else:
        data = {
            "login": form.get("login"),
            "password": form.get("password"),
            "name": form.get("name"),
            "role": "admin",
        }
        try:
            await user_service.create_user(rt, principal.tenant.id, data)
        except WagateError as exc:
            error = exc.message
    if error is not None:
        return render("setup.html", context(request, None, error=error, done=False, closed=False), status=422)
    return render("setup.html", context(request, None, error=None, done=True, closed=False))


# ---------------------------------------------------------------- the inbox


@router.get("/")
async def home(request: Request, rt: RuntimeDep) -> Response:
    """The inbox, or the sign-in page (docs/api.md: ``GET /`` is the dashboard)."""
    user = await auth.optional_user(request)
    if user is None:
        return await _sign_in_page(request, rt)
    return await _inbox(request, rt, user, full=True)


@router.get("/dashboard/inbox")
async def inbox_list(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    """The list for htmx; opened directly (a bookmark, a new tab) the whole inbox page."""
    return await _inbox(request, rt, user, full=not is_htmx(request))


async def _inbox(request: Request, rt: Runtime, user: User, *, full: bool) -> Response:
    params = request.query_params
    name = params.get("filter") or "all"
    if name not in FILTERS:
        name = "all"
    channel = params.get("channel") or None
    channels = sorted((await rt.channels_of(user.tenant.id)).keys())
    if channel not in channels:
        channel = None
    page = await conversation_service.list_conversations(
        rt, user.tenant, filter=name, user=user, channel=channel, cursor=params.get("cursor") or None, limit=50
    )
    counts = await conversation_service.counts(rt, user.tenant, user)
    ctx = context(
        request,
        user,
        filter=name,
        filters=FILTERS,
        channel=channel,
        channels=channels,
        rows=page.rows,
        next_cursor=page.next_cursor,
        counts=counts,
        more=bool(params.get("cursor")),
    )
    return render("inbox.html" if full else "_inbox_list.html", ctx)


# ---------------------------------------------------------------- live updates


def broker_of(rt: Runtime) -> Broker:
    broker = rt.components.get(Broker)
    return broker


@router.get("/dashboard/events")
async def events(request: Request, rt: RuntimeDep, user: UserDep) -> StreamingResponse:
    """Server-sent events: ``{"topics": [...]}`` whenever something the pages show changed."""
    broker = broker_of(rt)
    sub = broker.subscribe(user.tenant.id)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 2000\nevent: hello\ndata: {}\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if item is None:
                    return
                yield b"data: " + orjson.dumps(item) + b"\n\n"
        finally:
            broker.unsubscribe(sub)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- media and language


@router.get("/dashboard/media/{name}")
async def media(name: str, rt: RuntimeDep, user: UserDep) -> FileResponse:
    """Inbound and uploaded media of the user's tenant, served inert (see ``api.browser_safety``)."""
    path = media_service.path_of(rt.settings, user.tenant.id, name)
    if path is None:
        raise NotFoundError("no such media file", field="name")
    return browser_safety.file_response(path, mime_for_name(name))


@router.post("/dashboard/profile")
async def profile(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    await user_service.update_user(rt, user.tenant.id, user.id, {"locale": form.get("locale")})
    back = safe_next(str(form.get("next") or "/"))
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": back})
    return RedirectResponse(back, status_code=303)
