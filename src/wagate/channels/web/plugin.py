"""Wires the web channel into a node: the session endpoints and the node's session keeper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from wagate.channels.web import dashboard
from wagate.channels.web.api import router
from wagate.channels.web.manager import WebSessions
from wagate.channels.web.session import SessionFactory
from wagate.runtime import Runtime


def web_plugin(
    factory: SessionFactory | None = None, **options: float
) -> Callable[[Runtime, FastAPI], Awaitable[Callable[[], Awaitable[None]]]]:
    """The plug-in; ``factory`` defaults to real neonize sessions (tests pass the fake's)."""

    async def start(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]]:
        if factory is None:
            from wagate.channels.web.neonize_session import neonize_factory

            chosen: SessionFactory = neonize_factory
        else:
            chosen = factory
        app.include_router(router)
        app.include_router(dashboard.router)
        sessions = WebSessions(rt, chosen, check_store=factory is None, **options)  # type: ignore[arg-type]
        rt.extras["web_sessions"] = sessions
        await sessions.start()
        return sessions.stop

    return start
