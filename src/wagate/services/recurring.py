"""Recurring campaigns: a draft campaign as the pattern, repeated on a schedule as child campaigns.

Each planned run creates a **child campaign** through the same use case as ``POST /v1/campaigns``
(``services.campaigns.create_campaign``) from the pattern's settings and recipients — so each
run gets its own dry-run report with consent, templates and phones checked *at that run* — and
starts it. A run is **skipped** while the previous child is still sending (running or paused),
and recorded as such; a run whose child cannot be created (the template was deleted …) is
recorded as **failed** with the reason. Runs missed while no node was up are not made up: the
next run is the next one after now.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain import campaigns as domain
from wagate.domain.campaigns import CampaignSpec, Protection
from wagate.domain.recurrence import Recurrence
from wagate.errors import ConflictError, NotFoundError, WagateError
from wagate.runtime import Runtime
from wagate.services import campaigns as campaign_service
from wagate.services.campaign_import import RecipientFile
from wagate.store.campaign_tables import campaigns
from wagate.store.recurring_tables import campaign_runs, campaign_schedules
from wagate.store.repos import campaigns as campaign_repo
from wagate.store.repos import tenants as tenant_repo
from wagate.store.repos.tenants import Tenant
from wagate.store.tables import channels

log = logging.getLogger("wagate.recurring")

#: Child campaigns still sending: a run planned meanwhile is skipped.
STILL_SENDING = (domain.RUNNING, domain.PAUSED, domain.IMPORTING)
MAX_RECIPIENTS = 100_000
POLL_SECONDS = 15.0


def _schedule(conn: Connection, tenant_id: int, campaign_id: int) -> Any | None:
    s = campaign_schedules.c
    return conn.execute(
        sa.select(campaign_schedules).where(s.tenant_id == tenant_id, s.campaign_id == campaign_id)
    ).first()


def schedule_json(row: Any, runs: list[Any]) -> dict[str, Any]:
    return {
        "campaign_id": row.campaign_id,
        "recurrence": row.recurrence,
        "state": row.state,
        "next_run_at": row.next_run_at.isoformat() if row.next_run_at else None,
        "runs": [
            {
                "planned_at": r.planned_at.isoformat(),
                "outcome": r.outcome,
                "campaign_id": r.child_id,
                "reason": r.reason,
            }
            for r in runs
        ],
    }


async def set_schedule(rt: Runtime, tenant: Tenant, campaign_id: int, body: object) -> dict[str, Any]:
    """Make a draft campaign the pattern of a recurring one (or replace its schedule)."""
    now = rt.clock.now()
    pattern = await campaign_service.get_campaign(rt, tenant, campaign_id)
    if pattern.state != domain.DRAFT:
        raise ConflictError(
            "only a draft campaign can be the pattern of a recurring one", field="campaign_id", code="not_draft"
        )
    default_zone = str(pattern.timezone)
    zone = body.get("timezone") if isinstance(body, dict) and isinstance(body.get("timezone"), str) else None
    try:
        today = now.astimezone(ZoneInfo(zone or default_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        today = now.date()  # the parse below names the bad zone
    rule = Recurrence.parse(body, default_timezone=default_zone, today=today)
    next_run = rule.next_after(now)

    def job(conn: Connection) -> None:
        values = {
            "recurrence": rule.as_json(),
            "state": "active" if next_run else "ended",
            "next_run_at": next_run,
            "updated_at": now,
        }
        existing = _schedule(conn, tenant.id, campaign_id)
        if existing is None:
            conn.execute(
                campaign_schedules.insert().values(
                    tenant_id=tenant.id, campaign_id=campaign_id, created_at=now, **values
                )
            )
        else:
            conn.execute(campaign_schedules.update().where(campaign_schedules.c.id == existing.id).values(**values))

    await rt.db.write(job)
    return await get_schedule(rt, tenant, campaign_id)


async def get_schedule(rt: Runtime, tenant: Tenant, campaign_id: int) -> dict[str, Any]:
    def job(conn: Connection) -> dict[str, Any]:
        row = _schedule(conn, tenant.id, campaign_id)
        if row is None:
            raise NotFoundError(f"campaign {campaign_id} does not recur", field="campaign_id")
        runs = list(
            conn.execute(
                sa.select(campaign_runs).where(campaign_runs.c.schedule_id == row.id).order_by(campaign_runs.c.id)
            )
        )
        return schedule_json(row, runs)

    return await rt.db.read(job)


async def stop_schedule(rt: Runtime, tenant: Tenant, campaign_id: int) -> dict[str, Any]:
    now = rt.clock.now()

    def job(conn: Connection) -> None:
        row = _schedule(conn, tenant.id, campaign_id)
        if row is None:
            raise NotFoundError(f"campaign {campaign_id} does not recur", field="campaign_id")
        conn.execute(
            campaign_schedules.update()
            .where(campaign_schedules.c.id == row.id)
            .values(state="cancelled", next_run_at=None, updated_at=now)
        )

    await rt.db.write(job)
    return await get_schedule(rt, tenant, campaign_id)


async def list_schedules(rt: Runtime, tenant: Tenant, runs_each: int = 10) -> list[dict[str, Any]]:
    """Every schedule of the tenant with its pattern's name and its latest runs (newest first)."""

    def job(conn: Connection) -> list[dict[str, Any]]:
        s, c, r = campaign_schedules.c, campaigns.c, campaign_runs.c
        child = campaigns.alias("child")
        out: list[dict[str, Any]] = []
        rows = conn.execute(
            sa.select(campaign_schedules, c.name.label("pattern_name"))
            .join(campaigns, c.id == s.campaign_id)
            .where(s.tenant_id == tenant.id)
            .order_by(s.id.desc())
        )
        for row in rows:
            runs = list(
                conn.execute(
                    sa.select(campaign_runs, child.c.name.label("child_name"), child.c.state.label("child_state"))
                    .select_from(campaign_runs.outerjoin(child, child.c.id == r.child_id))
                    .where(r.schedule_id == row.id)
                    .order_by(r.id.desc())
                    .limit(runs_each)
                )
            )
            out.append({"schedule": row, "runs": runs})
        return out

    return await rt.db.read(job)


def _due(conn: Connection, now: datetime) -> list[Any]:
    s = campaign_schedules.c
    return list(
        conn.execute(
            sa.select(campaign_schedules).where(s.state == "active", s.next_run_at <= now).order_by(s.next_run_at)
        )
    )


def _claim(conn: Connection, row: Any, following: datetime | None, now: datetime) -> bool:
    """Move the schedule past this run; False if another node did it first."""
    result = conn.execute(
        campaign_schedules.update()
        .where(campaign_schedules.c.id == row.id, campaign_schedules.c.next_run_at == row.next_run_at)
        .values(next_run_at=following, state="active" if following else "ended", updated_at=now)
    )
    return bool(result.rowcount)


def _previous_child_state(conn: Connection, schedule_id: int) -> str | None:
    r, c = campaign_runs.c, campaigns.c
    return conn.execute(
        sa.select(c.state)
        .select_from(campaign_runs.join(campaigns, c.id == r.child_id))
        .where(r.schedule_id == schedule_id, r.outcome == "started")
        .order_by(r.id.desc())
        .limit(1)
    ).scalar()


def _pattern(conn: Connection, campaign_id: int) -> tuple[Any, str, list[dict[str, Any]]]:
    row = campaign_repo.get_campaign(conn, None, campaign_id)
    if row is None:
        raise NotFoundError(f"the pattern campaign {campaign_id} is gone", field="campaign_id")
    channel = conn.execute(sa.select(channels.c.name).where(channels.c.id == row.channel_id)).scalar_one()
    rows = [
        {"phone": r.phone, "name": r.name, "params": list(r.params or [])}
        for r in campaign_repo.list_recipients(conn, campaign_id, limit=MAX_RECIPIENTS)
    ]
    return row, str(channel), rows


async def run_due(rt: Runtime) -> int:
    """Start (or skip) every run that is due now; returns how many runs were recorded."""
    now = rt.clock.now()
    due = await rt.db.read(lambda conn: _due(conn, now))
    recorded = 0
    for row in due:
        rule = Recurrence.parse(row.recurrence, default_timezone="UTC", today=now.date())
        following = rule.next_after(now)
        planned = row.next_run_at
        if not await rt.db.write(functools.partial(_claim, row=row, following=following, now=now)):
            continue
        await _run(rt, row, planned, now)
        recorded += 1
    return recorded


async def _record(
    rt: Runtime, row: Any, planned: datetime, now: datetime, outcome: str, child: int | None, reason: str | None
) -> None:
    values = {
        "schedule_id": row.id,
        "planned_at": planned,
        "child_id": child,
        "outcome": outcome,
        "reason": reason,
        "created_at": now,
    }
    await rt.db.write(lambda conn: conn.execute(campaign_runs.insert().values(**values)))


async def _run(rt: Runtime, row: Any, planned: datetime, now: datetime) -> None:
    previous = await rt.db.read(lambda conn: _previous_child_state(conn, row.id))
    tenant = await rt.db.read(lambda conn: tenant_repo.get_tenant(conn, row.tenant_id))
    if tenant is None:
        return
    if previous in STILL_SENDING:
        await _record(rt, row, planned, now, "skipped", None, f"the previous run is still {previous}")
        return
    try:
        pattern, channel, recipients = await rt.db.read(lambda conn: _pattern(conn, row.campaign_id))
        local = planned.astimezone(ZoneInfo(str(row.recurrence["timezone"])))
        spec = CampaignSpec(
            name=f"{pattern.name} · {local:%Y-%m-%d %H:%M}"[:200],
            template=pattern.template_name,
            language=pattern.template_language,
            channel=channel,
            start_at=None,
            window={"start": pattern.window_start, "end": pattern.window_end} if pattern.window_start else None,
            timezone=pattern.timezone,
            max_in_flight=pattern.max_in_flight,
            protection=Protection.of(pattern.protection),
        )
        child = await campaign_service.create_campaign(rt, tenant, spec, RecipientFile(rows=recipients))
        await campaign_service.start(rt, tenant, int(child.id))
    except WagateError as exc:
        log.warning("recurring campaign %s: run failed: %s", row.campaign_id, exc.message)
        await _record(rt, row, planned, now, "failed", None, exc.message)
        return
    await _record(rt, row, planned, now, "started", int(child.id), None)


async def run_forever(rt: Runtime, interval: float = POLL_SECONDS) -> None:
    """Run due schedules every ``interval`` seconds of wall time (a failed pass is logged, not fatal)."""
    while True:
        try:
            await run_due(rt)
        except Exception:
            log.exception("recurring campaigns: a pass failed")
        await asyncio.sleep(interval)
