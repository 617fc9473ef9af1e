"""``/v1/campaigns/{id}/recurrence``: repeat a draft campaign on a schedule; its runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from wagate.api.deps import JsonObject, PrincipalDep, RowId, RuntimeDep
from wagate.runtime import Runtime
from wagate.services import recurring as service

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


@router.put("/{campaign_id}/recurrence", summary="Repeat a draft campaign: every N days at HH:MM, or cron")
async def set_recurrence(
    campaign_id: RowId, principal: PrincipalDep, rt: RuntimeDep, body: JsonObject
) -> dict[str, Any]:
    return await service.set_schedule(rt, principal.tenant, campaign_id, body)


@router.get("/{campaign_id}/recurrence", summary="The schedule, the next run and every run so far")
async def get_recurrence(campaign_id: RowId, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    return await service.get_schedule(rt, principal.tenant, campaign_id)


@router.delete("/{campaign_id}/recurrence", summary="Stop repeating (runs already started go on)")
async def stop_recurrence(campaign_id: RowId, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    return await service.stop_schedule(rt, principal.tenant, campaign_id)


def recurring_plugin(*, interval: float = service.POLL_SECONDS, background: bool = True) -> Any:
    """Mounts the API and runs due schedules every ``interval`` seconds (tests call ``run_due``)."""

    async def start(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]] | None:
        app.include_router(router)
        if not background:
            return None
        task = asyncio.get_running_loop().create_task(service.run_forever(rt, interval))

        async def stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        return stop

    return start
