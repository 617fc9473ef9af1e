"""``wagate sim``: the simulator alone, Graph routes at the root, for a CRM's own CI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from wagate import __version__
from wagate.api.errors import install_error_handlers
from wagate.sandbox.config import SimulatorConfig
from wagate.sandbox.routes import control_router, graph_router
from wagate.sandbox.simulator import Simulator

log = logging.getLogger("wagate.sandbox")


def create_sim_app(
    config: SimulatorConfig, *, verify_on_start: bool = True, webhook_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """An ASGI app serving one simulated number. With a webhook URL, the subscription handshake
    is attempted in the background on start (and logged), as Meta does when a URL is configured."""
    sim = Simulator(config, webhook_transport=webhook_transport)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task: asyncio.Task[None] | None = None
        if verify_on_start and config.webhook_url:
            task = asyncio.create_task(_verify_soon(sim))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await sim.close()

    app = FastAPI(
        title="wagate sim",
        version=__version__,
        summary="A WhatsApp Cloud API simulator",
        lifespan=lifespan,
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.simulator = sim
    install_error_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(control_router(sim, identity_changes=True))
    app.include_router(graph_router(sim))
    return app


async def _verify_soon(sim: Simulator) -> None:
    for attempt in range(5):
        await asyncio.sleep(0.5 * (attempt + 1))
        outcome = await sim.webhooks.verify_callback()
        if outcome.delivered:
            log.info("webhook URL verified", extra={"url": outcome.url})
            return
    log.warning("webhook URL did not pass the verification handshake", extra={"url": sim.config.webhook_url})
