"""The kinds a node runs, explicitly: no registration by import side effect.

The app receives a ``ChannelRegistry``; ``wagate.node`` adds the production kinds, tests add
the in-memory kind (``default_registry(include_memory=True)``) or their own. Asking for a kind
the registry does not hold is an error: there are no silent defaults for an unknown kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from wagate.channels.backend import ChannelBackend
from wagate.channels.base import Channel, ChannelConfig
from wagate.channels.kind import Capabilities, ChannelFactory, ChannelKind, SettingsPreparer
from wagate.domain.channels import NO_POLICY
from wagate.errors import ValidationError

__all__ = ["ChannelRegistry", "UnknownKind", "default_registry", "memory_kind"]


class UnknownKind(ValidationError):
    """A channel's kind is not registered on this node."""

    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__(
            f"channel kind {kind!r} is not available on this node (known: {', '.join(known) or 'none'})",
            field="kind",
            code="unknown_kind",
        )
        self.kind = kind


class ChannelRegistry:
    def __init__(self, kinds: list[ChannelKind] | None = None) -> None:
        self._kinds: dict[str, ChannelKind] = {}
        for kind in kinds or []:
            self.add(kind)

    def add(self, kind: ChannelKind) -> None:
        """Register a kind; a second kind of the same name replaces the first (tests use this)."""
        self._kinds[kind.name] = kind

    def register(
        self,
        name: str,
        factory: ChannelFactory,
        *,
        prepare_settings: SettingsPreparer | None = None,
        capabilities: Capabilities | None = None,
        pacing: Mapping[str, Any] | None = None,
        policy: Mapping[str, Any] | None = None,
    ) -> None:
        """A small kind in one call (tests): the descriptor's defaults for what is not given."""
        kind = ChannelKind(
            name=name, factory=factory, prepare_settings=prepare_settings, capabilities=capabilities or Capabilities()
        )
        if pacing is not None:
            kind = replace(kind, pacing=pacing)
        if policy is not None:
            kind = replace(kind, policy=policy)
        self.add(kind)

    def get(self, name: str) -> ChannelKind:
        """The kind called ``name``; ``UnknownKind`` (a validation error) when it is not registered."""
        kind = self._kinds.get(name)
        if kind is None:
            raise UnknownKind(name, self.kinds)
        return kind

    def __iter__(self) -> Iterator[ChannelKind]:
        return iter(sorted(self._kinds.values(), key=lambda k: k.name))

    @property
    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def knows(self, name: str) -> bool:
        return name in self._kinds

    def capabilities(self, name: str) -> Capabilities:
        return self.get(name).capabilities

    def build(self, config: ChannelConfig, backend: ChannelBackend) -> Channel:
        return self.get(config.kind).factory(config, backend)


def _memory_factory(config: ChannelConfig, _backend: ChannelBackend) -> Channel:
    from wagate.channels.memory import MemoryChannel

    return MemoryChannel(config)


#: The in-memory test kind: every policy rule off, so tests of other features are not affected.
memory_kind = ChannelKind(
    name="memory",
    factory=_memory_factory,
    policy=NO_POLICY,
    description="in-process test channel (records sends)",
)


def default_registry(include_memory: bool = False) -> ChannelRegistry:
    """An empty registry, or one with the in-memory test kind (``include_memory``)."""
    registry = ChannelRegistry()
    if include_memory:
        registry.add(memory_kind)
    return registry
