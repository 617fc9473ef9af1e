"""Cross-node signals through Redis pub/sub, when ``WAGATE_REDIS_URL`` is set (any database).

Nodes of one deployment share a database, so correctness never depends on this relay: pacing
is enforced by the claim transaction (``channel_pacing`` row lock), the webhook fan-out by the
outbox cursor. What the relay removes is *latency*: without it a node notices work that another
node created only on its idle timers (the webhook fan-out's 30 s; an idle dispatcher on SQLite
never). Three kinds of signal travel, one Redis channel each (``wagate.signals``):

* ``wakeup`` — every local ``rt.wakeup.notify()`` (a message accepted, a channel changed, a
  retry requeued); another node runs its ``rt.wakeup`` listeners (dispatcher, webhook fan-out,
  dashboard). Re-notifying locally what came from Redis is not published again (no echo).
* ``events`` — after every durable commit of this process (``Database.add_commit_listener``):
  new outbox events may be visible; another node pokes its fan-out and its dashboard broker.
* ``deliveries`` — this node's fan-out created webhook deliveries (``Signals.announce``);
  another node pokes its sender.

Every payload is the sender's token, so a process ignores its own. Bursts are coalesced per
kind: at most one PUBLISH in flight plus one pending, never one per commit. The channel names
carry the deployment id (``store.repos.deployment``): two deployments on one Redis, or parallel
test runs, never hear each other. Redis is an accelerator, not a dependency: unreachable at
start or later, the node logs a warning and keeps serving (local wake-ups still work, other
nodes fall back to their timers), reconnects with backoff (at most ``MAX_BACKOFF`` seconds
apart) and, once back, wakes itself once, since a signal may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from typing import Any

from prometheus_client import Counter as MetricCounter
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from wagate.runtime import Runtime
from wagate.signals import KINDS, SignalKind
from wagate.store.repos import deployment

log = logging.getLogger("wagate.dispatch.redis")

#: Seconds between reconnection attempts: doubling from the first, capped at the second.
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
#: A connect that takes longer fails (start-up waits for one attempt at most this long).
CONNECT_TIMEOUT = 2.0
#: Socket timeout of the publishing connection: a hung Redis must not hold a PUBLISH forever.
IO_TIMEOUT = 5.0
#: The subscriber's read returns empty-handed this often (the loop then simply reads again).
READ_SECONDS = 30.0
#: Errors that mean "Redis is not reachable right now" (the relay degrades, never fails the node).
UNREACHABLE = (RedisError, OSError, TimeoutError)


def channel_names(namespace: str) -> dict[SignalKind, str]:
    """The Redis channels of one deployment: ``wagate:<deployment id>:<kind>``."""
    return {kind: f"wagate:{namespace}:{kind}" for kind in KINDS}


class RedisRelay:
    """One per node: ``rt.components.get(RedisRelay)`` (readiness, tests)."""

    def __init__(self, rt: Runtime) -> None:
        if not rt.settings.redis_url:
            raise ValueError("redis_url is not set")
        self.rt = rt
        self.url: str = rt.settings.redis_url
        self.token = uuid.uuid4().hex
        self._token_bytes = self.token.encode()
        self.namespace = ""
        self.channels: dict[SignalKind, str] = {}
        self._kind_of: dict[bytes, SignalKind] = {}
        #: Whether the subscription is up (``/readyz`` reports it).
        self.connected = False
        #: Signals heard from other nodes, published by this one, and this one's own heard back (ignored).
        self.received: Counter[SignalKind] = Counter()
        self.published: Counter[SignalKind] = Counter()
        self.own_heard = 0
        self.reconnects = 0
        self._publisher: Redis | None = None
        self._subscriber: Redis | None = None
        self._relaying = False
        self._closing = False
        self._publish_failing = False
        self._in_flight: set[SignalKind] = set()
        self._pending: set[SignalKind] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._metric: MetricCounter | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe (one attempt, bounded by ``CONNECT_TIMEOUT``), then relay in the background."""
        self._loop = asyncio.get_running_loop()
        now = self.rt.clock.now()
        self.namespace = await self.rt.db.write(lambda c: deployment.ensure_deployment_id(c, now))
        self.channels = channel_names(self.namespace)
        self._kind_of = {name.encode(): kind for kind, name in self.channels.items()}
        self._metric = _received_counter(self.rt)
        common: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT}
        if not self.url.startswith("unix://"):  # TCP only: a Unix socket connection refuses the option
            common["socket_keepalive"] = True
        # The publisher retries once: its pooled connection may be stale after a Redis restart.
        self._publisher = Redis.from_url(self.url, socket_timeout=IO_TIMEOUT, retry=Retry(NoBackoff(), 1), **common)
        # The subscriber never reconnects behind our back: we must know, to wake up after a gap.
        self._subscriber = Redis.from_url(self.url, retry=Retry(NoBackoff(), 0), **common)
        pubsub: PubSub | None = None
        try:
            pubsub = await self._subscribe()
        except UNREACHABLE as exc:
            log.warning(
                "Redis (redis_url) is unreachable (%s): serving without cross-node signals, "
                "other nodes wake on their timers; reconnecting in the background",
                exc,
            )
            self._publish_failing = True  # one warning, not one per commit until it is back
        self.rt.wakeup.listeners.append(self._on_local_wakeup)
        self.rt.db.add_commit_listener(self._on_commit)
        self.rt.signals.attach(self._publish_soon)
        self._listener = self._loop.create_task(self._listen(pubsub), name="wagate-redis-relay")

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(ValueError):
            self.rt.wakeup.listeners.remove(self._on_local_wakeup)
        self.rt.signals.detach(self._publish_soon)
        tasks = list(self._tasks) + ([self._listener] if self._listener else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in (self._publisher, self._subscriber):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()
        self._publisher = self._subscriber = None
        self.connected = False

    # -- receiving -------------------------------------------------------------------------------

    async def _subscribe(self) -> PubSub:
        """A fresh subscription to every channel, confirmed by Redis before this returns."""
        assert self._subscriber is not None
        pubsub = self._subscriber.pubsub()
        try:
            await pubsub.subscribe(*self.channels.values())
            confirmed = 0
            while confirmed < len(self.channels):
                message = await pubsub.get_message(timeout=IO_TIMEOUT)
                if message is None:
                    raise TimeoutError("Redis did not confirm the subscription")
                if message["type"] == "subscribe":
                    confirmed += 1
                else:
                    self._dispatch(message)
        except BaseException:
            await _discard(pubsub)
            raise
        self.connected = True
        self._publish_failing = False  # Redis is back: publishing is worth trying again
        return pubsub

    async def _listen(self, pubsub: PubSub | None) -> None:
        delay = FIRST_BACKOFF
        try:
            while not self._closing:
                if pubsub is None:
                    await asyncio.sleep(delay)
                    try:
                        pubsub = await self._subscribe()
                    except UNREACHABLE as exc:
                        log.debug("Redis still unreachable (%s); next attempt in %.1f s", exc, delay)
                        delay = min(delay * 2, MAX_BACKOFF)
                        continue
                    delay = FIRST_BACKOFF
                    self.reconnects += 1
                    log.info("Redis reachable again: cross-node signals resumed")
                    self._wake_locally()
                try:
                    message = await pubsub.get_message(timeout=READ_SECONDS)
                except UNREACHABLE as exc:
                    self.connected = False
                    log.warning("lost the Redis connection (%s): other nodes wake on their timers; reconnecting", exc)
                    await _discard(pubsub)
                    pubsub = None
                    continue
                if message is not None:
                    self._dispatch(message)
        finally:
            if pubsub is not None:
                await _discard(pubsub)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        kind = self._kind_of.get(message["channel"])
        if kind is None:
            return
        if message["data"] == self._token_bytes:
            self.own_heard += 1
            return
        self.received[kind] += 1
        if self._metric is not None:
            self._metric.labels(kind).inc()
        if kind == "wakeup":
            self._notify_locally()
        self.rt.signals.receive(kind)

    def _notify_locally(self) -> None:
        """``rt.wakeup.notify()`` without publishing it again (our own listener skips it)."""
        self._relaying = True
        try:
            self.rt.wakeup.notify()
        finally:
            self._relaying = False

    def _wake_locally(self) -> None:
        """After a gap in the subscription: act as if every kind had been heard once."""
        self._notify_locally()
        for kind in KINDS:
            self.rt.signals.receive(kind)

    # -- publishing ------------------------------------------------------------------------------

    def _on_local_wakeup(self) -> None:
        if not self._relaying:
            self._publish_soon("wakeup")

    def _on_commit(self) -> None:
        """From the SQLite writer thread (or the loop on PostgreSQL): hop onto the loop."""
        if self._closing or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self._loop.call_soon_threadsafe(self._publish_soon, "events")

    def _publish_soon(self, kind: SignalKind) -> None:
        """Coalesce: one PUBLISH of ``kind`` in flight, plus at most one pending behind it."""
        if self._closing or self._loop is None:
            return
        if self._publish_failing and not self.connected:
            return  # Redis is down: the subscriber's reconnect resumes publishing
        if kind in self._in_flight:
            self._pending.add(kind)
            return
        self._in_flight.add(kind)
        task = self._loop.create_task(self._publish(kind))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, kind: SignalKind) -> None:
        try:
            while True:
                self._pending.discard(kind)
                publisher = self._publisher
                if publisher is None:
                    return
                try:
                    await publisher.publish(self.channels[kind], self.token)
                except UNREACHABLE as exc:
                    if not self._publish_failing:
                        log.warning("PUBLISH to Redis failed (%s): other nodes wake on their timers", exc)
                    self._publish_failing = True
                    return
                self.published[kind] += 1
                if kind not in self._pending:
                    return
        finally:
            self._in_flight.discard(kind)


async def _discard(pubsub: PubSub) -> None:
    with contextlib.suppress(Exception):
        await pubsub.aclose()  # type: ignore[no-untyped-call]


def _received_counter(rt: Runtime) -> MetricCounter | None:
    return rt.metrics.counter(
        "wagate_redis_signals_received_total",
        "Signals received from other nodes of the deployment through Redis",
        ["kind"],
    )
