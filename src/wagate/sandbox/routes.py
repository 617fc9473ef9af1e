"""HTTP faces of the simulator: the Graph API routes and the ``/sandbox`` control routes.

Graph routes answer exactly like Meta (bodies, codes, the Graph error format); the control
routes are wagate's own (native error format) and let a developer or a test act as the
customer (``/sandbox/inject``), watch what the simulated number received, and tune it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from wagate.api import browser_safety
from wagate.api.openapi import json_body
from wagate.errors import NotFoundError, ValidationError
from wagate.sandbox.config import UNDELIVERABLE_MODES, parse_delays
from wagate.sandbox.errors import GraphApiError, unknown_path, unsupported
from wagate.sandbox.simulator import Simulator
from wagate.sandbox.templates import SimTemplate

VERSION_RE = re.compile(r"^v\d{1,3}(\.\d{1,2})?$")
TEMPLATE_STATUSES = (
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "FLAGGED",
    "REINSTATED",
)
TEMPLATE_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
TEMPLATE_QUALITIES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
MESSAGING_TIERS = ("TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")


async def _graph(request: Request, sim: Simulator, version: str | None, work: Callable[[], Awaitable[Any]]) -> Response:
    """Authorize, run, and answer in the Graph format (errors included)."""
    try:
        sim.authorize(request.headers.get("authorization"))
        if version is not None and not VERSION_RE.match(version):
            raise GraphApiError(100, f"Unknown path components: /{version}")
        result = await work()
    except GraphApiError as exc:
        return JSONResponse(exc.body(), status_code=exc.http_status)
    if isinstance(result, Response):
        return result
    return JSONResponse(result)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise GraphApiError(100, "The request body is not valid JSON.") from exc


class EchoIn(BaseModel):
    """A message a manager types in the WhatsApp Business app on the phone (coexistence)."""

    to: str = Field(description="The customer's phone", examples=["79001234567"])
    text: str = Field(description="What the manager typed")


class UserIdChangeIn(BaseModel):
    """A customer whose business-scoped user id (BSUID) changes."""

    from_: str | None = Field(default=None, alias="from", description="The customer's phone")
    user_id: str | None = Field(default=None, description="The customer's current BSUID")
    via: Literal["system", "user_id_update"] = Field(
        default="system", description="A `user_changed_user_id` system message, or a `user_id_update` event"
    )


class InjectIn(BaseModel):
    """A customer's message, as the simulated WhatsApp user sends it (one content field)."""

    model_config = ConfigDict(extra="allow")

    from_: str | None = Field(default=None, alias="from", description="The customer's phone", examples=["79001234567"])
    user_id: str | None = Field(default=None, description="The customer's BSUID, for a user who hides the phone")
    username: str | None = Field(default=None, description="The customer's WhatsApp username")
    name: str | None = Field(default=None, description="The customer's profile name")
    text: str | None = None
    media: dict[str, Any] | None = Field(default=None, description='`{"type": "image", "caption": …}`')
    location: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] | None = None
    context: dict[str, Any] | None = Field(default=None, description="The message this one replies to")
    button: dict[str, Any] | None = None
    interactive: dict[str, Any] | None = None
    reaction: dict[str, Any] | None = None


def graph_router(sim: Simulator) -> APIRouter:
    """Meta's Graph API as the Cloud API uses it, for one simulated number and WABA."""
    router = APIRouter(tags=["sandbox: Graph API"])

    @router.get("/attachments/{media_id}", summary="Download media (bearer token required, as at Meta)")
    async def attachment(media_id: str, request: Request) -> Response:
        async def work() -> Response:
            media = sim.attachment(media_id)
            return browser_safety.bytes_response(media.content, media.mime_type, media_id)

        return await _graph(request, sim, None, work)

    @router.post("/{version}/{node}/messages", summary="Send a message, or mark one read")
    async def messages(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return await sim.post_messages(node, await _json_body(request))

        return await _graph(request, sim, version, work)

    @router.post("/{version}/{node}/media", summary="Upload media (multipart: file, type, messaging_product)")
    async def upload(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            try:
                form = await request.form()
            except Exception as exc:  # the multipart parser's own errors
                raise GraphApiError(100, f"The upload is not valid multipart form data: {exc}") from exc
            try:
                if form.get("messaging_product") != "whatsapp":
                    raise GraphApiError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
                file = form.get("file")
                if not isinstance(file, UploadFile):
                    raise GraphApiError(131008, "The parameter file is required.")
                content = await file.read()
                mime = str(form.get("type") or file.content_type or "application/octet-stream")
                return sim.upload_media(node, content, mime, file.filename)
            finally:
                await form.close()

        return await _graph(request, sim, version, work)

    @router.post("/{version}/{node}/contacts", summary="Contact check (the On-Premises API's; a sandbox extra)")
    async def contacts(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.check_contacts(node, await _json_body(request))

        return await _graph(request, sim, version, work)

    @router.get("/{version}/{node}/message_templates", summary="The WABA's message templates")
    async def templates(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            try:
                limit = max(1, min(1000, int(request.query_params.get("limit", "25"))))
            except ValueError as exc:
                raise GraphApiError(100, "limit must be a number.") from exc
            params = request.query_params
            filters = {k: params[k] for k in ("name", "status", "category", "language") if params.get(k)}
            return sim.list_templates(node, limit, params.get("after"), filters, version)

        return await _graph(request, sim, version, work)

    @router.post("/{version}/{node}/message_templates", summary="Submit a template for review")
    async def create_template(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.create_template(node, await _json_body(request))

        return await _graph(request, sim, version, work)

    @router.get("/{version}/{node}/whatsapp_business_profile", summary="The number's business profile")
    async def get_profile(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.get_profile(node, request.query_params.get("fields"))

        return await _graph(request, sim, version, work)

    @router.post("/{version}/{node}/whatsapp_business_profile", summary="Update the business profile")
    async def update_profile(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.update_profile(node, await _json_body(request))

        return await _graph(request, sim, version, work)

    @router.get("/{version}/{node}/phone_numbers", summary="The WABA's phone numbers")
    async def phone_numbers(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.phone_numbers(node)

        return await _graph(request, sim, version, work)

    @router.get("/{version}/{node}/block_users", summary="Blocked users")
    async def blocked(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.blocked_users(node)

        return await _graph(request, sim, version, work)

    @router.post("/{version}/{node}/block_users", summary="Block users")
    async def block(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.block_users(node, await _json_body(request), block=True)

        return await _graph(request, sim, version, work)

    @router.delete("/{version}/{node}/block_users", summary="Unblock users")
    async def unblock(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.block_users(node, await _json_body(request), block=False)

        return await _graph(request, sim, version, work)

    @router.get("/{version}/{node}", summary="A media object (download URL), the phone number or the WABA")
    async def describe(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.describe_node(node)

        return await _graph(request, sim, version, work)

    @router.delete("/{version}/{node}", summary="Delete uploaded media")
    async def delete(version: str, node: str, request: Request) -> Response:
        async def work() -> Any:
            return sim.delete_media(node)

        return await _graph(request, sim, version, work)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown(path: str, request: Request) -> Response:
        """Anything else answers as Graph does: an unknown edge (2500), or an object that does not
        support the method (100, subcode 33) — never the gateway's own 404."""

        async def work() -> Any:
            parts = [p for p in path.split("/") if p]
            if len(parts) == 2 and VERSION_RE.match(parts[0]):
                raise unsupported(request.method, parts[1])
            raise unknown_path("/".join(parts[1:] if parts and VERSION_RE.match(parts[0]) else parts))

        return await _graph(request, sim, None, work)

    return router


async def _object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise ValidationError("the body is not valid JSON", field="body", code="malformed_json") from exc
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    return body


def _config_json(sim: Simulator) -> dict[str, Any]:
    data = asdict(sim.config)
    for secret in ("app_secret", "verify_token", "access_token"):
        data[secret] = "***"
    data["status_delays"] = list(sim.config.status_delays)
    return data


def control_router(sim: Simulator, *, identity_changes: bool, dependencies: Sequence[Any] = ()) -> APIRouter:
    """``/sandbox/…``: act as the customer, inspect, tune. ``identity_changes`` lets PATCH change the
    webhook URL and app secret (``wagate sim`` only: in-process the gateway owns them).
    ``dependencies`` guard every control (the gateway asks for a token when it listens beyond loopback)."""
    router = APIRouter(prefix="/sandbox", tags=["sandbox"], dependencies=list(dependencies))

    @router.post(
        "/echo",
        summary='A manager types in the WhatsApp Business app (coexistence): {"to", "text"}',
        openapi_extra=json_body(EchoIn, "What the manager typed, and to whom"),
    )
    async def echo(request: Request) -> dict[str, Any]:
        body = await _object(request)
        try:
            wamid, webhook = sim.echo_message(body)
        except ValueError as exc:
            name = str(exc)
            raise ValidationError(f"{name} is missing or invalid", field=name) from exc
        delivery = await sim.webhooks.deliver(webhook, "echo")
        return {
            "messages": [{"id": wamid}],
            "webhook": {"delivered": delivery.delivered, "status_code": delivery.status_code, "error": delivery.error},
        }

    @router.post(
        "/user-id-change",
        summary='A user\'s business-scoped id changes: {"from" | "user_id", "via": "system" | "user_id_update"}',
        openapi_extra=json_body(UserIdChangeIn, "Whose id changes, and how WhatsApp says so"),
    )
    async def user_id_change(request: Request) -> dict[str, Any]:
        body = await _object(request)
        try:
            webhook, previous, current = sim.user_id_change(body)
        except ValueError as exc:
            name = str(exc)
            raise ValidationError(f"{name} is missing or invalid", field=name) from exc
        delivery = await sim.webhooks.deliver(webhook, "user_id_change")
        return {
            "previous_user_id": previous,
            "user_id": current,
            "webhook": {"delivered": delivery.delivered, "status_code": delivery.status_code, "error": delivery.error},
        }

    @router.post(
        "/inject",
        summary='A customer writes in: {"from", "text"}, or {"user_id", "username", "text"} for a hidden phone',
        openapi_extra=json_body(InjectIn, "The customer's message"),
    )
    async def inject(request: Request) -> dict[str, Any]:
        body = await _object(request)
        try:
            wamid, webhook, _phone = sim.inbound_message(body)
        except ValueError as exc:
            name = str(exc)
            raise ValidationError(f"{name} is missing or invalid", field=name) from exc
        delivery = await sim.webhooks.deliver(webhook, "message")
        return {
            "messages": [{"id": wamid}],
            "webhook": {"delivered": delivery.delivered, "status_code": delivery.status_code, "error": delivery.error},
        }

    @router.get("/messages", summary="Messages the simulated number accepted, newest first")
    async def sent(limit: int = 50, to: str | None = None) -> dict[str, Any]:
        records = [r for r in reversed(sim.sent.values()) if to is None or r.to == to.lstrip("+")]
        return {"data": [r.as_json() for r in records[: max(1, min(limit, 500))]]}

    @router.get("/inbound", summary="Messages injected as if customers wrote them, newest first")
    async def inbound(limit: int = 50) -> dict[str, Any]:
        return {"data": list(reversed(sim.inbound))[: max(1, min(limit, 500))]}

    @router.get("/read-receipts", summary="Inbound message ids the business marked read")
    async def read_receipts() -> dict[str, Any]:
        return {"data": list(reversed(sim.read_marks)), "typing": list(reversed(sim.typing))}

    @router.get("/webhooks", summary="Recent webhook deliveries and their outcome")
    async def webhooks(limit: int = 50) -> dict[str, Any]:
        return {"data": [asdict(d) for d in reversed(sim.webhooks.log)][: max(1, min(limit, 500))]}

    @router.post("/webhooks/verify", summary="Run Meta's subscription handshake against the callback URL")
    async def verify() -> dict[str, Any]:
        return asdict(await sim.webhooks.verify_callback())

    @router.get("/config", summary="The simulator's identity (secrets masked) and behaviour")
    async def get_config() -> dict[str, Any]:
        return _config_json(sim)

    @router.patch(
        "/config",
        summary="Tune delays, throughput, the 24-hour window, undeliverable mode, slow answers",
        openapi_extra=json_body(description="The settings to change (names as in GET /sandbox/config)"),
    )
    async def patch_config(request: Request) -> dict[str, Any]:
        body = await _object(request)
        changes: dict[str, Any] = {}
        allowed = {
            "status_delays",
            "throughput",
            "enforce_window",
            "undeliverable",
            "template_review_seconds",
            "answer_delay_seconds",
        }
        if identity_changes:
            allowed |= {"webhook_url", "app_secret", "verify_token"}
        for key, value in body.items():
            if key not in allowed:
                raise ValidationError(f"{key} cannot be changed here", field=key)
            if key == "status_delays":
                text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
                try:
                    changes[key] = parse_delays(text)
                except ValueError as exc:
                    raise ValidationError(str(exc), field=key) from exc
            elif key == "throughput":
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ValidationError("throughput must be a positive number", field=key)
                changes[key] = float(value)
            elif key == "enforce_window":
                if not isinstance(value, bool):
                    raise ValidationError("enforce_window must be true or false", field=key)
                changes[key] = value
            elif key == "undeliverable":
                if value not in UNDELIVERABLE_MODES:
                    raise ValidationError("undeliverable must be webhook or sync", field=key)
                changes[key] = value
            elif key == "answer_delay_seconds":
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 600:
                    raise ValidationError("answer_delay_seconds must be 0–600", field=key)
                changes[key] = float(value)
            elif key == "template_review_seconds":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                    raise ValidationError("template_review_seconds must be ≥ 0 or null", field=key)
                changes[key] = value
            else:
                if value is not None and not isinstance(value, str):
                    raise ValidationError(f"{key} must be a string", field=key)
                changes[key] = value
        sim.config = sim.config.with_changes(**changes)
        return _config_json(sim)

    @router.post(
        "/templates",
        summary="Add a template or change its status (webhook sent on change)",
        openapi_extra=json_body(description='`{"name", "language", "status", …}` of a template in Meta\'s shape'),
    )
    async def put_template(request: Request) -> dict[str, Any]:
        body = await _object(request)
        name, language = body.get("name"), body.get("language")
        status = str(body.get("status", "APPROVED")).upper()
        if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
            raise ValidationError("name and language are required", field="name")
        if status not in TEMPLATE_STATUSES:
            raise ValidationError(f"status must be one of {', '.join(TEMPLATE_STATUSES)}", field="status")
        template = sim.find_template(name, language)
        if template is None:
            text = body.get("body")
            if not isinstance(text, str) or not text:
                raise ValidationError("body is required for a new template", field="body")
            template = SimTemplate(
                id=str(3 * 10**14 + len(sim.templates) + 1),
                name=name,
                language=language,
                status=status,
                category=str(body.get("category", "UTILITY")).upper(),
                components=[{"type": "BODY", "text": text}],
            )
            sim.templates.append(template)
        elif template.status != status:
            await sim.set_template_status(template, status, body.get("reason"))
        return template.as_graph()

    def _template(name: str, body: dict[str, Any]) -> SimTemplate:
        language = body.get("language")
        if not isinstance(language, str) or not language:
            raise ValidationError("language is required", field="language")
        template = sim.find_template(name, language)
        if template is None:
            raise NotFoundError("no such template", field="name")
        return template

    @router.post(
        "/templates/{name}/category",
        summary="Meta recategorizes a template (or announces it: impending)",
        openapi_extra=json_body(),
    )
    async def template_category(name: str, request: Request) -> dict[str, Any]:
        body = await _object(request)
        template = _template(name, body)
        category = str(body.get("category", "")).upper()
        if category not in TEMPLATE_CATEGORIES:
            raise ValidationError(f"category must be one of {', '.join(TEMPLATE_CATEGORIES)}", field="category")
        impending = body.get("impending", False)
        if not isinstance(impending, bool):
            raise ValidationError("impending must be true or false", field="impending")
        delivery = await sim.change_template_category(template, category, impending=impending)
        return {
            **template.as_graph(),
            "webhook": {"delivered": delivery.delivered, "status_code": delivery.status_code},
        }

    @router.post("/templates/{name}/quality", summary="A template's quality rating changes", openapi_extra=json_body())
    async def template_quality(name: str, request: Request) -> dict[str, Any]:
        body = await _object(request)
        template = _template(name, body)
        quality = str(body.get("quality", "")).upper()
        if quality not in TEMPLATE_QUALITIES:
            raise ValidationError(f"quality must be one of {', '.join(TEMPLATE_QUALITIES)}", field="quality")
        delivery = await sim.change_template_quality(template, quality)
        return {
            **template.as_graph(),
            "webhook": {"delivered": delivery.delivered, "status_code": delivery.status_code},
        }

    @router.post(
        "/limits", summary="Meta changes the portfolio's messaging limit (webhook sent)", openapi_extra=json_body()
    )
    async def limits(request: Request) -> dict[str, Any]:
        body = await _object(request)
        tier = str(body.get("tier", "")).upper()
        if tier not in MESSAGING_TIERS:
            raise ValidationError(f"tier must be one of {', '.join(MESSAGING_TIERS)}", field="tier")
        delivery = await sim.change_messaging_limit(tier)
        return {**sim.phone_number(), "webhook": {"delivered": delivery.delivered, "status_code": delivery.status_code}}

    @router.get("/templates/{name}", summary="A template by name (every language)")
    async def get_template(name: str) -> dict[str, Any]:
        found = [t.as_graph() for t in sim.templates if t.name == name]
        if not found:
            raise NotFoundError("no such template", field="name")
        return {"data": found}

    return router
