"""The Devino-style door: ``POST /whatsapp/messages`` with ``Authorization: Key TOKEN`` (CONTRACT §5).

A batch of up to 1000 messages in the seed's request format, answered item by item as
``{"result": [{"code": "OK", "messageId"} | {"code": "REJECTED", "reasons", "description"}]}``
with HTTP 200. Only a request that cannot be read as a batch at all (no key, no ``messages``,
more than 1000, not JSON) is answered as a whole, with one ``REJECTED`` result and a 4xx.

``from`` names a wagate channel by its name or by its phone number (the channel setting
``phone`` or ``display_phone_number``). Status callbacks (``callbackUrl``/``callbackData``)
and incoming messages are delivered by the webhook sender in its ``devino`` format; this door
stores what it needs: ``origin="devino"`` and the callback fields on each message.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from wagate.api.compat import devino_dialect as d
from wagate.api.compat.routing import dialect_route, json_response, log_unexpected
from wagate.api.deps import authenticate
from wagate.domain.messages import OutboundDraft
from wagate.errors import AuthError, DatabaseUnavailable, WagateError
from wagate.runtime import Runtime
from wagate.services import messages as message_service
from wagate.services.messages import Accepted, Outcome
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.tenants import Principal

#: Channel settings that may hold the channel's own phone number, in the order they are tried.
PHONE_SETTINGS = ("phone", "display_phone_number", "phone_number")
_NOT_DIGITS = re.compile(r"\D")


class DevinoError(Exception):
    """The whole request is answered with one ``REJECTED`` result and ``status_code``."""

    def __init__(self, status_code: int, reason: d.Reason, text: str | None = None) -> None:
        super().__init__(reason.key)
        self.status_code = status_code
        self.reason = reason
        self.text = text


def _translate(request: Request, _path: str, exc: Exception) -> Response:
    """Any exception raised inside a Devino route → the dialect (never the native body, never a 500).

    A wagate error that escaped ``accept_messages`` concerns every item of the batch: each gets
    the same rejection, so the result still has one entry per message.
    """
    if isinstance(exc, DevinoError):
        return json_response({"result": [d.rejected([exc.reason], None, exc.text)]}, exc.status_code)
    count = getattr(request.state, "devino_items", 0)
    if isinstance(exc, DatabaseUnavailable):  # nothing was accepted: every item rejected, come back later
        unknown = d.Reason(d.UNKNOWN, None)
        results = [d.rejected([unknown], i) for i in range(count)] or [d.rejected([unknown], None)]
        response = json_response({"result": results}, 503)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    if isinstance(exc, AuthError):
        return json_response({"result": [d.rejection_for(exc, None)]}, 401)
    if isinstance(exc, WagateError):
        results = [d.rejection_for(exc, i) for i in range(count)] or [d.rejection_for(exc, None)]
        return json_response({"result": results}, 200 if count else 400)
    if isinstance(exc, RequestValidationError):
        return json_response({"result": [d.rejected([d.Reason(d.INVALID, "messages")], None)]}, 400)
    log_unexpected(exc, request)
    unknown = d.Reason(d.UNKNOWN, None)
    results = [d.rejected([unknown], i) for i in range(count)] or [d.rejected([unknown], None)]
    return json_response({"result": results}, 503)


router = APIRouter(tags=["compat: Devino-style /whatsapp"], route_class=dialect_route(_translate))


class DevinoMessageIn(BaseModel):
    """One message of the seed's request (documentation of the body; parsing is by hand)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="a wagate channel: its name or its phone number")
    to: str = Field(description="phone number in international format (without +)")
    text: str | None = None
    validity: int | None = Field(default=None, description="seconds")
    contentUrl: str | None = None
    contentName: str | None = None
    contentType: str | None = None
    callbackUrl: str | None = None
    callbackData: str | None = None
    templateId: str | None = None
    templateParams: dict[str, str] | None = Field(default=None, examples=[{"1": "value1", "2": "value2"}])
    languageCode: str | None = Field(default=None, description="default EN")


class DevinoBatchIn(BaseModel):
    messages: list[DevinoMessageIn] = Field(max_length=d.MAX_MESSAGES)


async def _principal(request: Request, rt: Runtime) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "key" or not token.strip():
        raise DevinoError(401, d.Reason(d.FORBIDDEN, None), "Отправка запрещена: нужен заголовок Authorization: Key.")
    try:
        return await authenticate(rt, token.strip())
    except AuthError as exc:
        raise DevinoError(401, d.Reason(d.FORBIDDEN, None), "Отправка запрещена: неверный ключ авторизации.") from exc


def _sender_index(channels: dict[str, ChannelRow]) -> dict[str, ChannelRow]:
    """The tenant's channels by the digits of their own phone number."""
    by_phone: dict[str, ChannelRow] = {}
    for row in sorted(channels.values(), key=lambda r: r.id):
        for key in PHONE_SETTINGS:
            digits = _NOT_DIGITS.sub("", str(row.settings.get(key) or ""))
            if digits:
                by_phone.setdefault(digits, row)
    return by_phone


async def _messages(request: Request) -> list[Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise DevinoError(400, d.Reason(d.INVALID, "messages")) from exc
    if not isinstance(body, dict):
        raise DevinoError(400, d.Reason(d.INVALID, "messages"))
    items = body.get("messages")
    if items is None or (isinstance(items, list) and not items):
        raise DevinoError(400, d.Reason(d.NOT_NULL, "messages"))
    if not isinstance(items, list):
        raise DevinoError(400, d.Reason(d.INVALID, "messages"))
    if len(items) > d.MAX_MESSAGES:
        raise DevinoError(400, d.Reason(d.TOO_MANY, "messages"))
    return items


@router.post(
    "/whatsapp/messages",
    summary="Send WhatsApp messages, Devino-style (Authorization: Key TOKEN)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": DevinoBatchIn.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
            "required": True,
        }
    },
)
async def send_messages(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    principal = await _principal(request, rt)
    tenant = principal.tenant
    items = await _messages(request)
    request.state.devino_items = len(items)

    channels = await rt.channels_of(tenant.id)
    by_phone = _sender_index(channels)
    drafts: list[OutboundDraft] = []
    refused: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(items):
        draft, reasons = d.parse_item(item, tenant.default_region)
        if draft is not None:
            sender = str(draft.channel)
            row = channels.get(sender) or by_phone.get(_NOT_DIGITS.sub("", sender))
            if row is None and sender not in channels:
                row = (await rt.channels_of(tenant.id, fresh=True)).get(sender)
            if row is None:
                reasons = [d.Reason(d.NOT_AVAILABLE, "from")]
            else:
                draft.channel = row.name
        if reasons or draft is None:
            refused[index] = d.rejected(reasons, index)
            drafts.append(OutboundDraft(to=None))  # a placeholder: its own outcome is replaced below
        else:
            drafts.append(draft)

    def render(outcomes: list[Outcome]) -> tuple[int, Any]:
        results: list[dict[str, Any]] = []
        for index, outcome in enumerate(outcomes):
            if index in refused:
                results.append(refused[index])
            elif isinstance(outcome, Accepted):
                results.append(d.accepted(outcome.id))
            else:
                results.append(d.rejection_for(outcome, index))
        return 200, {"result": results}

    status_code, body = await message_service.accept_messages(rt, tenant, drafts, render=render)
    return json_response(body, status_code)


@router.api_route("/whatsapp/messages", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def wrong_method() -> Response:
    """Only POST sends; other methods are answered in the dialect, 405."""
    raise DevinoError(405, d.Reason(d.UNKNOWN, None), "Метод не поддерживается: используйте POST.")
