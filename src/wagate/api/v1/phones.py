"""``/v1/phones/{phone}``: is this number on WhatsApp? Cached answers first, then the channel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from wagate.api.deps import PrincipalDep, RuntimeDep
from wagate.domain.phones import normalize_phone
from wagate.services.messages import resolve_channel
from wagate.store.repos import contacts as repo

router = APIRouter(prefix="/v1/phones", tags=["phones"])

CHECK_TTL = timedelta(days=7)


@router.get("/{phone}", summary="Whether a number is on WhatsApp: exists, none or unknown")
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
    answer = "unknown"
    if rt.registry.knows(row.kind):
        answer = await (await rt.channel_instance(row)).check_phone(normalized)
    if answer != "unknown":
        await rt.db.write(
            lambda c: repo.record_phone_check(c, tenant.id, normalized, answer, row.name, now, now + CHECK_TTL)
        )
    return {"phone": normalized, "whatsapp": answer, "checked_at": now.isoformat(), "source": row.name}
