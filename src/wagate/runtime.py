"""Everything a running node shares, built once by ``create_app`` and passed explicitly.

No module-level engines or settings: tests build several runtimes side by side. Every field is
typed: the hooks the core and the plug-ins register (``Hooks``, wired in ``wagate.wiring``),
the node's metrics, short-lived caches (``Caches``), the registered channel kinds and their
running services, and the components plug-ins start (``Components``, looked up by class).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from wagate.channels.backend import ChannelBackend
from wagate.channels.base import Channel, ChannelConfig, OutgoingMessage
from wagate.channels.kind import KindService
from wagate.channels.registry import ChannelRegistry
from wagate.clock import Clock
from wagate.config import Settings
from wagate.crypto import SecretBox
from wagate.domain.records import ChannelRow, Principal, Tenant, User
from wagate.observability.metrics import Metrics
from wagate.signals import Signals
from wagate.store.database import Database
from wagate.store.repos import channels as channel_repo

T = TypeVar("T")

#: Runs inside the inbound message's transaction: ``hook(conn, rt, channel, message_id, phone, payload, now)``.
InboundHook = Callable[[Connection, "Runtime", ChannelRow, int, str, dict[str, Any], datetime], None]
#: Runs inside ``accept_messages``' transaction with the stored rows: ``hook(conn, rt, tenant, stored, now)``
#: where ``stored`` is ``[(message id, row values)]`` (e.g. conversations updated by operator replies).
OutboundHook = Callable[[Connection, "Runtime", Tenant, list[tuple[int, dict[str, Any]]], datetime], None]
#: Runs just before ``channel.send``: ``await guard(rt, channel_row, message)`` raises ``SendError``
#: to stop the send (e.g. the policy's service-window re-check, docs/policy.md).
SendGuard = Callable[["Runtime", ChannelRow, OutgoingMessage], Awaitable[None]]
#: ``listener(tenant_id, conversation_id)`` after a committed conversation change.
ChangeListener = Callable[[int, int], None]

CHANNEL_CACHE_SECONDS = 5.0
#: How long a replaced channel instance stays open for sends already in flight on it.
RETIRE_SECONDS = 30.0


def config_of(row: ChannelRow) -> ChannelConfig:
    """What a channel instance is built from (and how a kind's code names a channel)."""
    return ChannelConfig(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        kind=row.kind,
        settings=row.settings,
        pacing=row.pacing,
        policy=row.policy,
    )


class Wakeup:
    """In-process signal that new work exists; listeners also include the cross-node relays
    (PostgreSQL ``NOTIFY``, or Redis when ``redis_url`` is set)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.listeners: list[Callable[[], None]] = []

    def notify(self) -> None:
        self._event.set()
        for listener in self.listeners:
            listener()

    async def wait(self, timeout: float | None) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True


@dataclass
class Hooks:
    """The extension points of the core. The core's own hooks are installed by
    ``wagate.wiring.install_core``; plug-ins append theirs when they start (docs/architecture.md)."""

    #: Inside the transaction storing an inbound message (opt-out keywords, conversations, bots).
    inbound: list[InboundHook] = field(default_factory=list)
    #: Inside the transaction accepting outbound messages (conversations).
    outbound: list[OutboundHook] = field(default_factory=list)
    #: Just before a send (the service-window re-check).
    send_guards: list[SendGuard] = field(default_factory=list)
    #: After a committed conversation change (the dashboard's live updates).
    conversation_listeners: list[ChangeListener] = field(default_factory=list)
    #: After events were committed in this process (the webhook fan-out wakes up).
    webhook_pokes: list[Callable[[], None]] = field(default_factory=list)
    #: A campaign was started or resumed (the campaign runner wakes up).
    campaign_pokes: list[Callable[[], None]] = field(default_factory=list)
    #: When the server starts stopping, from its signal handler: must only schedule work.
    stopping: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class Caches:
    """Short-lived look-ups a node keeps in memory (each documents its own lifetime)."""

    #: API token hash → (monotonic time, principal) — ``api.deps``.
    auth: dict[str, tuple[float, Principal | None]] = field(default_factory=dict)
    #: Dashboard session → (monotonic time, user) — ``services.users``.
    sessions: dict[str, tuple[float, User | None]] = field(default_factory=dict)
    #: Campaign id → (monotonic time, stats) — ``services.campaigns``.
    campaign_stats: dict[int, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def forget_principals(self) -> None:
        """Drop cached callers: a change of tenant settings or tokens applies at once here."""
        self.auth.clear()
        self.sessions.clear()


class Components:
    """Objects plug-ins start (the dispatcher, relays, the webhook node, the dashboard broker …),
    looked up by their class: ``rt.components.get(Dispatcher)``. One per class."""

    def __init__(self) -> None:
        self._by_class: dict[type, object] = {}

    def add(self, component: object) -> None:
        self._by_class[type(component)] = component

    def find(self, cls: type[T]) -> T | None:
        found = self._by_class.get(cls)
        if found is None:
            found = next((c for c in self._by_class.values() if isinstance(c, cls)), None)
        return found if isinstance(found, cls) else None

    def get(self, cls: type[T]) -> T:
        found = self.find(cls)
        if found is None:
            raise LookupError(f"no {cls.__name__} runs on this node")
        return found


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    registry: ChannelRegistry
    wakeup: Wakeup = field(default_factory=Wakeup)
    #: What other nodes of the deployment announce, and what this one tells them (``wagate.signals``).
    signals: Signals = field(default_factory=Signals)
    metrics: Metrics = field(default_factory=Metrics)
    hooks: Hooks = field(default_factory=Hooks)
    caches: Caches = field(default_factory=Caches)
    components: Components = field(default_factory=Components)
    #: The pacing's random pauses; tests put a seeded one here.
    pacing_rng: random.Random = field(default_factory=random.Random)
    secrets: SecretBox | None = None
    #: What channels are given to talk to the gateway; the composition (``app.create_app``) sets it.
    backend: ChannelBackend | None = None
    #: The background services of the registered kinds, running (``ChannelKind.services``).
    kind_services: list[KindService] = field(default_factory=list)

    def kind_service(self, cls: type[T]) -> T | None:
        """The running service of a kind, by class (a kind's code finds its own state)."""
        return next((s for s in self.kind_services if isinstance(s, cls)), None)

    _channel_rows: dict[int, tuple[float, dict[str, ChannelRow]]] = field(default_factory=dict)
    _instances: dict[int, tuple[datetime, Channel]] = field(default_factory=dict)
    _retired: dict[asyncio.Task[None], Channel] = field(default_factory=dict)
    _build_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def channels_of(self, tenant_id: int, fresh: bool = False) -> dict[str, ChannelRow]:
        """The tenant's channels by name, cached briefly: every send looks them up."""
        cached = self._channel_rows.get(tenant_id)
        if cached and not fresh and time.monotonic() - cached[0] < CHANNEL_CACHE_SECONDS:
            return cached[1]
        rows = await self.db.read(lambda c: channel_repo.list_channels(c, tenant_id))
        by_name = {r.name: r for r in rows}
        self._channel_rows[tenant_id] = (time.monotonic(), by_name)
        return by_name

    @property
    def secret_box(self) -> SecretBox:
        """Encrypts channel credentials and webhook secrets at rest (see ``wagate.crypto``)."""
        if self.secrets is None:
            self.secrets = SecretBox.from_environment(self.settings.data_dir)
        return self.secrets

    def forget_channels(self, tenant_id: int) -> None:
        self._channel_rows.pop(tenant_id, None)

    async def channel_instance(self, row: ChannelRow) -> Channel:
        """The live channel object for a row, rebuilt when the row changed.

        The replaced instance is closed only after ``RETIRE_SECONDS``: a dispatcher task may be
        in the middle of a send on it, and closing its connection would make that send's fate
        unknown. Concurrent callers never build two instances of one row.
        """
        cached = self._instances.get(row.id)
        if cached and cached[0] == row.updated_at:
            return cached[1]
        async with self._build_lock:
            cached = self._instances.get(row.id)
            if cached and cached[0] == row.updated_at:
                return cached[1]
            if cached:
                self._retire(cached[1])
            return await self._build(row)

    def _retire(self, instance: Channel) -> None:
        async def close_later() -> None:
            await asyncio.sleep(RETIRE_SECONDS)
            await instance.close()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retired[task] = instance
        task.add_done_callback(lambda t: self._retired.pop(t, None))

    async def _build(self, row: ChannelRow) -> Channel:
        config = config_of(row)
        if self.backend is None:
            raise RuntimeError("the channel backend is set by create_app before channels are built")
        instance = self.registry.build(config, self.backend)
        await instance.start()
        self._instances[row.id] = (row.updated_at, instance)
        return instance

    async def close_channels(self) -> None:
        for task, instance in list(self._retired.items()):
            task.cancel()
            await instance.close()
        self._retired.clear()
        for _, instance in self._instances.values():
            await instance.close()
        self._instances.clear()
