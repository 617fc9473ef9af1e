"""Wires the cloud channel into a node: the webhook receiver, the pending-status sweeper, the template sync."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from wagate.channels.cloud.receiver import PendingStatusSweeper, router
from wagate.channels.cloud.template_sync import TemplateSyncer
from wagate.runtime import Runtime


async def cloud_plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]]:
    app.include_router(router)
    sweeper = PendingStatusSweeper(rt)
    rt.extras["cloud_sweeper"] = sweeper
    await sweeper.start()
    syncer = TemplateSyncer(rt)
    await syncer.start()

    async def stop() -> None:
        await syncer.stop()
        await sweeper.stop()

    return stop
