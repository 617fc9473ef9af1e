"""``ChannelKind``: one object that says everything the gateway needs to know about a kind.

A kind's package builds one descriptor (``cloud.KIND``, ``device.KIND`` …) and a node
registers it with one line (``registry.add(KIND)``, see ``wagate.node``). Nothing outside a
kind's package asks for a kind by name: the gateway reads the descriptor — its defaults, its
capabilities, the routers it mounts and the services it runs — through the registry. How to
add a kind: docs/architecture.md, "Adding a channel kind".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter

from wagate.channels.backend import ChannelBackend
from wagate.channels.base import Channel, ChannelConfig
from wagate.crypto import SecretBox
from wagate.domain.channels import STRICT_POLICY
from wagate.domain.pacing import PROVIDER_PACING

if TYPE_CHECKING:
    from wagate.runtime import Runtime

__all__ = ["Capabilities", "ChannelFactory", "ChannelKind", "KindService", "SettingsPreparer"]

#: Builds a live channel from its row, with the gateway's backend.
ChannelFactory = Callable[[ChannelConfig, ChannelBackend], Channel]
#: Turns settings as an admin sent them into settings to store: validate, encrypt secrets.
SettingsPreparer = Callable[[dict[str, Any], SecretBox], dict[str, Any]]


class KindService(Protocol):
    """A background task a kind runs while the node is up (a sweeper, a presence monitor)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


#: Builds a kind's service from the node's runtime (a type reference only: the runtime sits
#: above the channel contract, see docs/architecture.md, "Layers").
ServiceFactory = Callable[["Runtime"], KindService]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a kind can do; the gateway decides with these, never with the kind's name."""

    #: The dispatcher pushes messages through ``Channel.send``. False: the kind's clients pull
    #: their work (``ChannelBackend.claim``), as the Android device does.
    push: bool = True
    #: Re-sending a message whose fate is unknown cannot duplicate it (results keyed by message
    #: id), so an expired lease is offered again instead of becoming ``unknown``.
    resend_safe: bool = False
    #: Templates come from the provider (``Channel.list_templates``, synced); local ones are refused.
    provider_templates: bool = False
    read_receipts: bool = False
    typing: bool = False
    groups: bool = False
    #: ``Channel.check_phone`` can tell whether a number is on WhatsApp.
    phone_check: bool = False
    #: The channel keeps a logged-in session (a phone, WhatsApp Web) and reports its state.
    holds_session: bool = False


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """One channel kind (see the module docstring)."""

    name: str
    factory: ChannelFactory
    capabilities: Capabilities = field(default_factory=Capabilities)
    #: Default pacing (every key of ``domain.pacing``): a profile such as ``PROVIDER_PACING``.
    pacing: Mapping[str, Any] = field(default_factory=lambda: dict(PROVIDER_PACING))
    #: Default policy: a profile such as ``STRICT_POLICY`` (``domain.channels``).
    policy: Mapping[str, Any] = field(default_factory=lambda: dict(STRICT_POLICY))
    #: Settings that are credentials: masked by the API (besides anything named like one).
    secret_fields: tuple[str, ...] = ()
    #: Validation (and encryption at rest) of settings before they are stored.
    prepare_settings: SettingsPreparer | None = None
    #: The routers the kind mounts (built lazily, once per app), e.g. a webhook receiver.
    routers: Callable[[], Sequence[APIRouter]] | None = None
    #: Background services the node runs for the kind, started after the routers are mounted.
    services: tuple[ServiceFactory, ...] = ()
    #: A dashboard template shown under each channel of the kind on the operations page (its
    #: devices, its session), rendered with the row as ``r``; None: nothing kind-specific.
    dashboard_panel: str | None = None
    #: The kind's own tables (their migrations live with the others, ``store/migrations``).
    tables: tuple[str, ...] = ()
    #: One line for operators and the API's error messages.
    description: str = ""

    def settings_for_storage(self, settings: dict[str, Any], box: SecretBox) -> dict[str, Any]:
        return self.prepare_settings(settings, box) if self.prepare_settings is not None else settings
