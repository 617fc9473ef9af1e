"""The conversation view: thread with ticks, media, contact card and consent, reply box, assignment, notes.

A reply goes through ``services.conversations.reply`` → ``services.messages.accept_messages``
with ``origin="dashboard"`` and the user's login as ``operator``: the policy layer judges it
exactly as it judges the API's messages. The reply box offers free text while the client's
24-hour window is open (or the channel does not enforce it) and approved templates always;
with the window closed on an enforcing channel it offers templates only.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Connection

from wagate.api import browser_safety
from wagate.api.deps import RuntimeDep
from wagate.dashboard.auth import UserDep
from wagate.dashboard.render import DashboardRoute, context, flash, is_htmx, render
from wagate.domain.policy import ChannelPolicy
from wagate.domain.records import User
from wagate.domain.templates import PLACEHOLDER_RE
from wagate.domain.waits import Wait
from wagate.domain.window import window_at
from wagate.errors import ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import conversations as service
from wagate.services import media as media_service
from wagate.store.repos import consents as consent_repo
from wagate.store.repos import contacts as contact_repo
from wagate.store.repos import conversations as conversation_repo
from wagate.store.repos import messages as message_repo
from wagate.store.repos import policy as policy_repo
from wagate.store.repos import templates as template_repo
from wagate.store.repos import users as user_repo
from wagate.store.repos.claims import message_wait

log = logging.getLogger("wagate.dashboard")

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

#: How a status is drawn in the thread (the text is localised; ``data-status`` carries the value).
TICKS = {
    "queued": "🕓",
    "sending": "🕓",
    "sent": "✓",
    "delivered": "✓✓",
    "read": "✓✓",
    "failed": "!",
    "expired": "!",
    "cancelled": "×",
    "unknown": "?",
}


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    key: str
    name: str
    language: str
    body: str
    params: int


@dataclass(frozen=True, slots=True)
class ThreadItem:
    row: Any
    text: str | None
    media_kind: str | None
    media_src: str | None
    media_name: str | None
    tick: str
    media_size: int | None = None
    location: Location | None = None
    cards: tuple[ContactCard, ...] = ()


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str
    address: str

    @property
    def map_url(self) -> str:
        lat, lon = f"{self.latitude:.6f}", f"{self.longitude:.6f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"


@dataclass(frozen=True, slots=True)
class ContactCard:
    name: str
    phones: tuple[str, ...]


def _location(value: Any) -> Location | None:
    """A shared location, only with real coordinates (the link is built from numbers, never from text)."""
    if not isinstance(value, dict):
        return None
    try:
        lat, lon = float(value["latitude"]), float(value["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Location(lat, lon, str(value.get("name") or ""), str(value.get("address") or ""))


def _cards(value: Any) -> tuple[ContactCard, ...]:
    cards = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        shown = name.get("formatted_name") if isinstance(name, dict) else name
        phones = tuple(
            str(ph.get("phone") or ph.get("wa_id") or "")
            for ph in item.get("phones") or []
            if isinstance(ph, dict) and (ph.get("phone") or ph.get("wa_id"))
        )
        cards.append(ContactCard(str(shown or ""), phones))
    return tuple(cards)


def _param_count(body: str) -> int:
    return max((int(n) for n in PLACEHOLDER_RE.findall(body)), default=0)


def preview_kind(message_type: str, mime_type: str) -> str:
    """How the thread shows a stored file: in place only for passive types, else as a download link.

    An SVG "image" or an HTML "document" is never embedded or opened on the dashboard's origin.
    """
    if message_type in ("image", "sticker") and browser_safety.is_raster_image(mime_type):
        return "image"
    if message_type in ("audio", "voice") and mime_type in browser_safety.AUDIO_TYPES:
        return "audio"
    if message_type == "video" and mime_type in browser_safety.VIDEO_TYPES:
        return "video"
    return "document"


def thread_items(rt: Runtime, rows: list[Any]) -> list[ThreadItem]:
    items = []
    for row in rows:
        payload = row.payload or {}
        media = payload.get("media") if isinstance(payload.get("media"), dict) else None
        src = name = kind = None
        size: int | None = None
        if media is not None:
            url = str(media.get("url") or "")
            local = media_service.local_name_for_url(rt.settings, url)
            if local:
                src = f"/dashboard/media/{local}"
                kind = preview_kind(row.type, media_service.mime_for_name(local))
                path = media_service.path_of(rt.settings, row.tenant_id, local)
                size = path.stat().st_size if path is not None else None
            else:
                # Not ours: a link only, and only to a web address (never javascript:, data: …).
                src = url if url.lower().startswith(("https://", "http://")) else None
                kind = "document"
            # The file's own name; the caption is the message's text and is shown once, below.
            name = media.get("filename") or local or url.rsplit("/", 1)[-1].split("?", 1)[0] or row.type
        text = payload.get("text")
        if not isinstance(text, str):
            text = None
        if media is not None and media.get("caption"):
            text = media["caption"]
        items.append(
            ThreadItem(
                row,
                text,
                kind,
                src,
                name,
                TICKS.get(row.status, ""),
                size,
                _location(payload.get("location")),
                _cards(payload.get("contacts")),
            )
        )
    return items


async def _load(rt: Runtime, user: User, conversation_id: int) -> dict[str, Any]:
    row = await service.get_conversation(rt, user.tenant, conversation_id)
    tenant_id = user.tenant.id
    channels = await rt.channels_of(tenant_id)
    channel = channels.get(row.channel_name) or (await rt.channels_of(tenant_id, fresh=True)).get(row.channel_name)
    now = rt.clock.now()

    def job(conn: Connection) -> dict[str, Any]:
        last_inbound = policy_repo.last_inbound_one(conn, tenant_id, row.channel_id, row.phone)
        # A cloud channel sends only the templates Meta approved on it; other channels take tenant-wide ones too.
        usable = (row.channel_name,) if channel is not None and channel.kind == "cloud" else ("", row.channel_name)
        templates = [
            t
            for t in template_repo.list_templates(conn, tenant_id, status="approved", limit=500)
            if t.channel in usable
        ]
        return {
            "contact": contact_repo.get_contact(conn, tenant_id, row.phone),
            "consent": consent_repo.get_consent(conn, tenant_id, row.phone),
            "last_inbound": last_inbound,
            "templates": templates,
            "users": user_repo.list_users(conn, tenant_id),
            "notes": conversation_repo.list_notes(conn, row.id),
            "names": user_repo.names_by_login(conn, tenant_id),
        }

    data = await rt.db.read(job)
    window = window_at(data["last_inbound"], now)
    enforced = ChannelPolicy.of(channel.policy).service_window if channel else True
    seen: dict[tuple[str, str], Any] = {}
    for t in sorted(data["templates"], key=lambda t: t.channel != row.channel_name):
        seen.setdefault((t.name, t.language), t)
    choices = [
        TemplateChoice(f"{t.name}|{t.language}", t.name, t.language, t.body, _param_count(t.body))
        for t in sorted(seen.values(), key=lambda t: (t.name, t.language))
    ]
    return {
        "conversation": row,
        "window": window,
        "window_enforced": enforced,
        "free_text": window.open or not enforced,
        "template_choices": choices,
        **data,
    }


async def _thread_context(request: Request, rt: Runtime, user: User, conversation_id: int) -> dict[str, Any]:
    row = await service.get_conversation(rt, user.tenant, conversation_id)
    rows = await service.thread(rt, user.tenant, row)
    names = await rt.db.read(lambda c: user_repo.names_by_login(c, user.tenant.id))
    return context(
        request, user, conversation=row, items=thread_items(rt, rows), names=names, waits=await _waits(rt, rows)
    )


async def _waits(rt: Runtime, rows: list[Any]) -> dict[int, Wait]:
    """Why each queued outbound message of the thread waits (the pacing rule and until when)."""
    queued = [r for r in rows if r.direction == "out" and r.status == "queued" and r.channel_id is not None]
    if not queued:
        return {}
    now = rt.clock.now()

    def job(conn: Connection) -> dict[int, Wait]:
        found = {r.id: message_wait(conn, r, now) for r in queued}
        return {key: wait for key, wait in found.items() if wait is not None}

    return await rt.db.read(job)


@router.get("/dashboard/conversations/{conversation_id}")
async def conversation_page(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    data = await _load(rt, user, conversation_id)
    thread = await _thread_context(request, rt, user, conversation_id)
    if data["conversation"].unread:
        await service.mark_read(rt, user.tenant, conversation_id)
    return render("conversation.html", {**thread, **data, "conversation": data["conversation"]})


@router.post("/dashboard/conversations/{conversation_id}/typing")
async def typing(conversation_id: int, rt: RuntimeDep, user: UserDep) -> Response:
    """The operator is typing: the customer sees "typing…" where the channel can show it (cloud).

    Best effort and throttled by the page (htmx ``throttle:20s``; Meta shows it for 25 s): a
    channel that cannot, or a provider that refuses, changes nothing for the operator."""
    row = await service.get_conversation(rt, user.tenant, conversation_id)
    tenant_id = user.tenant.id
    provider_id = await rt.db.read(
        lambda c: message_repo.last_inbound_provider_id(c, tenant_id, row.channel_id, row.phone)
    )
    channel = (await rt.channels_of(tenant_id)).get(row.channel_name)
    shown = False
    if provider_id and channel is not None and rt.registry.knows(channel.kind):
        mark = getattr(await rt.channel_instance(channel), "mark_read", None)
        if mark is not None and "typing" in inspect.signature(mark).parameters:
            try:
                await mark(provider_id, typing=True)
                shown = True
            except WagateError as exc:
                log.info("typing indicator not shown: %s", exc.message, extra={"channel": channel.name})
    return Response(status_code=204, headers={"X-Typing-Shown": "1" if shown else "0"})


@router.get("/dashboard/conversations/{conversation_id}/thread")
async def thread_part(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    if not is_htmx(request):  # opened directly: the whole conversation page
        return RedirectResponse(f"/dashboard/conversations/{conversation_id}", status_code=303)
    ctx = await _thread_context(request, rt, user, conversation_id)
    if ctx["conversation"].unread:  # the operator is looking at it: what arrived is read
        await service.mark_read(rt, user.tenant, conversation_id)
        return render("_thread.html", ctx, headers=_refresh("inbox"))  # the list drops its badge
    return render("_thread.html", ctx)


@router.get("/dashboard/conversations/{conversation_id}/side")
async def side_part(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    if not is_htmx(request):  # opened directly: the whole conversation page
        return RedirectResponse(f"/dashboard/conversations/{conversation_id}", status_code=303)
    data = await _load(rt, user, conversation_id)
    return render("_side.html", context(request, user, **data))


@router.get("/dashboard/conversations/{conversation_id}/reply")
async def reply_part(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    if not is_htmx(request):  # opened directly: the whole conversation page
        return RedirectResponse(f"/dashboard/conversations/{conversation_id}", status_code=303)
    data = await _load(rt, user, conversation_id)
    return render("_reply.html", context(request, user, **data))


def _draft(form: Any) -> dict[str, Any]:
    choice = str(form.get("template") or "")
    if choice:
        name, _, language = choice.partition("|")
        params = [str(p) for p in form.getlist("param")]
        return {"template": {"name": name, "language": language, "params": params}}
    text = str(form.get("text") or "")
    if not text.strip():
        raise ValidationError("type a message first", field="text", code="required")
    return {"text": text}


def _refresh(*topics: str) -> dict[str, str]:
    """Ask the page to reload the parts that show ``topics`` (the same path SSE news takes)."""
    return {"HX-Trigger": orjson.dumps({"wagate:refresh": {"topics": list(topics)}}).decode()}


@router.post("/dashboard/conversations/{conversation_id}/reply")
async def reply(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    accepted = await service.reply(rt, user, conversation_id, _draft(form))
    data = await _load(rt, user, conversation_id)
    ctx = context(request, user, **data, warnings=[w.message for w in accepted.warnings])
    row = data["conversation"]
    return render(
        "_reply.html",
        ctx,
        headers=_refresh(f"thread:{row.channel_name}:{row.phone}", f"conversation:{row.id}", "inbox"),
    )


@router.post("/dashboard/conversations/{conversation_id}/assign")
async def assign(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    login = str(form.get("assignee") or "") or None
    await service.assign(rt, user.tenant, conversation_id, login)
    data = await _load(rt, user, conversation_id)
    return render("_side.html", context(request, user, **data), headers=_refresh("inbox"))


@router.post("/dashboard/conversations/{conversation_id}/close")
async def close(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    await service.set_closed(rt, user.tenant, conversation_id, True)
    data = await _load(rt, user, conversation_id)
    return render("_side.html", context(request, user, **data), headers=_refresh("inbox"))


@router.post("/dashboard/conversations/{conversation_id}/reopen")
async def reopen(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    await service.set_closed(rt, user.tenant, conversation_id, False)
    data = await _load(rt, user, conversation_id)
    return render("_side.html", context(request, user, **data), headers=_refresh("inbox"))


@router.post("/dashboard/conversations/{conversation_id}/notes")
async def add_note(conversation_id: int, request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    try:
        await service.add_note(rt, user.tenant, conversation_id, form.get("text"), author=user.login, author_id=user.id)
    except ValidationError as exc:
        return flash(request, exc.message, error=True, user=user)
    data = await _load(rt, user, conversation_id)
    return render("_side.html", context(request, user, **data))
