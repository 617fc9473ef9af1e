"""Operations and administration pages: channels and queues, unknown messages, templates,
consents, users, analytics settings. Everyone may look; only admins change things.

Plain HTML forms (POST, then a 303 back to the page): these pages are used rarely and must
work on any phone. An error re-renders the page with the message and the status code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wagate.api.deps import RuntimeDep
from wagate.api.v1.profile import validate_profile
from wagate.channels.cloud.readiness import version_warnings
from wagate.channels.cloud.versions import DEFAULT_API_VERSION
from wagate.dashboard.auth import AdminUserDep, UserDep
from wagate.dashboard.i18n import translator
from wagate.dashboard.render import DashboardRoute, context, render
from wagate.domain.analytics import ISO_DAYS
from wagate.domain.consent import SOURCES
from wagate.domain.policy import ChannelPolicy
from wagate.domain.statuses import Status
from wagate.domain.templates import CATEGORIES
from wagate.domain.users import LOCALES, ROLES
from wagate.errors import NotFoundError, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import analytics as analytics_service
from wagate.services import consents as consent_service
from wagate.services import templates as template_service
from wagate.services import users as user_service
from wagate.store.repos import messages as message_repo
from wagate.store.repos import operations as repo
from wagate.store.repos.users import User

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

Page = Callable[[Request, Runtime, User, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _show(
    request: Request,
    rt: Runtime,
    user: User,
    template: str,
    build: Page,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    extra: dict[str, Any] = {"error": error, "done": request.query_params.get("done")}
    data = await build(request, rt, user, extra)
    return render(template, context(request, user, **extra, **data), status=status)


async def _act(
    request: Request, rt: Runtime, user: User, template: str, build: Page, work: Callable[[], Awaitable[str]]
) -> Response:
    """Run ``work``; on success go back to the page with its message, on failure show the page with the error."""
    try:
        done = await work()
    except WagateError as exc:
        if exc.code in ("not_found", "forbidden"):
            raise
        return await _show(request, rt, user, template, build, error=exc.message, status=exc.status_code)
    return RedirectResponse(f"{request.url.path}?done={done}", status_code=303)


# ---------------------------------------------------------------- operations


async def _operations(request: Request, rt: Runtime, user: User, _extra: dict[str, Any]) -> dict[str, Any]:
    now = rt.clock.now()
    tenant_id = user.tenant.id

    def job(conn: Any) -> dict[str, Any]:
        return {
            "stats": repo.channel_stats(conn, tenant_id, now),
            "unknown": repo.unknown_messages(conn, tenant_id),
            "devices": repo.devices(conn, tenant_id, now),
        }

    data = await rt.db.read(job)
    channels = sorted((await rt.channels_of(tenant_id, fresh=True)).values(), key=lambda c: c.name)
    rows = []
    for channel in channels:
        policy = ChannelPolicy.of(channel.kind, channel.policy)
        rows.append(
            {
                "channel": channel,
                "stats": data["stats"].get(channel.id, {"queued": 0, "sending": 0, "sent_1h": 0, "failed_24h": 0}),
                "devices": data["devices"].get(channel.id, []),
                "per_second": channel.pacing.get("per_second"),
                "policy": policy,
            }
        )
    return {
        "rows": rows,
        "unknown": data["unknown"],
        "version_warnings": version_warnings(channels, now.date()),
        "default_version": DEFAULT_API_VERSION,
    }


@router.get("/dashboard/operations")
async def operations(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    return await _show(request, rt, user, "operations.html", _operations)


@router.post("/dashboard/messages/{message_id}/resolve")
async def resolve(message_id: int, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    """An admin says what became of an ``unknown`` message (it is never resent blindly)."""
    form = await request.form()
    outcome = Status.SENT if form.get("outcome") == "sent" else Status.FAILED

    async def work() -> str:
        now = rt.clock.now()

        def job(conn: Any) -> None:
            row = message_repo.get_message(conn, user.tenant.id, message_id)
            if row is None:
                raise NotFoundError(f"message {message_id} not found", field="id")
            change = message_repo.apply_status(
                conn,
                message_id,
                outcome,
                now=now,
                reason=f"resolved by {user.login}",
                error_code="resolved_not_sent" if outcome is Status.FAILED else None,
                error_message=f"{user.login}: it was not sent" if outcome is Status.FAILED else None,
                record_ignored=False,
            )
            if change is None or not change.applied:
                raise ValidationError(f"message {message_id} is {row.status}, not unknown", field="outcome")

        await rt.db.write(job)
        return "saved"

    return await _act(request, rt, user, "operations.html", _operations, work)


# ---------------------------------------------------------------- templates


async def _templates(request: Request, rt: Runtime, user: User, _extra: dict[str, Any]) -> dict[str, Any]:
    rows = await template_service.list_templates(rt, user.tenant, limit=500)
    channels = sorted((await rt.channels_of(user.tenant.id)).values(), key=lambda c: c.name)
    return {
        "rows": rows,
        "categories": CATEGORIES,
        "local_channels": [c.name for c in channels if c.kind != "cloud"],
        "cloud_channels": [c.name for c in channels if c.kind == "cloud"],
    }


@router.get("/dashboard/templates")
async def templates_page(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    return await _show(request, rt, user, "templates.html", _templates)


@router.post("/dashboard/templates")
async def create_template(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()
    body = {key: str(form.get(key) or "") for key in ("name", "language", "category", "body", "channel")}
    body["status"] = "approved" if form.get("approve") else "pending"

    async def work() -> str:
        await template_service.create_template(rt, user.tenant, body, is_admin=True)
        return "saved"

    return await _act(request, rt, user, "templates.html", _templates, work)


@router.post("/dashboard/templates/{template_id}/status")
async def template_status(template_id: int, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()

    async def work() -> str:
        await template_service.update_template(
            rt, user.tenant, str(template_id), {"status": str(form.get("status") or "")}, is_admin=True
        )
        return "saved"

    return await _act(request, rt, user, "templates.html", _templates, work)


@router.post("/dashboard/templates/sync")
async def sync_templates(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()

    async def work() -> str:
        await template_service.sync_from_channel(rt, user.tenant, str(form.get("channel") or "") or None)
        return "saved"

    return await _act(request, rt, user, "templates.html", _templates, work)


# ---------------------------------------------------------------- consents


async def _consents(request: Request, rt: Runtime, user: User, _extra: dict[str, Any]) -> dict[str, Any]:
    phone = request.query_params.get("phone") or None
    try:
        rows, _next = await consent_service.list_consents(
            rt, user.tenant, status=None, phone=phone, scope=None, after_id=0, limit=200
        )
    except ValidationError:
        rows = []
    return {"rows": rows, "sources": SOURCES, "phone": phone or ""}


@router.get("/dashboard/consents")
async def consents_page(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    return await _show(request, rt, user, "consents.html", _consents)


@router.post("/dashboard/consents")
async def opt_in(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()
    data = {
        "phone": str(form.get("phone") or ""),
        "scopes": str(form.get("scopes") or ""),
        "source": str(form.get("source") or ""),
        "evidence": {"recorded_by": user.login, "via": "dashboard"},
    }

    async def work() -> str:
        await consent_service.record_opt_in(rt, user.tenant, data, via="dashboard")
        return "saved"

    return await _act(request, rt, user, "consents.html", _consents, work)


@router.post("/dashboard/consents/{phone}/revoke")
async def opt_out(phone: str, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    async def work() -> str:
        await consent_service.record_opt_out(rt, user.tenant, phone, via="dashboard", evidence={"by": user.login})
        return "saved"

    return await _act(request, rt, user, "consents.html", _consents, work)


# ---------------------------------------------------------------- users


async def _users(request: Request, rt: Runtime, user: User, _extra: dict[str, Any]) -> dict[str, Any]:
    return {"rows": await user_service.list_users(rt, user.tenant.id), "roles": ROLES, "all_locales": LOCALES}


@router.get("/dashboard/users")
async def users_page(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    return await _show(request, rt, user, "users.html", _users)


@router.post("/dashboard/users")
async def create_user(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()
    data = {key: str(form.get(key) or "") for key in ("login", "password", "role", "name", "locale")}

    async def work() -> str:
        await user_service.create_user(rt, user.tenant.id, data)
        return "saved"

    return await _act(request, rt, user, "users.html", _users, work)


@router.post("/dashboard/users/{user_id}")
async def update_user(user_id: int, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()
    changes: dict[str, Any] = {}
    for key in ("role", "name", "locale"):
        if key in form:
            changes[key] = str(form.get(key) or "")
    if form.get("password"):
        changes["password"] = str(form.get("password"))
    if "disabled" in form:
        changes["disabled"] = form.get("disabled") == "1"

    async def work() -> str:
        if user_id == user.id and (changes.get("disabled") or changes.get("role") not in (None, "admin")):
            raise ValidationError("you cannot disable yourself or give up your own admin role", field="role")
        await user_service.update_user(rt, user.tenant.id, user_id, changes)
        return "saved"

    return await _act(request, rt, user, "users.html", _users, work)


# ---------------------------------------------------------------- analytics settings


async def _settings(request: Request, rt: Runtime, user: User, _extra: dict[str, Any]) -> dict[str, Any]:
    settings = await analytics_service.get_settings(rt, user.tenant)
    t = translator(user.locale)
    return {
        "settings": settings.as_json(),
        "week": [(d, t(f"day_{d}")) for d in ISO_DAYS],
        "profiles": await _profiles(rt, user),
    }


async def _profiles(rt: Runtime, user: User) -> list[dict[str, Any]]:
    """The business profile of each cloud channel, as Meta has it now (or why it could not be read)."""
    out: list[dict[str, Any]] = []
    for channel in sorted((await rt.channels_of(user.tenant.id)).values(), key=lambda c: c.name):
        if channel.kind != "cloud" or not rt.registry.knows(channel.kind):
            continue
        instance = await rt.channel_instance(channel)
        reader = getattr(instance, "get_profile", None)
        if reader is None:
            continue
        try:
            out.append({"channel": channel.name, "profile": await reader(), "error": None})
        except WagateError as exc:
            out.append({"channel": channel.name, "profile": {}, "error": exc.message})
    return out


@router.post("/dashboard/channels/{name}/profile")
async def save_profile(name: str, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()

    async def work() -> str:
        body: dict[str, Any] = {k: str(form.get(k) or "") for k in ("about", "address", "description", "email")}
        body["websites"] = [w.strip() for w in str(form.get("websites") or "").splitlines() if w.strip()]
        changes = validate_profile(body)
        channel = (await rt.channels_of(user.tenant.id)).get(name)
        if channel is None or channel.kind != "cloud":
            raise NotFoundError("no such cloud channel", field="name")
        await (await rt.channel_instance(channel)).update_profile(changes)  # type: ignore[attr-defined]
        return "saved"

    return await _act(request, rt, user, "settings.html", _settings, work)


@router.get("/dashboard/settings")
async def settings_page(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    return await _show(request, rt, user, "settings.html", _settings)


def _number(value: Any, field: str) -> float:
    try:
        return float(str(value).replace(",", "."))
    except ValueError as exc:
        raise ValidationError("a number is required", field=field) from exc


@router.post("/dashboard/settings")
async def save_settings(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    form = await request.form()

    async def work() -> str:
        body: dict[str, Any] = {
            "sla_minutes": _number(form.get("sla_minutes"), "sla_minutes"),
            "dialogue_gap_hours": _number(form.get("dialogue_gap_hours"), "dialogue_gap_hours"),
        }
        tz = str(form.get("tz") or "").strip()
        if tz:
            body["working_hours"] = {
                "tz": tz,
                "days": [int(str(d)) for d in form.getlist("days") if str(d).isdigit()],
                "start": str(form.get("start") or ""),
                "end": str(form.get("end") or ""),
            }
        else:
            body["working_hours"] = None
        await analytics_service.update_settings(rt, user.tenant, body)
        return "saved"

    return await _act(request, rt, user, "settings.html", _settings, work)
