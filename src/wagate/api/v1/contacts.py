"""``/v1/contacts``: the client cards a CRM keeps in sync."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from wagate.api.deps import MAX_ID, PrincipalDep, RuntimeDep
from wagate.api.models import Page, RequestBody, ResponseBody
from wagate.api.v1.schemas import iso
from wagate.domain.contacts import validate_contact
from wagate.domain.identities import identities_json, parse_address, phone_of
from wagate.errors import NotFoundError
from wagate.services import identities
from wagate.store.repos import contacts as repo

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])


class ContactIn(RequestBody):
    """The whole card: fields left out are cleared."""

    name: str | None = Field(default=None, examples=["Anna Petrova"])
    info: str | None = None
    email: str | None = None
    web: str | None = None
    tags: list[str] | None = Field(default=None, examples=[["vip"]])


class IdentitiesOut(ResponseBody):
    """Every way WhatsApp addresses the person (docs/identities.md); null where unknown."""

    phone: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    lid: str | None = None


class ContactOut(ResponseBody):
    phone: str | None = Field(description="E.164 digits, or null for a person known only by BSUID or LID")
    identities: IdentitiesOut | None = None
    name: str | None
    info: str | None
    email: str | None
    web: str | None
    tags: list[str]
    created_at: str | None
    updated_at: str | None


def contact_json(row: Any) -> dict[str, Any]:
    """A contact card; ``phone`` is ``null`` for someone WhatsApp knows only by BSUID or LID."""
    return {
        "phone": phone_of(row.phone),
        "identities": identities_json(row.phone, row),
        "name": row.name,
        "info": row.info,
        "email": row.email,
        "web": row.web,
        "tags": row.tags or [],
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


@router.put(
    "/{phone}",
    summary="Create or replace a contact",
    response_model=ContactOut,
    responses={201: {"model": ContactOut, "description": "Created"}},
)
async def put_contact(phone: str, principal: PrincipalDep, rt: RuntimeDep, body: ContactIn) -> Response:
    tenant = principal.tenant
    address = parse_address(phone, tenant.default_region, "phone")
    fields = validate_contact(body.fields())
    now = rt.clock.now()
    row, created = await rt.db.write(
        lambda c: repo.upsert_contact(c, tenant.id, identities.key_for(c, tenant.id, address.key), fields, now)
    )
    return JSONResponse(contact_json(row), status_code=201 if created else 200)


@router.get("/{phone}", summary="One contact", response_model=ContactOut)
async def get_contact(phone: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    tenant = principal.tenant
    address = parse_address(phone, tenant.default_region, "phone")
    row = await rt.db.read(lambda c: repo.get_contact(c, tenant.id, identities.key_for(c, tenant.id, address.key)))
    if row is None:
        raise NotFoundError(f"no contact {address.key}", field="phone")
    return contact_json(row)


@router.delete("/{phone}", status_code=204, summary="Delete a contact")
async def delete_contact(phone: str, principal: PrincipalDep, rt: RuntimeDep) -> Response:
    tenant = principal.tenant
    address = parse_address(phone, tenant.default_region, "phone")
    if not await rt.db.write(
        lambda c: repo.delete_contact(c, tenant.id, identities.key_for(c, tenant.id, address.key))
    ):
        raise NotFoundError(f"no contact {address.key}", field="phone")
    return Response(status_code=204)


@router.get("", summary="Contacts, by id, with cursor paging", response_model=Page[ContactOut])
async def list_contacts(
    principal: PrincipalDep,
    rt: RuntimeDep,
    tag: str | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    tenant = principal.tenant
    rows = await rt.db.read(lambda c: repo.list_contacts(c, tenant.id, tag=tag, query=q, after_id=cursor, limit=limit))
    next_cursor = rows[-1].id if len(rows) == limit else None
    return {"data": [contact_json(r) for r in rows], "next_cursor": next_cursor}
