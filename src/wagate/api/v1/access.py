"""``/v1/tokens`` and ``/v1/users``: API tokens and dashboard users, made by an admin over HTTP.

``wagate token create`` and ``wagate user create`` write to the database directly, which needs the
server's database at hand; with ``--url`` they call these instead, so a token is always made in the
database the running server reads. Only the token's hash is stored; the token is shown once.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from wagate.api.deps import AdminDep, RuntimeDep
from wagate.api.models import RequestBody, ResponseBody
from wagate.services import users as user_service
from wagate.store.repos import tenants as tenant_repo

router = APIRouter(tags=["access"])


class TokenIn(RequestBody):
    name: str = Field(min_length=1, max_length=100, description="A label for the token", examples=["crm"])
    role: Literal["admin", "operator", "api"] = "api"


class TokenOut(ResponseBody):
    name: str
    role: str
    token: str = Field(description="Shown once: only its hash is stored")


class UserIn(RequestBody):
    login: str = Field(description="Letters, digits and . _ - @", examples=["anna"])
    password: str = Field(description="At least 8 characters; only its argon2 hash is stored")
    role: Literal["admin", "operator"] = "operator"
    name: str | None = Field(default=None, description="The name shown to colleagues")
    locale: str | None = Field(default=None, description="en or ru; absent: the browser's language")


class UserOut(ResponseBody):
    login: str
    role: str
    name: str | None


@router.post("/v1/tokens", status_code=201, summary="Create an API token (admin); the token is shown once")
async def create_token(principal: AdminDep, rt: RuntimeDep, body: TokenIn) -> TokenOut:
    token = tenant_repo.new_token()
    now = rt.clock.now()
    tenant_id = principal.tenant.id
    await rt.db.write(lambda c: tenant_repo.store_token(c, tenant_id, body.name, body.role, token, now))
    return TokenOut(name=body.name, role=body.role, token=token)


@router.post("/v1/users", status_code=201, summary="Create a dashboard user (admin)")
async def create_user(principal: AdminDep, rt: RuntimeDep, body: UserIn) -> UserOut:
    data: dict[str, Any] = {k: v for k, v in body.fields().items() if v is not None}
    user = await user_service.create_user(rt, principal.tenant.id, data)
    return UserOut(login=user.login, role=user.role, name=user.name)
