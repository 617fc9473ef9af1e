"""The WAMM-style door: ``GET /api2/{method}/{token}/?…`` (CONTRACT §5, seed "Отправка сообщений").

Eight methods with the seed's parameters, success JSON and error strings. The token in the
path is an API token of the tenant, looked up by hash like a Bearer token; it never reaches a
log line (the formatter redacts ``/api2/<method>/<token>``) or a metrics label (labels are
route templates). Every answer is HTTP 200 with ``{"err": 0, …}`` or ``{"err": "…"}`` — a CRM
written for the hosted service reads ``err``, and many (PHP's ``file_get_contents``) treat a
4xx as a transport failure; wagate's own name for a failure is in the ``X-Wagate-Error``
header. Only paths that are no method at all answer 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.engine import Connection

from wagate.api.compat import wamm_dialect as d
from wagate.api.compat.media import file_name, guess_mime, media_class
from wagate.api.compat.routing import dialect_route, json_response, log_unexpected
from wagate.api.deps import authenticate
from wagate.domain.contacts import validate_contact
from wagate.domain.messages import OutboundDraft, is_http_url
from wagate.domain.phones import normalize_phone
from wagate.domain.policy import tenant_timezone
from wagate.errors import AuthError, DatabaseUnavailable, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import messages as message_service
from wagate.services.phones import PhoneCheckFailed, whatsapp_presence
from wagate.store.repos import contacts as contact_repo
from wagate.store.repos import messages as message_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.tenants import Tenant

ERROR_HEADER = "X-Wagate-Error"
_MSG_ID = re.compile(r"^[0-9]{1,18}$")
_COL = re.compile(r"^[0-9]{1,3}$")


def _translate(request: Request, path: str, exc: Exception) -> Response:
    """Any exception raised inside a WAMM route → ``{"err": "…"}`` (never the native body, never a 500)."""
    status = 200
    if isinstance(exc, d.WammError):
        err, code, status = exc.err, exc.code, exc.status_code
    elif isinstance(exc, WagateError):
        err, code = d.wamm_error_for(exc), exc.code
    elif isinstance(exc, RequestValidationError):
        err, code = d.FAIL_EXECUTION, "invalid_request"
    else:
        log_unexpected(exc, request)
        err, code = d.FAIL_EXECUTION, "internal"
    if isinstance(exc, DatabaseUnavailable):  # nothing was done: the seed's generic failure, come back later
        err, code, status = d.FAIL_EXECUTION, exc.code, 503
    body: dict[str, Any] = {"err": err}
    if path.startswith("/api2/check_phone/"):
        body["result"] = "error"  # the seed's error shape for this method
    response = json_response(body, status)
    if isinstance(exc, DatabaseUnavailable):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    if code:
        response.headers[ERROR_HEADER] = code
    return response


router = APIRouter(prefix="/api2", tags=["compat: WAMM-style /api2"], route_class=dialect_route(_translate))


class _NoSuchMethod(d.WammError):
    status_code = 404


@dataclass(frozen=True, slots=True)
class Session:
    """A caller whose token is valid and whose WhatsApp connection (default channel) is usable."""

    rt: Runtime
    tenant: Tenant
    channel: ChannelRow

    @property
    def zone(self) -> tzinfo:
        return d.resolve_timezone(tenant_timezone(self.tenant.settings) or self.rt.settings.compat_timezone)


async def channel_authorized(rt: Runtime, channel: ChannelRow) -> str | None:
    """Why the channel cannot deliver now (wagate's code), or ``None`` when it can.

    ``acc not authorized`` in wagate: the channel is paused, or its kind does not run on this
    node, or the channel itself says it is not connected — a channel kind may expose
    ``async def connected(self) -> bool`` (a device channel with no device online, a web
    session logged out); kinds without it count as connected while active.
    """
    if channel.status != "active":
        return "channel_paused"
    if not rt.registry.knows(channel.kind):
        return "channel_kind_not_running"
    instance = await rt.channel_instance(channel)
    connected: Callable[[], Any] | None = getattr(instance, "connected", None)
    if connected is not None and not await connected():
        return "channel_not_connected"
    return None


async def _session(request: Request, token: str) -> Session:
    rt: Runtime = request.app.state.runtime
    try:
        principal = await authenticate(rt, token)
    except AuthError as exc:
        raise d.WammError(d.TOKEN_FAIL, "invalid_token") from exc
    tenant = principal.tenant
    try:
        channel = await message_service.resolve_channel(rt, tenant, None)
    except ValidationError as exc:
        raise d.WammError(d.ACC_NOT_AUTHORIZED, exc.code) from exc
    reason = await channel_authorized(rt, channel)
    if reason is not None:
        raise d.WammError(d.ACC_NOT_AUTHORIZED, reason)
    return Session(rt, tenant, channel)


def _phone(session: Session, raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise d.WammError(d.PHONE_FAIL, "required")
    try:
        return normalize_phone(raw, session.tenant.default_region, "phone")
    except ValidationError as exc:
        raise d.WammError(d.PHONE_FAIL, exc.code) from exc


def _text(raw: str | None) -> str:
    """Emoji codes substituted first; the 1500-character limit applies to the text as sent."""
    if raw is None or not raw.strip():
        raise d.WammError(d.TEXT_FAIL, "required")
    text = d.substitute_emoji(raw)
    if len(text) > d.MAX_TEXT:
        raise d.WammError(d.TEXT_TOO_LONG, "too_long")
    return text


def _col(raw: str | None) -> int:
    value = (raw or "").strip()
    if not _COL.match(value) or not 1 <= int(value) <= d.MAX_COL:
        raise d.WammError(d.COL_FAIL, "invalid_col")
    return int(value)


async def _require_whatsapp(session: Session, phone: str) -> None:
    try:
        presence = await whatsapp_presence(session.rt, session.tenant, phone, session.channel)
    except PhoneCheckFailed as exc:
        raise d.WammError(d.PHONE_NOT_CHECKED, exc.code) from exc
    if presence == "none":
        raise d.WammError(d.NO_WHATSAPP, "not_on_whatsapp")


async def _send(session: Session, draft: OutboundDraft) -> Response:
    """Through the shared service (policy, one durable transaction), answered in the dialect."""
    _status, outcome = await message_service.accept_messages(
        session.rt, session.tenant, [draft], render=lambda outcomes: (200, outcomes[0])
    )
    if isinstance(outcome, WagateError):
        raise outcome
    return json_response({"err": 0, "msg_id": outcome.id})


async def _records(session: Session, *, phone: str | None, direction: str | None, limit: int) -> Response:
    tenant_id = session.tenant.id

    def job(conn: Connection) -> tuple[list[Any], dict[str, str]]:
        rows = message_repo.list_messages(conn, tenant_id, phone=phone, direction=direction, limit=limit)
        return rows, contact_repo.contact_names(conn, tenant_id, [r.phone for r in rows])

    rows, names = await session.rt.db.read(job)
    if not rows:
        raise d.WammError(d.MSGS_NOT_BE, "no_messages")
    zone = session.zone
    return json_response({"err": 0, "msg_data": [d.message_record(r, names.get(r.phone), zone) for r in rows]})


def _method(name: str, summary: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a method at ``/api2/NAME/{token}/`` and, hidden, without the trailing slash."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(f"/{name}/{{token}}/", endpoint, methods=["GET"], summary=summary)
        router.add_api_route(f"/{name}/{{token}}", endpoint, methods=["GET"], include_in_schema=False)
        return endpoint

    return register


@_method("msg_to", "Send a text: {err: 0, msg_id}")
async def msg_to(request: Request, token: str, phone: str | None = None, text: str | None = None) -> Response:
    session = await _session(request, token)
    number = _phone(session, phone)
    body = _text(text)
    await _require_whatsapp(session, number)
    draft = OutboundDraft(to=number, type="text", text=body, channel=session.channel.name, origin="wamm")
    return await _send(session, draft)


@_method("file_to", "Send a file by its public URL: {err: 0, msg_id}")
async def file_to(request: Request, token: str, phone: str | None = None, url: str | None = None) -> Response:
    session = await _session(request, token)
    number = _phone(session, phone)
    link = (url or "").strip()
    if not is_http_url(link):
        raise d.WammError(d.URL_FAIL, "invalid_url")
    await _require_whatsapp(session, number)
    mime = guess_mime(link)
    media: dict[str, Any] = {"url": link, "filename": file_name(link)}
    if mime:
        media["mime_type"] = mime
    draft = OutboundDraft(
        to=number, type=media_class(mime).value, media=media, channel=session.channel.name, origin="wamm"
    )
    return await _send(session, draft)


@_method("msg_state", "A message's state: sending, sent, delivered, viewed, failed, received")
async def msg_state(request: Request, token: str, msg_id: str | None = None) -> Response:
    session = await _session(request, token)
    value = (msg_id or "").strip()
    if not _MSG_ID.match(value) or int(value) == 0:
        raise d.WammError(d.MSG_ID_FAIL, "invalid_msg_id")
    tenant_id, wanted = session.tenant.id, int(value)
    row = await session.rt.db.read(lambda c: message_repo.get_message(c, tenant_id, wanted))
    if row is None:
        raise d.WammError(d.MSG_NOT_BE, "not_found")
    return json_response(
        {"err": 0, "msg_data": {"msg_id": str(row.id), "phone": row.phone, "state": d.wamm_state(row.status)}}
    )


@_method("check_phone", "Whether a number is on WhatsApp: exists or none")
async def check_phone(request: Request, token: str, phone: str | None = None) -> Response:
    session = await _session(request, token)
    if phone is None or not phone.strip():
        raise d.WammError(d.FAIL_EXECUTION, "required")
    try:
        number = normalize_phone(phone, session.tenant.default_region, "phone")
    except ValidationError:
        return json_response({"err": 0, "result": "none"})  # not a phone number: certainly no WhatsApp
    try:
        presence = await whatsapp_presence(session.rt, session.tenant, number, session.channel)
    except PhoneCheckFailed as exc:
        raise d.WammError(d.FAIL_EXECUTION, exc.code) from exc
    if presence == "unknown":
        raise d.WammError(d.FAIL_EXECUTION, "phone_check_unknown")
    return json_response({"err": 0, "result": presence})


@_method("msg_get_last", "The last 1-100 messages, in and out (from_me=1 out, 0 in)")
async def msg_get_last(request: Request, token: str, col: str | None = None, from_me: str | None = None) -> Response:
    session = await _session(request, token)
    limit = _col(col)
    direction = {"1": "out", "0": "in"}.get((from_me or "").strip())
    return await _records(session, phone=None, direction=direction, limit=limit)


@_method("msg_get", "The last 1-100 messages with one phone number")
async def msg_get(request: Request, token: str, phone: str | None = None, col: str | None = None) -> Response:
    session = await _session(request, token)
    number = _phone(session, phone)
    limit = _col(col)
    return await _records(session, phone=number, direction=None, limit=limit)


@_method("contact_to", "Add a contact, or update its name (info, email, web optional)")
async def contact_to(
    request: Request,
    token: str,
    phone: str | None = None,
    name: str | None = None,
    info: str | None = None,
    email: str | None = None,
    web: str | None = None,
) -> Response:
    session = await _session(request, token)
    number = _phone(session, phone)
    if name is None or not name.strip():
        raise d.WammError(d.NAME_FAIL, "required")
    fields = validate_contact({"name": name, "info": info, "email": email, "web": web})
    await _require_whatsapp(session, number)
    now, tenant_id = session.rt.clock.now(), session.tenant.id
    _row, created = await session.rt.db.write(
        lambda c: contact_repo.upsert_contact(c, tenant_id, number, fields, now, partial=True)
    )
    return json_response({"err": 0, "result": "insert" if created else "update"})


@_method("contact_delete", "Delete a contact (the phone's own address book is untouched)")
async def contact_delete(request: Request, token: str, phone: str | None = None) -> Response:
    session = await _session(request, token)
    number = _phone(session, phone)
    tenant_id = session.tenant.id
    if not await session.rt.db.write(lambda c: contact_repo.delete_contact(c, tenant_id, number)):
        raise d.WammError(d.PHONE_NOT_FOUND, "not_found")
    return json_response({"err": 0, "result": "delete"})


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], include_in_schema=False
)
async def no_such_method(rest: str) -> Response:
    """Anything under /api2 that is not one of the eight methods: 404, still in the dialect."""
    raise _NoSuchMethod(d.FAIL_EXECUTION, "unknown_method")
