"""``create_app(settings)``: the ASGI application of one wagate node.

The lifespan owns every long-lived resource (database, dispatcher, channel clients) and
closes them in reverse order, so a test can start and stop many apps in one process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from wagate import __version__
from wagate.api import health
from wagate.api.browser_safety import SecurityHeadersMiddleware
from wagate.api.compat import devino, wamm
from wagate.api.errors import install_error_handlers
from wagate.api.fastpath import GatewayApp
from wagate.api.input_guard import InputGuardMiddleware
from wagate.api.inputs import InputRulesMiddleware
from wagate.api.openapi import install_openapi, operation_id
from wagate.api.v1 import (
    access,
    analytics,
    campaigns,
    channels,
    consents,
    contacts,
    conversations,
    events,
    identity_conflicts,
    links,
    media,
    messages,
    pacing,
    phones,
    pricing,
    profile,
    receipts,
    resolve,
    templates,
    webhooks,
)
from wagate.api.v1 import policy as policy_api
from wagate.channels.registry import ChannelRegistry, default_registry
from wagate.clock import Clock, SystemClock
from wagate.config import Settings
from wagate.dispatch.backend import GatewayBackend
from wagate.dispatch.dispatcher import Dispatcher
from wagate.dispatch.redis_relay import RedisRelay
from wagate.dispatch.wakeups import PgWakeupRelay
from wagate.observability.metrics import Metrics, MetricsMiddleware
from wagate.optin import routes as optin
from wagate.runtime import Runtime
from wagate.services.bootstrap import bootstrap
from wagate.store.database import Database
from wagate.store.migrate import migrate_async
from wagate.wiring import install_core

log = logging.getLogger("wagate")

#: Components that plug into the lifespan: ``async def start(rt, app) -> stop``.
Plugin = Callable[[Runtime, FastAPI], Awaitable[Callable[[], Awaitable[None]] | None]]


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: ChannelRegistry | None = None,
    migrate: bool = True,
    plugins: list[Plugin] | None = None,
    announce: Callable[[Any], None] | None = None,
) -> FastAPI:
    metrics = Metrics()
    holder: dict[str, Any] = {}
    registry = registry or default_registry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await migrate_async(settings.database_url)
        db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        rt = Runtime(settings=settings, db=db, clock=clock or SystemClock(), registry=registry, metrics=metrics)
        rt.backend = app.state.channel_backend = GatewayBackend(rt)
        install_core(rt)
        app.state.runtime = rt
        result = await bootstrap(rt)
        app.state.bootstrap = result
        if announce is not None:
            announce(result)
        stops: list[Callable[[], Awaitable[None]]] = []
        for kind in registry:
            for make_service in kind.services:
                service = make_service(rt)
                await service.start()
                rt.kind_services.append(service)
                stops.append(service.stop)
        for plugin in plugins or []:
            stop = await plugin(rt, app)
            if stop is not None:
                stops.append(stop)
        # Cross-node wake-ups: Redis when configured (any database; it also carries event and
        # delivery signals), else PostgreSQL LISTEN/NOTIFY. Never both: one relay, one echo guard.
        relay: RedisRelay | PgWakeupRelay | None = None
        if settings.redis_url:
            relay = RedisRelay(rt)
            await relay.start()
            rt.components.add(relay)
        elif db.is_postgres:
            relay = PgWakeupRelay(rt)
            await relay.start()
            rt.components.add(relay)
        dispatcher: Dispatcher | None = None
        if settings.dispatcher:
            dispatcher = Dispatcher(rt, workers=settings.dispatcher_workers)
            await dispatcher.start()
            rt.components.add(dispatcher)
        holder["rt"] = rt
        try:
            yield
        finally:
            if dispatcher is not None:
                await dispatcher.stop()
            if relay is not None:
                await relay.close()
            for stop in reversed(stops):
                await stop()
            await rt.close_channels()
            await db.close()

    app = GatewayApp(
        title="wagate",
        version=__version__,
        summary="Self-hosted WhatsApp gateway for CRMs",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        # FastAPI's built-in OpenTelemetry is off: wagate exports its own Prometheus metrics and logs.
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    install_error_handlers(app)
    install_openapi(app)
    mount_routers(app, registry)
    app.add_middleware(InputRulesMiddleware)
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def mount_routers(app: FastAPI, registry: ChannelRegistry) -> None:
    """Every door of the core API, then each registered channel kind's own routes.

    Plug-ins that bring a user interface mount theirs when they start (the dashboard's pages, the
    sandbox's simulator, automations); everything else is here.
    """
    core = (
        health.router,
        messages.router,
        resolve.router,
        contacts.router,
        identity_conflicts.router,
        channels.router,
        pacing.router,
        phones.router,
        media.router,
        receipts.router,
        profile.router,
        # The WAMM- and Devino-style compatibility doors (docs/compatibility.md) are core doors.
        wamm.router,
        devino.router,
        templates.router,
        consents.router,
        policy_api.router,
        links.router,
        optin.router,
        pricing.router,
        webhooks.router,
        events.router,
        campaigns.router,
        conversations.router,
        analytics.router,
        access.router,
    )
    for router in core:
        app.include_router(router)
    for kind in registry:
        for router in kind.routers() if kind.routers is not None else ():
            app.include_router(router)
