"""Signals between the nodes of one deployment: the seam between plug-ins and a relay.

A node's components react to work that *another* node created: the dispatcher to a message
accepted elsewhere, the webhook fan-out and the dashboard to an event committed elsewhere, the
webhook sender to deliveries created elsewhere. Without a relay they notice on their idle
timers; a relay (``wagate.dispatch.redis_relay``) carries the signal at once.

Plug-ins never reach into the relay (which may not exist, or start after them): they
``on(kind, callback)`` for what other nodes announce and ``announce(kind)`` what they did, on
the ``Signals`` every ``Runtime`` has. A relay ``attach``es itself to carry announcements out and
calls ``receive(kind)`` for what it hears. Callbacks run on the event loop; keep them tiny
(poke an ``asyncio.Event``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Literal, get_args

log = logging.getLogger("wagate.signals")

#: ``wakeup``: new work for dispatchers (``rt.wakeup``); ``events``: rows committed that may be new
#: outbox events; ``deliveries``: webhook deliveries created, due now.
SignalKind = Literal["wakeup", "events", "deliveries"]
KINDS: tuple[SignalKind, ...] = get_args(SignalKind)


class Signals:
    def __init__(self) -> None:
        self._callbacks: dict[SignalKind, list[Callable[[], None]]] = {kind: [] for kind in KINDS}
        self._outlets: list[Callable[[SignalKind], None]] = []

    def on(self, kind: SignalKind, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever another node announces ``kind``."""
        self._callbacks[kind].append(callback)

    def off(self, kind: SignalKind, callback: Callable[[], None]) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks[kind].remove(callback)

    def announce(self, kind: SignalKind) -> None:
        """Tell the other nodes (through the attached relays, if any) that ``kind`` happened here."""
        for outlet in self._outlets:
            outlet(kind)

    def receive(self, kind: SignalKind) -> None:
        """A relay heard ``kind`` from another node: run this node's callbacks for it."""
        for callback in list(self._callbacks[kind]):
            try:
                callback()
            except Exception:  # one broken subscriber must not starve the others
                log.exception("signal callback failed", extra={"kind": kind})

    def attach(self, outlet: Callable[[SignalKind], None]) -> None:
        """A relay carries every later ``announce`` out of this process."""
        self._outlets.append(outlet)

    def detach(self, outlet: Callable[[SignalKind], None]) -> None:
        with contextlib.suppress(ValueError):
            self._outlets.remove(outlet)
