"""Wires the cloud channel into a node: the webhook receiver, media and read-receipt routes, the sweeper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from wagate.channels.cloud.receiver import PendingStatusSweeper, router
from wagate.runtime import Runtime


async def cloud_plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]]:
    app.include_router(router)
    sweeper = PendingStatusSweeper(rt)
    rt.extras["cloud_sweeper"] = sweeper
    await sweeper.start()
    return sweeper.stop
