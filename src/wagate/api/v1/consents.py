"""``/v1/consents``: opt-in (single or a batch import), list, one phone with its history, opt-out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from wagate.api.deps import MAX_ID, PrincipalDep, RuntimeDep
from wagate.api.errors import error_body
from wagate.api.models import Page, RequestBody, ResponseBody
from wagate.api.openapi import Error
from wagate.errors import WagateError
from wagate.services import consents as service

router = APIRouter(prefix="/v1/consents", tags=["consents"])


class ConsentIn(RequestBody):
    """One opt-in (``phone`` …), or a batch import as ``{"consents": [...]}`` (each item answered on its own)."""

    phone: str | None = Field(default=None, description="Required for one opt-in", examples=["+7 900 123-45-67"])
    source: str | None = Field(default=None, description="Where the client agreed", examples=["website_form"])
    scopes: list[str] | None = Field(default=None, description="`marketing`, `utility`, `service` …")
    evidence: dict[str, Any] | None = Field(default=None, description="Proof kept with the consent (≤ 8 KiB)")
    consented_at: str | None = Field(default=None, description="ISO 8601 with a time zone; now by default")
    consents: list[dict[str, Any]] | None = Field(default=None, description="A batch of opt-ins of the shape above")


class ConsentBatchOut(ResponseBody):
    """A batch import: one result per item, in order, each the consent or its ``error``."""

    accepted: int
    rejected: int
    results: list[dict[str, Any]]


class ConsentChange(ResponseBody):
    action: str
    scopes: list[str]
    source: str | None
    via: str | None
    evidence: dict[str, Any]
    message_id: int | None
    at: str | None


class ConsentOut(ResponseBody):
    phone: str
    status: str
    scopes: list[str]
    source: str | None
    evidence: dict[str, Any]
    consented_at: str | None
    revoked_at: str | None
    revoked_via: str | None
    created_at: str | None
    updated_at: str | None
    history: list[ConsentChange] | None = None


@router.post(
    "",
    summary='Opt-in: {"phone", "source", "scopes", "evidence"} or {"consents": [...]}',
    responses={
        200: {"model": ConsentOut | ConsentBatchOut, "description": "Updated (or, for a batch, one result per item)"},
        201: {"model": ConsentOut, "description": "Recorded"},
        422: {
            "model": Error | ConsentBatchOut,
            "description": "Invalid; for a batch where every item failed, the results",
        },
    },
)
async def opt_in(principal: PrincipalDep, rt: RuntimeDep, model: ConsentIn) -> JSONResponse:
    tenant = principal.tenant
    body = model.fields()
    if "consents" in body:
        items = body["consents"]
        outcomes = await service.record_opt_ins(rt, tenant, items if isinstance(items, list) else [])
        results: list[dict[str, Any]] = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, WagateError):
                results.append({"index": index, **error_body(outcome.code, outcome.message, outcome.field)})
            else:
                results.append({"index": index, **service.consent_json(outcome)})
        stored = sum(1 for o in outcomes if not isinstance(o, WagateError))
        return JSONResponse(
            {"accepted": stored, "rejected": len(outcomes) - stored, "results": results},
            status_code=200 if stored else 422,
        )
    row, created = await service.record_opt_in(rt, tenant, body)
    return JSONResponse(service.consent_json(row), status_code=201 if created else 200)


@router.get(
    "",
    summary="Consents, by id, with cursor paging",
    response_model=Page[ConsentOut],
    response_model_exclude_unset=True,
)
async def list_consents(
    principal: PrincipalDep,
    rt: RuntimeDep,
    status: Annotated[str | None, Query(pattern="^(active|revoked)$")] = None,
    phone: str | None = None,
    scope: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    rows, next_cursor = await service.list_consents(
        rt, principal.tenant, status=status, phone=phone, scope=scope, after_id=cursor, limit=limit
    )
    return {"data": [service.consent_json(r) for r in rows], "next_cursor": next_cursor}


@router.get("/{phone}", summary="One phone's consent with every change", response_model=ConsentOut)
async def get_consent(phone: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row, history = await service.get_consent(rt, principal.tenant, phone)
    return service.consent_json(row, history)


@router.delete(
    "/{phone}",
    summary="Opt-out: revoke every scope (recorded even without an earlier opt-in)",
    response_model=ConsentOut,
    response_model_exclude_unset=True,
)
async def opt_out(phone: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    row = await service.record_opt_out(rt, principal.tenant, phone)
    return service.consent_json(row)
