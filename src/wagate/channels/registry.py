"""Kind → implementation, explicitly: no registration by import side effect.

The app receives a ``ChannelRegistry``; tests build one with the in-memory channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wagate.channels.base import Channel, ChannelConfig

ChannelFactory = Callable[[ChannelConfig, Any], Channel]
#: Turns settings as an admin sent them into settings to store (validate, encrypt secrets …).
SettingsPreparer = Callable[[dict[str, Any], Any], dict[str, Any]]


class ChannelRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, ChannelFactory] = {}
        self._preparers: dict[str, SettingsPreparer] = {}

    def register(self, kind: str, factory: ChannelFactory, *, prepare_settings: SettingsPreparer | None = None) -> None:
        self._factories[kind] = factory
        if prepare_settings is not None:
            self._preparers[kind] = prepare_settings

    def prepare_settings(self, kind: str, settings: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """The kind's own validation of settings before they are stored; unchanged if it has none."""
        preparer = self._preparers.get(kind)
        return preparer(settings, context) if preparer is not None else settings

    @property
    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def knows(self, kind: str) -> bool:
        return kind in self._factories

    def build(self, config: ChannelConfig, context: Any = None) -> Channel:
        return self._factories[config.kind](config, context)


def memory_factory(config: ChannelConfig, _context: Any) -> Channel:
    from wagate.channels.memory import MemoryChannel

    return MemoryChannel(config)


def default_registry(include_memory: bool = False) -> ChannelRegistry:
    """The kinds a production node knows. ``include_memory`` adds the test channel."""
    registry = ChannelRegistry()
    if include_memory:
        registry.register("memory", memory_factory)
    return registry
