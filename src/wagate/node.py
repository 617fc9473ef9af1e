"""The production composition: ``create_app`` plus the kinds and plug-ins a real node runs.

Feature packages (sandbox, cloud, webhooks, device, dashboard …) add themselves here,
explicitly, so ``app.py`` stays the small core and tests can compose what they need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from wagate.api.v1.recurring import recurring_plugin
from wagate.app import Plugin, create_app
from wagate.channels.cloud import cloud_factory, prepare_cloud_settings
from wagate.channels.cloud.plugin import cloud_plugin
from wagate.channels.device import device_factory, device_plugin
from wagate.channels.http import http_factory
from wagate.channels.registry import ChannelRegistry, default_registry
from wagate.channels.web import prepare_web_settings, web_factory, web_plugin
from wagate.clock import Clock
from wagate.config import Settings
from wagate.dashboard.automations import automations_plugin
from wagate.dashboard.plugin import dashboard_plugin
from wagate.dispatch.campaigns import campaigns_plugin
from wagate.gcfreeze import freeze_startup_objects
from wagate.webhooks.plugin import webhooks_plugin


def node_registry(*, include_memory: bool = False) -> ChannelRegistry:
    """The production kinds; ``include_memory`` adds the in-process test kind (benchmarks)."""
    registry = default_registry(include_memory=include_memory)
    registry.register("cloud", cloud_factory, prepare_settings=prepare_cloud_settings)
    registry.register("http", http_factory)
    registry.register("device", device_factory)
    registry.register("web", web_factory, prepare_settings=prepare_web_settings)
    return registry


def node_plugins(settings: Settings) -> list[Plugin]:
    plugins: list[Plugin] = [
        cloud_plugin,
        device_plugin,
        web_plugin(),
        webhooks_plugin,
        dashboard_plugin,
        automations_plugin,  # after the dashboard: the bot answers within its conversations
        campaigns_plugin(),
        recurring_plugin(),
    ]
    if settings.sandbox:
        from wagate.sandbox.plugin import sandbox_plugin

        plugins.append(sandbox_plugin())
    plugins.append(freeze_startup_objects)  # last: freezes what the others built (wagate/gcfreeze.py)
    return plugins


def build_node(
    settings: Settings, *, clock: Clock | None = None, announce: Callable[[Any], None] | None = None
) -> FastAPI:
    return create_app(
        settings, clock=clock, registry=node_registry(), plugins=node_plugins(settings), announce=announce
    )
