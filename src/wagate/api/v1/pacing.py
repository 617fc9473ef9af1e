"""``GET /v1/channels/{name}/pacing``: the live state behind a channel's pacing rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wagate.api.deps import PrincipalDep, RuntimeDep
from wagate.api.v1.schemas import iso
from wagate.services import channels as channel_service
from wagate.store.repos.claims import pacing_view

router = APIRouter(prefix="/v1/channels", tags=["channels"])


@router.get("/{name}/pacing", summary="Live pacing: next slot, today's counts, warm-up day, guard, pause reason")
async def get_pacing(name: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    channel = await channel_service.get_channel(rt, principal.tenant, name)
    now = rt.clock.now()
    view = await rt.db.read(lambda c: pacing_view(c, channel.id, now))
    assert view is not None
    guard = view.guard
    return {
        "channel": channel.name,
        "status": channel.status,
        "paused_reason": view.paused_reason if channel.status == "paused" else None,
        "paused_at": iso(view.paused_at) if channel.status == "paused" else None,
        "next_slot_at": iso(max(view.slot.at, now)),
        "hold": view.slot.hold.value if view.slot.hold and view.slot.at > now else None,
        "next_due_at": iso(view.next_due),
        "queued": view.queued,
        "sent_today": view.facts.sent_today,
        "new_contacts_today": view.facts.new_contacts_today,
        "daily_cap": view.daily_cap,
        "warmup_day": view.warmup_day,
        "unanswered": (
            {"sample": guard.sample, "unanswered": guard.unanswered, "share": round(guard.share, 4)} if guard else None
        ),
    }
