"""Everything a running node shares, built once by ``create_app`` and passed explicitly.

No module-level engines or settings: tests build several runtimes side by side.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wagate.channels.backend import ChannelBackend
from wagate.channels.base import Channel, ChannelConfig
from wagate.channels.kind import KindService
from wagate.channels.registry import ChannelRegistry
from wagate.clock import Clock
from wagate.config import Settings
from wagate.crypto import SecretBox
from wagate.signals import Signals
from wagate.store.database import Database
from wagate.store.repos import channels as channel_repo
from wagate.store.repos.channels import ChannelRow

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
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    registry: ChannelRegistry
    wakeup: Wakeup = field(default_factory=Wakeup)
    #: What other nodes of the deployment announce, and what this one tells them (``wagate.signals``).
    signals: Signals = field(default_factory=Signals)
    extras: dict[str, Any] = field(default_factory=dict)
    secrets: SecretBox | None = None
    #: What channels are given to talk to the gateway; the composition (``app.create_app``) sets it.
    backend: ChannelBackend | None = None
    #: The background services of the registered kinds, running (``ChannelKind.services``).
    kind_services: list[KindService] = field(default_factory=list)
    _channel_rows: dict[int, tuple[float, dict[str, ChannelRow]]] = field(default_factory=dict)
    _instances: dict[int, tuple[Any, Channel]] = field(default_factory=dict)
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
