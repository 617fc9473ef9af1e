"""The in-process sandbox of ``wagate serve`` (``WAGATE_SANDBOX=1``, the default).

Mounts the simulator under ``/sandbox/graph`` (Graph API) and ``/sandbox`` (controls), and
makes sure the default tenant has a ``sandbox`` channel of kind ``cloud`` pointed at it —
the default channel on a fresh install, with policy ``service_window: false``,
``consent: warn`` so a first free-text message goes through (CONTRACT §7). The gateway
talks to its simulator over real HTTP on its own address (``WAGATE_PUBLIC_URL``), and the
simulator's webhooks come back, signed, to the channel's own receiver: the same road a real
Meta app takes.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy.engine import Connection

from wagate.api.deps import current_principal
from wagate.channels.cloud.settings import CloudSettings, prepare_settings
from wagate.domain.channels import merge_pacing, merge_policy
from wagate.runtime import Runtime
from wagate.sandbox.config import SimulatorConfig, SimulatorOptions
from wagate.sandbox.routes import control_router, graph_router
from wagate.sandbox.simulator import Simulator
from wagate.services.templates import sync_templates
from wagate.store.repos import channels as channel_repo
from wagate.store.repos.channels import ChannelRow

log = logging.getLogger("wagate.sandbox")

CHANNEL_NAME = "sandbox"
GRAPH_PREFIX = "/sandbox/graph"
#: CONTRACT §7: a first free-text message goes through. The duplicate guard is off too, so a developer
#: can repeat the same request while exploring; PATCH the channel to rehearse production rules.
LEGACY_SANDBOX_VERSION = "v21.0"
SANDBOX_POLICY = {"service_window": False, "consent": "warn", "duplicate_window_s": 0}

Plugin = Callable[[Runtime, FastAPI], Awaitable[Callable[[], Awaitable[None]] | None]]


def points_at_sandbox(settings: dict[str, Any]) -> bool:
    return str(settings.get("graph_url") or "").endswith(GRAPH_PREFIX)


async def ensure_sandbox_channel(rt: Runtime, tenant_id: int, config: SimulatorConfig) -> ChannelRow:
    """Create the ``sandbox`` channel once; keep its ``graph_url`` on this node's address.

    A ``sandbox`` channel an admin re-pointed at a real Meta app is left alone.
    """
    graph_url = f"{rt.settings.base_url}{GRAPH_PREFIX}"
    fresh_settings = prepare_settings(
        {
            "graph_url": graph_url,
            "phone_number_id": config.phone_number_id,
            "waba_id": config.waba_id,
            "display_phone_number": config.display_phone_number,
            "access_token": config.access_token,
            "app_secret": secrets.token_urlsafe(24),
            "verify_token": secrets.token_urlsafe(12),
            "contacts_check": True,
        },
        rt.secret_box,
    )
    now = rt.clock.now()

    def job(conn: Connection) -> ChannelRow:
        existing = channel_repo.get_channel(conn, tenant_id, CHANNEL_NAME)
        if existing is None:
            first = not channel_repo.list_channels(conn, tenant_id)
            return channel_repo.insert_channel(
                conn,
                tenant_id=tenant_id,
                name=CHANNEL_NAME,
                kind="cloud",
                settings=fresh_settings,
                pacing=merge_pacing("cloud", None, None),
                policy=merge_policy("cloud", None, SANDBOX_POLICY),
                is_default=first,
                now=now,
            )
        # Earlier releases pinned the sandbox channel to the then default v21.0, which Meta retires
        # on 2027-01-21; the sandbox follows the default version instead.
        pinned = existing.settings.get("api_version") == LEGACY_SANDBOX_VERSION
        stale = existing.settings.get("graph_url") != graph_url or pinned
        if existing.kind == "cloud" and points_at_sandbox(existing.settings) and stale:
            settings = {**existing.settings, "graph_url": graph_url}
            if pinned:
                del settings["api_version"]
            return channel_repo.update_channel(conn, existing.id, {"settings": settings}, now)
        return existing

    row = await rt.db.write(job)
    rt.forget_channels(tenant_id)
    return row


def listens_on_loopback_only(host: str) -> bool:
    """True when no other machine can reach the server (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def sandbox_plugin(options: SimulatorOptions | None = None) -> Plugin:
    """The plug-in for ``create_app``; ``options`` default to ``WAGATE_SANDBOX_*`` variables."""

    async def plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]]:
        opts = options if options is not None else SimulatorOptions()
        config = opts.apply(SimulatorConfig(graph_base_url=f"{rt.settings.base_url}{GRAPH_PREFIX}"))
        tenant_id = app.state.bootstrap.tenant.id
        row = await ensure_sandbox_channel(rt, tenant_id, config)
        if row.kind == "cloud" and points_at_sandbox(row.settings):
            stored = CloudSettings.from_stored(row.settings, rt.secret_box)
            config = config.with_changes(
                access_token=stored.access_token,
                app_secret=stored.app_secret or config.app_secret,
                verify_token=stored.verify_token or config.verify_token,
                phone_number_id=stored.phone_number_id,
                waba_id=stored.waba_id or config.waba_id,
                webhook_url=f"{rt.settings.base_url}/webhooks/cloud/{stored.webhook_id}",
            )
        else:
            log.warning("the sandbox channel no longer points at the simulator; simulator webhooks are off")
        simulator = Simulator(config)
        rt.extras["sandbox"] = simulator
        if row.kind == "cloud" and points_at_sandbox(row.settings):
            # Seed the templates table with the simulator's templates, as `POST /v1/templates/sync`
            # would over HTTP (the server is not listening yet while the lifespan starts).
            await sync_templates(rt, row, [template.as_graph() for template in simulator.templates])
        app.include_router(graph_router(simulator), prefix=GRAPH_PREFIX)
        # Every outbound body and a way to forge inbound messages: open only to this machine.
        guard = [] if listens_on_loopback_only(rt.settings.host) else [Depends(current_principal)]
        app.include_router(control_router(simulator, identity_changes=False, dependencies=guard))
        return simulator.close

    return plugin
