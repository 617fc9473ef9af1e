"""The campaign runner: feeds running campaigns into the message queue, a bounded batch at a time.

A campaign of 100,000 recipients never becomes 100,000 queued messages. Each step looks at
one running campaign and, in this order:

1. waits for its start time, or for a limit to reset (``hold_until``);
2. outside its sending window, pulls its queued messages back and waits for the window;
3. marks it ``completed`` when nothing is pending and nothing is left in the queue;
4. asks ban protection whether the last messages' opt-out or failure rate passed its
   threshold, and if so pauses it (with ``paused_reason`` and a ``campaign.paused`` event);
5. tops its messages in the queue up to ``max_in_flight``: the next pending recipients in
   file order become messages through ``services.messages.accept_messages`` (origin
   ``campaign``), so the policy judges each one again and the dispatcher's per-channel pacing
   and caps apply — and each recipient turns ``enqueued`` with its message id **in the same
   transaction** that creates the message. A recipient is therefore never sent twice, across
   pauses, restarts and several nodes (the conditional update of a recipient taken by another
   node undoes the whole batch).

The loop polls every ``interval`` seconds of real time, and every ``busy_interval`` (0.1 s)
while a campaign is sending (running, inside its window, not held, recipients pending): a
campaign moves only as fast as it is topped up, and at one step a second a ``max_in_flight``
of 50 would cap it at 50 messages/s whatever the channel's pacing allows. It is poked on start
and resume. (The business clock is ``rt.clock``, so tests drive ``step`` with a ``FakeClock``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Connection

from wagate.domain import campaigns as domain
from wagate.domain.campaigns import Protection, SendingWindow, check_protection
from wagate.domain.consent import REVOKED
from wagate.domain.limits import day_of
from wagate.domain.messages import OutboundDraft
from wagate.domain.policy import TenantPolicy
from wagate.domain.records import Tenant
from wagate.errors import WagateError
from wagate.runtime import Runtime
from wagate.services import campaigns as service
from wagate.services.messages import Accepted, Outcome, accept_messages
from wagate.store.repos import campaigns as repo
from wagate.store.repos import consents as consent_repo
from wagate.store.repos import tenants as tenant_repo

log = logging.getLogger("wagate.campaigns")

#: Errors that are about the campaign, not the recipient: the campaign pauses, nobody is refused.
BLOCKERS = frozenset(
    {"template_not_found", "template_language_not_found", "template_not_approved", "unknown_channel", "no_channel"}
)
CLEANUP_SECONDS = 60.0


class _Blocked(Exception):
    def __init__(self, error: WagateError) -> None:
        super().__init__(error.message)
        self.error = error


class _Moved(Exception):
    """The campaign left ``running`` while a batch was being prepared: the batch is undone."""


def _render(_outcomes: list[Outcome]) -> tuple[int, Any]:
    return 0, None


class CampaignRunner:
    def __init__(self, rt: Runtime, *, interval: float = 1.0, busy_interval: float = 0.1) -> None:
        self.rt = rt
        self.interval = interval
        self.busy_interval = min(busy_interval, interval)
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._poke = asyncio.Event()
        self._stopping = False
        self._last_cleanup = 0.0

    def poke(self) -> None:
        self._poke.set()

    @property
    def poll_interval(self) -> float:
        """How long the loop waits before its next step (see the module docstring)."""
        return self.busy_interval if self._busy else self.interval

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="campaign-runner")

    async def stop(self) -> None:
        self._stopping = True
        self._poke.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
                if time.monotonic() - self._last_cleanup > CLEANUP_SECONDS:
                    self._last_cleanup = time.monotonic()
                    await service.remove_stale_imports(self.rt)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("campaign runner step failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self.poll_interval)
            self._poke.clear()

    async def run_once(self) -> int:
        """One step of every running campaign; returns how many messages were enqueued."""
        ids = await self.rt.db.read(repo.running)
        self._busy = False  # set by a step that finds a campaign sending (not waiting for a time)
        total = 0
        for campaign_id in ids:
            total += await self.step(campaign_id)
        return total

    async def step(self, campaign_id: int) -> int:
        """Advance one campaign as the module docstring says; returns the messages enqueued."""
        rt = self.rt
        now = rt.clock.now()
        campaign = await rt.db.read(lambda c: repo.get_campaign(c, None, campaign_id))
        if campaign is None or campaign.state != domain.RUNNING:
            return 0
        if campaign.start_at is not None and now < campaign.start_at:
            await self._wait(campaign, "start_at", campaign.start_at)
            return 0
        if campaign.hold_until is not None and now < campaign.hold_until:
            return 0
        if campaign.window_start and campaign.window_end:
            window = SendingWindow.parse(f"{campaign.window_start}-{campaign.window_end}", campaign.timezone)
            assert window is not None
            if not window.is_open(now):
                await self._outside_window(campaign, window.next_open(now))
                return 0
        if campaign.waiting in ("start_at", "window"):
            await self._wait(campaign, None, None)  # that wait is over
        in_flight = await rt.db.read(lambda c: repo.in_flight(c, campaign.id, campaign.channel_id))
        if not await rt.db.read(lambda c: repo.has_pending(c, campaign.id)):
            if in_flight == 0:
                await self._complete(campaign_id)
            return 0
        self._busy = True
        protection = Protection.of(campaign.protection)
        sample = await rt.db.read(lambda c: repo.protection_sample(c, campaign, protection.window))
        trip = check_protection(protection, sample)
        if trip is not None:
            await self._pause(campaign_id, trip.code, trip.reason)
            return 0
        room = campaign.max_in_flight - in_flight
        if room <= 0:
            return 0
        batch = await rt.db.read(lambda c: repo.next_pending(c, campaign.id, room))
        tenant = await rt.db.read(lambda c: tenant_repo.get_tenant(c, campaign.tenant_id))
        assert tenant is not None
        return await self._enqueue(campaign, tenant, batch)

    async def _enqueue(self, campaign: Any, tenant: Tenant, batch: list[Any]) -> int:
        rt = self.rt
        phones = [r.phone for r in batch]
        consents = await rt.db.read(lambda c: consent_repo.states(c, tenant.id, phones))
        # Campaigns never write to a client who opted out, whatever the channel's consent mode.
        skip = [r for r in batch if (s := consents.get(r.phone)) is not None and s.status == REVOKED]
        skipped = {r.id for r in skip}
        send = [r for r in batch if r.id not in skipped]
        drafts = [
            OutboundDraft(
                to=r.phone,
                type="template",
                channel=campaign.channel_name,
                template={"name": campaign.template_name, "language": campaign.template_language, "params": r.params},
                origin="campaign",
                client_ref=f"campaign:{campaign.id}:{r.line}",
            )
            for r in send
        ]
        held: list[str] = []
        enqueued: list[int] = []
        now = rt.clock.now()

        def in_transaction(conn: Connection, outcomes: list[Outcome]) -> None:
            current = repo.get_campaign(conn, None, campaign.id, lock=True)
            if current is None or current.state != domain.RUNNING:
                raise _Moved()
            # Under the campaign's row lock, what other runners committed is visible: if their
            # batches and this one together pass max_in_flight, this one is undone (the next
            # step tops up from the real count). The count includes this batch's own messages.
            if repo.in_flight(conn, campaign.id, campaign.channel_id) > current.max_in_flight:
                raise _Moved()
            for recipient in skip:
                repo.mark_refused(conn, recipient.id, "opted_out")
            for recipient, outcome in zip(send, outcomes, strict=True):
                if isinstance(outcome, Accepted):
                    repo.mark_enqueued(conn, recipient.id, outcome.id, now)
                    enqueued.append(outcome.id)
                elif outcome.code in BLOCKERS:
                    raise _Blocked(outcome)
                elif outcome.code in domain.TRANSIENT_REFUSALS:
                    held.append(outcome.code)  # stays pending: tried again when the limit resets
                else:
                    repo.mark_refused(conn, recipient.id, outcome.code)
            if held:
                until = self._limit_resets(tenant, held[0], now)
                repo.update_campaign(conn, campaign.id, {"waiting": held[0], "hold_until": until, "updated_at": now})
            elif current.waiting is not None:
                repo.update_campaign(conn, campaign.id, {"waiting": None, "hold_until": None, "updated_at": now})

        try:
            await accept_messages(
                rt, tenant, drafts, render=_render, campaign_id=campaign.id, in_transaction=in_transaction
            )
        except _Blocked as blocked:
            await self._pause(campaign.id, "blocked", f"{blocked.error.code}: {blocked.error.message}")
            return 0
        except _Moved:
            return 0
        except WagateError as exc:  # another node took these recipients first: nothing of ours was stored
            log.info("campaign %s batch undone: %s", campaign.id, exc.message)
            return 0
        return len(enqueued)

    @staticmethod
    def _limit_resets(tenant: Tenant, code: str, now: datetime) -> datetime:
        if code == "daily_cap_exceeded":
            return day_of(now, TenantPolicy.of(tenant.settings).timezone)[2]
        return now + domain.TIER_WAIT

    async def _wait(self, campaign: Any, reason: str | None, until: datetime | None) -> None:
        if campaign.waiting == reason and campaign.hold_until == until:
            return
        now = self.rt.clock.now()
        await self.rt.db.write(
            lambda c: repo.update_campaign(
                c, campaign.id, {"waiting": reason, "hold_until": until, "updated_at": now}, state=domain.RUNNING
            )
        )

    async def _outside_window(self, campaign: Any, opens: datetime) -> None:
        """Nothing may leave outside the window: queued messages come back and wait for it to open."""
        now = self.rt.clock.now()

        def job(conn: Connection) -> None:
            current = repo.get_campaign(conn, None, campaign.id, lock=True)
            if current is None or current.state != domain.RUNNING:
                return
            repo.pull_back(conn, campaign.id, campaign.channel_id, now, "campaign sending window closed")
            repo.update_campaign(conn, campaign.id, {"waiting": "window", "hold_until": opens, "updated_at": now})

        await self.rt.db.write(job)

    async def _pause(self, campaign_id: int, code: str, reason: str) -> None:
        now = self.rt.clock.now()

        def job(conn: Connection) -> None:
            current = repo.get_campaign(conn, None, campaign_id, lock=True)
            if current is not None and current.state == domain.RUNNING:
                service.pause_in(conn, current, code, reason, now)

        await self.rt.db.write(job)
        log.warning("campaign %s paused: %s", campaign_id, reason)

    async def _complete(self, campaign_id: int) -> None:
        now = self.rt.clock.now()

        def job(conn: Connection) -> None:
            current = repo.get_campaign(conn, None, campaign_id, lock=True)
            if current is None or current.state != domain.RUNNING:
                return
            if repo.has_pending(conn, campaign_id) or repo.in_flight(conn, campaign_id, current.channel_id):
                return
            repo.update_campaign(
                conn,
                campaign_id,
                {"state": domain.COMPLETED, "finished_at": now, "waiting": None, "hold_until": None, "updated_at": now},
                state=domain.RUNNING,
            )

        await self.rt.db.write(job)


Plugin = Callable[[Runtime, FastAPI], Awaitable[Callable[[], Awaitable[None]] | None]]


def campaigns_plugin(*, interval: float = 1.0, background: bool = True) -> Plugin:
    """The plug-in for ``create_app``: the runner (``create_app`` mounts ``/v1/campaigns``).
    ``background=False`` installs the runner without its loop, for tests that drive ``step`` themselves."""

    async def plugin(rt: Runtime, app: FastAPI) -> Callable[[], Awaitable[None]] | None:
        runner = CampaignRunner(rt, interval=interval)
        rt.components.add(runner)
        rt.hooks.campaign_pokes.append(runner.poke)
        if not background:
            return None
        await runner.start()
        return runner.stop

    return plugin
