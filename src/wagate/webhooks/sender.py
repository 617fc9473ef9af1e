"""The sender: claim due deliveries, POST them signed, record what happened.

* **Isolation.** Each target (a subscription, or the host of a per-message callback URL) has
  its own semaphore of ``webhook_target_concurrency`` requests in flight, and may hold up to
  eight times that many claims (so the next request never waits for a database round trip);
  the process holds at most ``webhook_concurrency`` claims. A receiver
  that hangs until the timeout fills only its own slots — the claim query skips full targets.
* **Each request** has one whole-request timeout, follows no redirects (a 3xx is a failure)
  and reads at most ``webhook_max_response_bytes`` of the answer.
* **Outcomes** are written in batches (one transaction for many attempts) and promote the next
  event of the same message. 2xx delivered; 410 from a subscription disables it and
  dead-letters what it had open; anything else is retried on the schedule, then dead-lettered.

The HTTP client is aiohttp: measured on this project's 2-core machine it sustains several times
the request rate of httpx with many concurrent connections (docs/performance.md, "Webhooks").
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import aiohttp
from sqlalchemy.engine import Connection

from wagate import __version__
from wagate.outbound import GuardedResolver, OutboundPolicy, OutboundRefused
from wagate.runtime import Runtime
from wagate.store.repos import webhooks as repo
from wagate.store.repos.webhooks import Claimed, Outcome
from wagate.webhooks import sleep_until
from wagate.webhooks.formats import Event, render
from wagate.webhooks.schedule import RetrySchedule
from wagate.webhooks.signer import signature_headers, webhook_id

log = logging.getLogger("wagate.webhooks")

IDLE_SECONDS = 30.0
#: Claims a target may hold, in multiples of its concurrency: refills come in batches of half.
PREFETCH = 8
MAINTENANCE_SECONDS = 30.0
MIN_LEASE_SECONDS = 15.0
#: What the delivery log keeps of an answer: this many characters of a text answer, nothing else.
RESPONSE_EXCERPT = 200
TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml")
USER_AGENT = f"wagate-webhooks/{__version__}"


def excerpt(content_type: str | None, data: bytes) -> str | None:
    """A short, readable trace of an answer for the delivery log: text only (an answer of another
    type is described, not kept), at most ``RESPONSE_EXCERPT`` characters."""
    if not data:
        return None
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if not kind.startswith(TEXT_TYPES):
        return f"({len(data)} bytes of {kind or 'unknown type'})"
    return data.decode("utf-8", "replace")[:RESPONSE_EXCERPT].replace("\x00", "\ufffd")


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    latency_ms: float
    error: str | None
    response: str | None


class Sender:
    def __init__(self, rt: Runtime, schedule: RetrySchedule | None = None) -> None:
        settings = rt.settings
        self.rt = rt
        self.schedule = schedule or RetrySchedule.of(settings.webhook_retry_schedule, settings.webhook_retry_jitter)
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.capacity = settings.webhook_concurrency
        self.per_target = settings.webhook_target_concurrency
        self.prefetch = PREFETCH * self.per_target
        self.timeout = settings.webhook_timeout_seconds
        self.max_response = settings.webhook_max_response_bytes
        #: A claim's lease: one attempt's timeout twice over plus a margin; renewed every third of it.
        self.lease_seconds = max(MIN_LEASE_SECONDS, 2 * self.timeout + 5)
        self.maintenance_seconds = min(MAINTENANCE_SECONDS, self.lease_seconds / 2)
        allow = settings.webhook_allow_private
        self.policy = OutboundPolicy(allow_private=allow, allow_loopback=allow)
        self._claimed: dict[str, int] = defaultdict(int)
        #: Targets whose last attempt failed hold no more claims than they can send at once, so a
        #: dead receiver ties up ``per_target`` claims at most, never a prefetch queue.
        self._struggling: set[str] = set()
        self._total = 0
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._secrets: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.capacity,
            limit_per_host=0,
            ttl_dns_cache=60,
            resolver=GuardedResolver(self.policy),  # every resolved address judged (wagate.outbound)
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"user-agent": USER_AGENT},
            trust_env=False,
            auto_decompress=False,
        )
        now = self.rt.clock.now()
        await self.rt.db.write(lambda c: repo.recover_expired(c, now))
        self._loops = [
            asyncio.create_task(self._claim_loop(), name="webhooks-claim"),
            asyncio.create_task(self._outcome_loop(), name="webhooks-outcomes"),
            asyncio.create_task(self._renew_loop(), name="webhooks-renew"),
        ]

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Finished attempts are written; unfinished claims go back untouched, due now.
        await self._flush_all()
        now = self.rt.clock.now()
        try:
            await self.rt.db.write(lambda c: repo.release_leases(c, self.owner, now))
        except Exception:
            log.exception("could not release webhook leases; they expire on their own")
        if self._session is not None:
            await self._session.close()
            self._session = None

    def poke(self) -> None:
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return self._total

    # -- claiming ----------------------------------------------------------------------------

    def _claim_job(self, now: datetime) -> Callable[[Connection], list[Claimed]] | None:
        """A claim for what there is room for, to run inside some transaction; ``None``: no room."""
        free = self.capacity - self._total
        if free <= 0:
            return None
        full = [target for target, n in self._claimed.items() if n >= self._limit(target)]
        room = {target: self._limit(target) - n for target, n in self._claimed.items() if n < self._limit(target)}
        room |= {target: self.per_target for target in self._struggling if target not in room and target not in full}
        # Short, and renewed while this sender lives (``_renew_loop``): a claim waiting behind its
        # target's other claims stays held, and a dead node's claims are free within one lease.
        lease = now + timedelta(seconds=self.lease_seconds)

        def job(conn: Connection) -> list[Claimed]:
            return repo.claim_due(
                conn,
                now=now,
                owner=self.owner,
                lease_until=lease,
                # Enough rows to fill every target with room, without reading a whole backlog.
                limit=min(free, sum(room.values()) + self.prefetch // 2),
                room=room,
                default_room=self.prefetch,
                full=full,
            )

        return job

    def _spawn(self, claimed: list[Claimed]) -> None:
        for item in claimed:
            self._claimed[item.target] += 1
            self._total += 1
            task = asyncio.create_task(self._deliver(item), name=f"webhook-{item.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def run_once(self) -> int:
        """Claim what there is room for and start sending it. Returns how many were claimed."""
        async with self._claiming:
            job = self._claim_job(self.rt.clock.now())
            if job is None:
                return 0
            claimed = await self.rt.db.write(job)
            self._spawn(claimed)
        return len(claimed)

    def _limit(self, target: str) -> int:
        return self.per_target if target in self._struggling else self.prefetch

    async def _claim_loop(self) -> None:
        last_maintenance = time.monotonic()
        while True:
            try:
                self._wake.clear()
                claimed = await self.run_once()
                if time.monotonic() - last_maintenance > self.maintenance_seconds:
                    last_maintenance = time.monotonic()
                    await self._maintenance()
                if claimed and self._total < self.capacity:
                    continue
                timeout = await self._idle_timeout()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook claim failed; retrying")
                timeout = 1.0
            await sleep_until(self._wake, timeout)

    async def _renew_loop(self) -> None:
        """Keep this sender's claims leased while it lives; a node that dies stops renewing, and
        any node's maintenance hands its claims out again once the short lease has run out."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not self._total:
                continue
            until = self.rt.clock.now() + timedelta(seconds=self.lease_seconds)
            try:
                await self.rt.db.write(partial(repo.renew_leases, owner=self.owner, lease_until=until))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not renew webhook leases; retrying")

    async def _idle_timeout(self) -> float:
        """Until the next due delivery of a target with room; full targets wake us as they drain."""
        full = [target for target, n in self._claimed.items() if n >= self._limit(target)]
        due = await self.rt.db.read(lambda c: repo.next_due(c, full))
        if due is None:
            return IDLE_SECONDS
        return max(0.0, min(IDLE_SECONDS, (due - self.rt.clock.now()).total_seconds()))

    async def _maintenance(self) -> None:
        now = self.rt.clock.now()

        def job(conn: Connection) -> int:
            return repo.recover_expired(conn, now) + repo.promote_orphans(conn, now)

        if await self.rt.db.write(job):
            self.poke()

    # -- sending -----------------------------------------------------------------------------

    def _semaphore(self, target: str) -> asyncio.Semaphore:
        semaphore = self._semaphores.get(target)
        if semaphore is None:
            semaphore = self._semaphores[target] = asyncio.Semaphore(self.per_target)
        return semaphore

    async def _deliver(self, item: Claimed) -> None:
        try:
            async with self._semaphore(item.target):
                outcome = await self._attempt(item)
            if outcome.result == "delivered":
                self._struggling.discard(item.target)
            elif outcome.result in ("retry", "gone"):
                self._struggling.add(item.target)
            self._outcomes.put_nowait(outcome)
        finally:
            self._claimed[item.target] -= 1
            if self._claimed[item.target] <= 0:
                self._claimed.pop(item.target, None)
            self._total -= 1
            left = self._claimed.get(item.target, 0)
            if left == self._limit(item.target) // 2 or item.target in self._struggling:
                self._wake.set()  # refill in batches, not one claim per finished request

    async def _attempt(self, item: Claimed) -> Outcome:
        attempt = item.attempts + 1
        if item.subscription_status != "active":
            return self._outcome(item, attempt, "dead", error="the subscription is disabled")
        if item.event_missing:
            return self._outcome(item, attempt, "dead", error="the event is no longer in the outbox")
        event = Event(
            id=item.event_id,
            tenant_id=item.tenant_id,
            type=item.event_type,
            message_id=item.message_id,
            payload=item.payload,
            created_at=item.event_created_at,
        )
        address = await self._channel_address(item) if item.event_type == "message.received" else None
        rendered = render(item.format, event, address)
        now = self.rt.clock.now()
        keys = [self._decrypt(item.secret)]
        if item.previous_secret and item.previous_secret_until and item.previous_secret_until > now:
            keys.append(self._decrypt(item.previous_secret))
        headers = signature_headers(webhook_id(item.event_id), rendered.body, now, keys)
        headers["content-type"] = rendered.content_type
        result = await self._post(item.url, rendered.body, headers)
        code = result.status_code
        if code is not None and 200 <= code < 300:
            return self._outcome(item, attempt, "delivered", result)
        if code == 410:
            return self._outcome(item, attempt, "gone", result)
        delay = self.schedule.next_delay(attempt)
        if delay is None:
            return self._outcome(item, attempt, "dead", result)
        return self._outcome(item, attempt, "retry", result, next_at=self.rt.clock.now() + timedelta(seconds=delay))

    def _decrypt(self, stored: str) -> str:
        plain = self._secrets.get(stored)
        if plain is None:
            if len(self._secrets) > 1000:
                self._secrets.clear()
            plain = self._secrets[stored] = self.rt.secret_box.decrypt(stored)
        return plain

    def _outcome(
        self,
        item: Claimed,
        attempt: int,
        kind: str,
        result: AttemptResult | None = None,
        *,
        error: str | None = None,
        next_at: datetime | None = None,
    ) -> Outcome:
        return Outcome(
            delivery_id=item.id,
            subscription_id=item.subscription_id,
            kind=item.kind,
            ordering_key=item.ordering_key,
            attempt=attempt,
            result=kind,
            at=self.rt.clock.now(),
            status_code=result.status_code if result else None,
            latency_ms=result.latency_ms if result else None,
            error=result.error if result else error,
            response=result.response if result else None,
            next_at=next_at,
        )

    async def _post(self, url: str, body: str, headers: dict[str, str]) -> AttemptResult:
        assert self._session is not None
        started = time.perf_counter()
        try:
            self.policy.check_url(url)  # literal addresses skip the resolver
            async with self._session.post(url, data=body.encode(), headers=headers, allow_redirects=False) as resp:
                data = await self._read_capped(resp)
                error = None
                if 300 <= resp.status < 400:
                    error = f"redirect not followed (Location: {resp.headers.get('location', '')[:200]})"
                elif not 200 <= resp.status < 300:
                    error = f"HTTP {resp.status}"
                return AttemptResult(resp.status, _ms(started), error, excerpt(resp.headers.get("content-type"), data))
        except OutboundRefused as exc:
            return AttemptResult(None, _ms(started), f"refused: {exc}"[:500], None)
        except TimeoutError:
            return AttemptResult(None, _ms(started), f"timeout after {self.timeout:g} s", None)
        except aiohttp.ClientConnectorError as exc:
            return AttemptResult(None, _ms(started), f"connection failed: {exc.os_error or exc}"[:500], None)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return AttemptResult(None, _ms(started), f"{type(exc).__name__}: {exc}"[:500], None)

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        """At most ``max_response`` bytes of the answer; the rest is never read."""
        chunks: list[bytes] = []
        size = 0
        while size < self.max_response:
            chunk = await resp.content.read(self.max_response - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    async def _channel_address(self, item: Claimed) -> str | None:
        """The business side of an incoming message (its channel's number, else its name)."""
        channel = item.payload.get("channel")
        if not isinstance(channel, str):
            return None
        try:
            rows = await self.rt.channels_of(item.tenant_id)
        except Exception:
            return channel
        row = rows.get(channel)
        if row is None:
            return channel
        for key in ("phone", "phone_number", "display_phone_number"):
            value = row.settings.get(key)
            if isinstance(value, str) and value.strip():
                return "".join(ch for ch in value if ch.isdigit()) or value
        return channel

    # -- recording ---------------------------------------------------------------------------

    async def _outcome_loop(self) -> None:
        while True:
            first = await self._outcomes.get()
            batch = [first]
            while not self._outcomes.empty() and len(batch) < 500:
                batch.append(self._outcomes.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[Outcome]) -> None:
        """Record a batch of attempts and, in the same transaction, claim the next deliveries:
        one commit per round instead of two — the commit is what a busy sender waits on."""
        while True:
            try:
                async with self._claiming:
                    now = self.rt.clock.now()
                    job = partial(_record_and_claim, batch, now, self.owner, self._claim_job(now))
                    promoted, claimed = await self.rt.db.write(job)
                    self._spawn(claimed)
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not record %d webhook attempts; retrying", len(batch))
                await asyncio.sleep(1.0)
        if promoted or any(o.result == "retry" for o in batch):
            self._wake.set()  # successors became due, or the next due time moved

    async def _flush_all(self) -> None:
        batch: list[Outcome] = []
        while not self._outcomes.empty():
            batch.append(self._outcomes.get_nowait())
        if batch:
            now = self.rt.clock.now()
            await self.rt.db.write(lambda c: repo.record_outcomes(c, batch, now, self.owner))


def _record_and_claim(
    batch: list[Outcome],
    now: datetime,
    owner: str,
    claim: Callable[[Connection], list[Claimed]] | None,
    conn: Connection,
) -> tuple[int, list[Claimed]]:
    promoted = repo.record_outcomes(conn, batch, now, owner)
    return promoted, claim(conn) if claim is not None else []


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
