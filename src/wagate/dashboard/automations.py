"""Dashboard pages for automations: the editor (schedule, messages, menu, keywords) with a live
preview, and the callback requests list (take, done).

The editor saves through the same use case as ``PUT /v1/automations`` and previews through the
same dry run as ``POST /v1/automations/dry-run`` with the unsaved form, so the page and the API
never disagree. The preview refreshes as the admin types (htmx attributes; no inline script).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from wagate.api.deps import RuntimeDep
from wagate.api.v1 import automations as automations_api
from wagate.dashboard.auth import AdminUserDep, UserDep
from wagate.dashboard.render import DashboardRoute, context, is_htmx, render
from wagate.domain.working_hours import DAYS
from wagate.errors import ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import recurring
from wagate.services.automations import Automations
from wagate.services.messages import resolve_channel
from wagate.store.repos.users import User

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


async def automations_plugin(rt: Runtime, app: FastAPI) -> None:
    """Install the bot's hooks, mount its API and its pages. Added after the dashboard plug-in:
    the bot answers within conversations, which the dashboard plug-in's hook keeps."""
    app.state.automations = Automations.install(rt)
    app.include_router(automations_api.router)
    app.include_router(router)


PAGE = "/dashboard/automations"
CALLBACKS = "/dashboard/callbacks"
_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})\s*$")


def _service(request: Request) -> Automations:
    service: Automations = request.app.state.automations
    return service


def _pad(value: str) -> str:
    return value if len(value) == 5 else "0" + value


def week_to_text(intervals: list[list[str]]) -> str:
    """``[["09:00","13:00"],["14:00","18:00"]]`` → ``09:00-13:00, 14:00-18:00`` (how the form shows a day)."""
    return ", ".join(f"{a}-{b}" for a, b in intervals)


def text_to_week(text: str, field: str) -> list[list[str]]:
    intervals: list[list[str]] = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        match = _INTERVAL.match(part)
        if match is None:
            raise ValidationError("write intervals as 09:00-13:00, 14:00-18:00", field=field)
        intervals.append([_pad(match.group(1)), _pad(match.group(2))])
    return intervals


def _json(text: str, field: str, empty: Any) -> Any:
    if not text.strip():
        return empty
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"not valid JSON: {exc}", field=field) from exc


def body_from_form(form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """The ``PUT /v1/automations`` body the editor's fields describe."""

    def text(name: str) -> str:
        return str(form.get(name) or "")

    week = {day: text_to_week(text(f"week_{day}"), f"working_hours.week.{day}") for day in DAYS}
    holidays = [h for h in re.split(r"[\s,;]+", text("holidays")) if h]
    return {
        "enabled": text("enabled") == "on",
        "language": text("language") or "en",
        "working_hours": {
            "timezone": text("timezone").strip() or "UTC",
            "week": {day: intervals for day, intervals in week.items() if intervals},
            "holidays": holidays,
        },
        "away_message": text("away_message"),
        "greeting": text("greeting") or None,
        "menu": _json(text("menu"), "menu", None),
        "keywords": _json(text("keywords"), "keywords", []),
    }


def _form_values(settings: dict[str, Any]) -> dict[str, Any]:
    hours = settings["working_hours"]
    return {
        "enabled": settings["enabled"],
        "language": settings["language"],
        "timezone": hours["timezone"],
        "week": {day: week_to_text(hours["week"].get(day, [])) for day in DAYS},
        "holidays": ", ".join(hours["holidays"]),
        "away_message": settings["away_message"] if isinstance(settings["away_message"], str) else "",
        "greeting": settings["greeting"] if isinstance(settings["greeting"], str) else "",
        "menu": json.dumps(settings["menu"], ensure_ascii=False, indent=2) if settings["menu"] else "",
        "keywords": json.dumps(settings["keywords"], ensure_ascii=False, indent=2) if settings["keywords"] else "",
    }


async def _editor(
    request: Request, user: User, values: dict[str, Any], *, error: WagateError | None = None, status: int = 200
) -> Response:
    ctx = context(
        request,
        user,
        values=values,
        days=DAYS,
        error=error.message if error else None,
        error_field=error.field if error else None,
        done=request.query_params.get("done"),
    )
    return render("automations.html", ctx, status=status)


@router.get(PAGE)
async def automations_page(request: Request, user: AdminUserDep) -> Response:
    settings = await _service(request).get(user.tenant)
    return await _editor(request, user, _form_values(settings))


@router.post(PAGE)
async def save_automations(request: Request, user: AdminUserDep) -> Response:
    form = await request.form()
    try:
        await _service(request).put(user.tenant, body_from_form(form))
    except WagateError as exc:
        if exc.code == "forbidden":
            raise
        values: dict[str, Any] = {
            k: str(form.get(k) or "") for k in ("language", "timezone", "holidays", "away_message")
        }
        values |= {k: str(form.get(k) or "") for k in ("greeting", "menu", "keywords")}
        values["enabled"] = form.get("enabled") == "on"
        values["week"] = {day: str(form.get(f"week_{day}") or "") for day in DAYS}
        return await _editor(request, user, values, error=exc, status=exc.status_code)
    return RedirectResponse(f"{PAGE}?done=1", status_code=303)


@router.post(PAGE + "/preview")
async def preview(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    """The bot's answer to the preview text with the form as it is now (saved or not)."""
    form = await request.form()
    replies: list[str] = []
    rules: list[str] = []
    error: str | None = None
    try:
        body = body_from_form(form)
        at_text = str(form.get("preview_at") or "")
        at = datetime.fromisoformat(at_text) if at_text else None
        if at is not None and at.tzinfo is None:  # a datetime-local field: the schedule's wall clock
            at = at.replace(tzinfo=ZoneInfo(str(body["working_hours"]["timezone"])))
        channel = await resolve_channel(rt, user.tenant, None)
        result = await _service(request).dry_run(
            user.tenant,
            text=str(form.get("preview_text") or ""),
            channel=channel,
            phone=None,
            at=at,
            settings_body=body,
        )
        replies, rules = list(result.reaction.replies), list(result.reaction.rules)
    except (WagateError, ValueError, ZoneInfoNotFoundError) as exc:
        error = exc.message if isinstance(exc, WagateError) else str(exc)
        if isinstance(exc, WagateError) and exc.field:
            error = f"{exc.field}: {error}"
    return render("_automation_preview.html", context(request, user, replies=replies, rules=rules, error=error))


# ---------------------------------------------------------------- callback requests


async def _callbacks(request: Request, rt: Runtime, user: User) -> Response:
    status = request.query_params.get("status") or None
    if status not in (None, "open", "taken", "done", "all"):
        status = None
    rows = await _service(request).list_callbacks(user.tenant, status=status, conversation_id=None, limit=200)
    return render("callbacks.html", context(request, user, rows=rows, status=status or "active"))


@router.get(CALLBACKS)
async def callbacks_page(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    return await _callbacks(request, rt, user)


@router.post(CALLBACKS + "/{callback_id}/{action}")
async def callback_action(callback_id: int, action: str, request: Request, user: UserDep) -> Response:
    """Take a request (it becomes yours), mark it done, or put it back."""
    status = {"take": "taken", "done": "done", "reopen": "open"}.get(action)
    if status is None:
        raise ValidationError("the action is take, done or reopen", field="action")
    await _service(request).set_callback(user.tenant, callback_id, status, user.login)
    return RedirectResponse(CALLBACKS, status_code=303)


# ---------------------------------------------------------------- the bot on a conversation page


async def _bot_panel(request: Request, user: User, conversation_id: int) -> Response:
    service = _service(request)
    mode = await service.mode_of(user.tenant, conversation_id)
    callbacks = await service.list_callbacks(user.tenant, status=None, conversation_id=conversation_id, limit=20)
    ctx = context(request, user, conversation_id=conversation_id, mode=mode, callbacks=callbacks)
    return render("_bot_panel.html", ctx)


@router.get("/dashboard/conversations/{conversation_id}/bot")
async def bot_panel(conversation_id: int, request: Request, user: UserDep) -> Response:
    """Whether the bot answers this client, their open callback requests, hand-back and stop."""
    if not is_htmx(request):  # opened directly: the whole conversation page
        return RedirectResponse(f"/dashboard/conversations/{conversation_id}", status_code=303)
    return await _bot_panel(request, user, conversation_id)


@router.post("/dashboard/conversations/{conversation_id}/bot")
async def set_bot(conversation_id: int, request: Request, user: UserDep) -> Response:
    form = await request.form()
    await _service(request).set_mode(user.tenant, conversation_id, form.get("active") == "true")
    return await _bot_panel(request, user, conversation_id)


# ---------------------------------------------------------------- recurring campaigns


@router.get("/dashboard/recurring")
async def recurring_page(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    """Recurring campaigns: each schedule, its next run, and its latest runs (started, skipped, failed)."""
    schedules = await recurring.list_schedules(rt, user.tenant)
    return render("recurring.html", context(request, user, schedules=schedules))
