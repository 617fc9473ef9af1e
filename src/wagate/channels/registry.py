"""Kind → implementation, explicitly: no registration by import side effect.

The app receives a ``ChannelRegistry``; tests build one with the in-memory channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wagate.channels.base import Channel, ChannelConfig

ChannelFactory = Callable[[ChannelConfig, Any], Channel]


class ChannelRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, ChannelFactory] = {}

    def register(self, kind: str, factory: ChannelFactory) -> None:
        self._factories[kind] = factory

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
