"""``/v1/phones/{phone}``: is this number on WhatsApp? Cached answers first, then the channel."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from wagate.api.deps import PrincipalDep, RuntimeDep
from wagate.api.models import ResponseBody
from wagate.domain.phones import normalize_phone
from wagate.services.messages import resolve_channel
from wagate.services.phones import whatsapp_presence
from wagate.store.repos import contacts as repo

router = APIRouter(prefix="/v1/phones", tags=["phones"])


class PhoneCheck(ResponseBody):
    phone: str
    whatsapp: Literal["exists", "none", "unknown"]
    checked_at: str | None
    source: str | None = Field(description="The channel (or cache) that answered")


@router.get("/{phone}", summary="Whether a number is on WhatsApp: exists, none or unknown", response_model=PhoneCheck)
async def check_phone(
    phone: str, principal: PrincipalDep, rt: RuntimeDep, channel: str | None = None
) -> dict[str, Any]:
    tenant = principal.tenant
    normalized = normalize_phone(phone, tenant.default_region, "phone")
    now = rt.clock.now()
    cached = await rt.db.read(lambda c: repo.get_phone_check(c, tenant.id, normalized, now))
    if cached is not None:
        return {
            "phone": normalized,
            "whatsapp": cached.whatsapp,
            "checked_at": cached.checked_at.isoformat(),
            "source": cached.source,
        }
    row = await resolve_channel(rt, tenant, channel)
    # The same check and cache as the compatibility doors; a channel that fails is a 502 naming `phone`.
    answer = await whatsapp_presence(rt, tenant, normalized, row, now=now)
    return {"phone": normalized, "whatsapp": answer, "checked_at": now.isoformat(), "source": row.name}
