"""``/v1/messages``: send (single or batch), read, list, cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wagate.api.deps import PrincipalDep, RuntimeDep, authenticate, parse_bearer, parse_json_object
from wagate.api.errors import error_body
from wagate.api.v1.schemas import MessageBatchIn, MessageIn, iso, message_json
from wagate.domain.messages import OutboundDraft
from wagate.domain.phones import normalize_phone
from wagate.errors import DatabaseUnavailable, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import messages as service
from wagate.services.messages import Accepted, Outcome
from wagate.store.repos import messages as message_repo

router = APIRouter(prefix="/v1/messages", tags=["messages"])

MAX_IDEMPOTENCY_KEY = 255

DRAFT_FIELDS = (
    "to",
    "type",
    "channel",
    "text",
    "media",
    "location",
    "contacts",
    "template",
    "reply_to",
    "reaction",
    "validity_seconds",
    "callback_url",
    "callback_data",
    "operator",
    "client_ref",
)


def draft_from(item: Any, prefix: str = "") -> OutboundDraft:
    if not isinstance(item, dict):
        raise ValidationError("each message must be a JSON object", field=prefix.rstrip(".") or "body")
    kwargs: dict[str, Any] = {name: item.get(name) for name in DRAFT_FIELDS}
    for name in ("media", "location", "template", "reaction"):
        if kwargs[name] is not None and not isinstance(kwargs[name], dict):
            raise ValidationError(f"{name} must be an object", field=f"{prefix}{name}")
    return OutboundDraft(**kwargs)


def accepted_json(item: Accepted) -> dict[str, Any]:
    values = item.values
    data = {
        "id": item.id,
        "status": "queued",
        "to": item.message.phone,
        "channel": item.channel,
        "type": item.message.type.value,
        "client_ref": item.message.client_ref,
        "created_at": iso(values["created_at"]),
        "expires_at": iso(values["expires_at"]),
    }
    if item.warnings:  # a policy rule in "warn" mode: accepted, but the CRM should know
        data["warnings"] = [error_body(w.code, w.message, w.field)["error"] for w in item.warnings]
    return data


def _prefixed(exc: WagateError, prefix: str) -> dict[str, Any]:
    field = f"{prefix}{exc.field}" if exc.field else prefix.rstrip(".")
    return error_body(exc.code, exc.message, field)


def render_single(outcomes: list[Outcome]) -> tuple[int, Any]:
    outcome = outcomes[0]
    if isinstance(outcome, Accepted):
        return 202, accepted_json(outcome)
    return outcome.status_code, error_body(outcome.code, outcome.message, outcome.field)


def render_batch(outcomes: list[Outcome]) -> tuple[int, Any]:
    results: list[dict[str, Any]] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, Accepted):
            results.append({"index": index, **accepted_json(outcome)})
        else:
            results.append({"index": index, **_prefixed(outcome, f"messages[{index}].")})
    accepted = sum(1 for o in outcomes if isinstance(o, Accepted))
    return (202 if accepted else 422), {"accepted": accepted, "rejected": len(outcomes) - accepted, "results": results}


@router.post(
    "",
    status_code=202,
    summary='Send one message, or a batch of up to 1000 as {"messages": [...]}',
    openapi_extra={
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "Replays the first answer for 24 h; a different body is 409",
            }
        ],
        "security": [{"bearer": []}],
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            MessageIn.model_json_schema(ref_template="#/components/schemas/{model}"),
                            MessageBatchIn.model_json_schema(ref_template="#/components/schemas/{model}"),
                        ]
                    }
                }
            },
            "required": True,
        },
    },
)
async def send_messages(request: Request) -> Response:
    status_code, body = await ingest(
        request.app.state.runtime,
        request.headers.get("authorization", ""),
        request.headers.get("idempotency-key"),
        await request.body(),
    )
    headers = {"Retry-After": str(DatabaseUnavailable.retry_after_seconds)} if status_code == 503 else None
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


async def ingest(rt: Runtime, authorization: str, idempotency_key: str | None, raw: bytes) -> tuple[int, bytes]:
    """``POST /v1/messages`` without the framework: shared by the route and the ASGI fast path.

    Returns the status code and the JSON body; every ``WagateError`` becomes the native error body.
    """
    try:
        principal = await authenticate(rt, parse_bearer(authorization))
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise ValidationError(
                f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters", field="Idempotency-Key"
            )
        body = parse_json_object(raw)
        drafts, render = _drafts_and_renderer(body)
        body_hash = service.request_hash(body) if idempotency_key else None
        status_code, response = await service.accept_messages(
            rt, principal.tenant, drafts, idempotency_key=idempotency_key, body_hash=body_hash, render=render
        )
    except WagateError as exc:
        status = 400 if exc.code == "malformed_json" else exc.status_code
        return status, orjson.dumps(error_body(exc.code, exc.message, exc.field, **exc.details))
    return status_code, orjson.dumps(response)


def _drafts_and_renderer(
    body: dict[str, Any],
) -> tuple[list[OutboundDraft], Callable[[list[Outcome]], tuple[int, Any]]]:
    if "messages" not in body:
        return [draft_from(body)], render_single
    items = body["messages"]
    if not isinstance(items, list) or not items:
        raise ValidationError("messages must be a non-empty list", field="messages", code="required")
    if len(items) > service.MAX_BATCH:
        raise ValidationError(
            f"at most {service.MAX_BATCH} messages per batch", field="messages", code="too_many_messages"
        )
    drafts: list[OutboundDraft] = []
    bad: dict[int, WagateError] = {}
    for index, item in enumerate(items):
        try:
            drafts.append(draft_from(item, f"messages[{index}]."))
        except WagateError as exc:
            bad[index] = exc
            drafts.append(OutboundDraft(to=None))
    if not bad:
        return drafts, render_batch

    def render(outcomes: list[Outcome]) -> tuple[int, Any]:
        return render_batch([bad.get(i, o) for i, o in enumerate(outcomes)])

    return drafts, render


@router.get("/{message_id}", summary="A message with its status history")
async def get_message(message_id: int, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row, history = await service.get_message(rt, principal.tenant, message_id)
    body = message_json(row, history)
    if row.direction == "out":
        wait = await service.why_waiting(rt, row)
        body["waiting"] = (
            {"reason": wait.reason, "message": wait.message, "until": iso(wait.until)} if wait is not None else None
        )
    return body


@router.get("", summary="Message history, newest first, with cursor paging")
async def list_messages(
    principal: PrincipalDep,
    rt: RuntimeDep,
    phone: str | None = None,
    direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    tenant = principal.tenant
    normalized = normalize_phone(phone, tenant.default_region, "phone") if phone else None
    before = None
    if cursor:
        try:
            before = message_repo.decode_cursor(cursor)
        except (ValueError, KeyError) as exc:
            raise ValidationError("cursor is not one this API returned", field="cursor") from exc
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError(f"{name} needs a time zone (e.g. Z)", field=name)
    rows = await rt.db.read(
        lambda c: message_repo.list_messages(
            c,
            tenant.id,
            phone=normalized,
            direction=direction,
            status=status,
            since=since,
            until=until,
            before_id=before,
            limit=limit,
        )
    )
    next_cursor = message_repo.encode_cursor(rows[-1].id) if len(rows) == limit else None
    return {"data": [message_json(r) for r in rows], "next_cursor": next_cursor}


@router.post("/{message_id}/cancel", summary="Cancel a message that is still queued")
async def cancel_message(message_id: int, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row, history = await service.cancel_message(rt, principal.tenant, message_id)
    return message_json(row, history)
