"""The dashboard plug-in: conversations kept from messages, their API, the pages, live updates.

Added to a node by ``wagate.node.node_plugins``. It installs the conversation hooks (so the
``/v1/conversations`` API and the inbox agree with every message stored from then on),
mounts the native API routers for conversations and analytics, the pages, the vendored
static files, and starts the events broker that feeds the browsers' server-sent events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wagate.api.v1 import analytics as analytics_api
from wagate.api.v1 import conversations as conversations_api
from wagate.dashboard import admin, analytics, channels, conversation, pages, webhooks
from wagate.dashboard.broker import Broker
from wagate.dashboard.render import STATIC, page_error
from wagate.runtime import Runtime
from wagate.services import conversations


async def dashboard_plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]]:
    conversations.install(rt)
    broker = Broker(rt)
    rt.extras["dashboard_broker"] = broker
    rt.wakeup.listeners.append(broker.nudge)
    rt.signals.on("events", broker.nudge)  # another node committed events (Redis relay)
    rt.extras.setdefault("stopping_callbacks", []).append(broker.stopping)
    conversations.change_listeners(rt).append(
        lambda tenant_id, conversation_id: broker.publish(tenant_id, ["inbox", f"conversation:{conversation_id}"])
    )
    app.include_router(conversations_api.router)
    app.include_router(analytics_api.router)
    for router in (pages.router, conversation.router, analytics.router, admin.router, webhooks.router, channels.router):
        app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.state.page_errors = page_error
    return broker.close
