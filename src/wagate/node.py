"""The production composition: ``create_app`` plus the kinds and plug-ins a real node runs.

Feature packages (sandbox, cloud, webhooks, device, dashboard …) add themselves here,
explicitly, so ``app.py`` stays the small core and tests can compose what they need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from wagate.app import Plugin, create_app
from wagate.channels.registry import ChannelRegistry, default_registry
from wagate.clock import Clock
from wagate.config import Settings
from wagate.webhooks.plugin import webhooks_plugin


def node_registry() -> ChannelRegistry:
    return default_registry()


def node_plugins(settings: Settings) -> list[Plugin]:
    return [webhooks_plugin]


def build_node(
    settings: Settings, *, clock: Clock | None = None, announce: Callable[[Any], None] | None = None
) -> FastAPI:
    return create_app(
        settings, clock=clock, registry=node_registry(), plugins=node_plugins(settings), announce=announce
    )
