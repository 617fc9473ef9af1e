"""The dashboard plug-in: the operator pages and their live updates.

Added to a node by ``wagate.node.node_plugins``. It mounts the pages and the vendored static
files and starts the events broker that feeds the browsers' server-sent events. Conversations
themselves are the core's (``wagate.wiring``), as are their API routes (``app.mount_routers``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wagate.dashboard import admin, analytics, channels, conversation, pages, webhooks
from wagate.dashboard.broker import Broker
from wagate.dashboard.render import STATIC, page_error
from wagate.runtime import Runtime


async def dashboard_plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]]:
    broker = Broker(rt)
    rt.components.add(broker)
    rt.wakeup.listeners.append(broker.nudge)
    rt.signals.on("events", broker.nudge)  # another node committed events (Redis relay)
    rt.hooks.stopping.append(broker.stopping)
    rt.hooks.conversation_listeners.append(
        lambda tenant_id, conversation_id: broker.publish(tenant_id, ["inbox", f"conversation:{conversation_id}"])
    )
    for router in (pages.router, conversation.router, analytics.router, admin.router, webhooks.router, channels.router):
        app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.state.page_errors = page_error
    return broker.close
