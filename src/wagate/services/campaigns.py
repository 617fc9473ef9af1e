"""Campaigns: create (import + dry run), start, pause, resume, cancel, and the live view.

Every state change is one transaction that re-reads the campaign under its row lock, so an
API call racing the background runner (``services.campaign_runner``) or another node ends
in one clear state: a pause that wins pulls the queued messages back; an enqueue that loses
is undone whole. Sending itself is the runner's: it hands messages to the normal queue
(``services.messages.accept_messages``), where the channel's pacing and caps apply.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain import campaigns as domain
from wagate.domain.campaigns import CampaignSpec, Protection, SendingWindow, build_stats
from wagate.errors import ConflictError, NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.services import pricing as pricing_service
from wagate.services.campaign_import import Importer, RecipientFile, consent_mode, find_template
from wagate.services.messages import resolve_channel
from wagate.store.repos import campaigns as repo
from wagate.store.repos.events import append_event
from wagate.store.repos.tenants import Tenant
from wagate.store.tables import messages

log = logging.getLogger("wagate.campaigns")

#: How long the statistics of a large campaign (in rows of its file) are reused.
STATS_SECONDS = 1.0
LARGE_CAMPAIGN = 20_000
#: An import nobody has touched for this long died with its process and is removed.
STALE_IMPORT = timedelta(minutes=10)


def runner_of(rt: Runtime) -> Any:
    """The node's campaign runner, if its plug-in is installed (it is poked on start/resume)."""
    return rt.extras.get("campaign_runner")


def _poke(rt: Runtime) -> None:
    runner = runner_of(rt)
    if runner is not None:
        runner.poke()


# ---------------------------------------------------------------- create


async def create_campaign(rt: Runtime, tenant: Tenant, spec: CampaignSpec, source: RecipientFile) -> Any:
    """Validate the settings, read every row, store the recipients and the dry-run report: a ``draft``.

    Raises ``ValidationError`` (naming ``file`` for problems with the file itself) and leaves
    nothing behind when the file cannot be read.
    """
    channel = await resolve_channel(rt, tenant, spec.channel)
    template = await find_template(rt, tenant, spec, channel)
    timezone = domain.resolve_timezone(spec.timezone, tenant.settings)
    window = SendingWindow.parse(spec.window, timezone)
    try:
        rows = await asyncio.to_thread(source.open, template.param_count)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "the file is neither UTF-8 nor Windows-1251 text", field="file", code="csv_encoding"
        ) from exc
    except csv.Error as exc:
        raise ValidationError(f"the file is not CSV: {exc}", field="file", code="csv_malformed") from exc
    now = rt.clock.now()
    values = {
        "tenant_id": tenant.id,
        "channel_id": channel.id,
        "name": spec.name or source.filename or f"{template.name} {now:%Y-%m-%d %H:%M}",
        "state": domain.IMPORTING,
        "template_name": template.name,
        "template_language": template.language,
        "template_category": template.category,
        "consent_scope": template.required_scope,
        "timezone": timezone,
        "window_start": window.start.strftime("%H:%M") if window else None,
        "window_end": window.end.strftime("%H:%M") if window else None,
        "start_at": spec.start_at,
        "max_in_flight": spec.max_in_flight,
        "protection": spec.protection.as_json(),
        "report": {},
        "source": {},
        "created_at": now,
        "updated_at": now,
    }
    campaign_id = await rt.db.write(lambda c: repo.insert_campaign(c, values))
    try:
        report = await Importer(rt, tenant, campaign_id, channel, template).run(rows)
    except BaseException:
        await rt.db.write(lambda c: repo.delete_campaign(c, campaign_id))
        raise
    finally:
        source.release()
    summary = report.as_json()
    summary["consent_mode"] = consent_mode(channel)
    summary["consent_scope"] = template.required_scope
    summary["cost_estimate"] = await pricing_service.campaign_estimate(
        rt, tenant, campaign_id, template.category, channel.kind
    )
    done = rt.clock.now()
    await rt.db.write(
        lambda c: repo.update_campaign(
            c,
            campaign_id,
            {"state": domain.DRAFT, "report": summary, "source": source.describe(), "updated_at": done},
            state=domain.IMPORTING,
        )
    )
    return await get_campaign(rt, tenant, campaign_id)


# ---------------------------------------------------------------- views


async def get_campaign(rt: Runtime, tenant: Tenant, campaign_id: int) -> Any:
    row = await rt.db.read(lambda c: repo.get_campaign(c, tenant.id, campaign_id))
    if row is None or row.state == domain.IMPORTING:
        raise NotFoundError(f"campaign {campaign_id} not found", field="id")
    return row


async def list_campaigns(
    rt: Runtime, tenant: Tenant, *, state: str | None, before_id: int | None, limit: int
) -> list[Any]:
    return await rt.db.read(lambda c: repo.list_campaigns(c, tenant.id, state=state, before_id=before_id, limit=limit))


async def stats(rt: Runtime, campaign: Any) -> dict[str, Any]:
    """Live numbers (``domain.campaigns.build_stats``). A large campaign's numbers are reused for
    ``STATS_SECONDS``: a progress bar polls every second, and counting 100,000 rows takes a while."""
    large = int((campaign.report or {}).get("rows", 0)) >= LARGE_CAMPAIGN
    cache: dict[int, tuple[float, dict[str, Any]]] = rt.extras.setdefault("campaign_stats", {})
    hit = cache.get(campaign.id)
    if large and hit is not None and time.monotonic() - hit[0] < STATS_SECONDS:
        return hit[1]
    reply_until = campaign.finished_at + domain.REPLY_WINDOW if campaign.finished_at else None
    rows = await rt.db.read(lambda c: repo.stats_rows(c, campaign, reply_until))
    result = build_stats(rows)
    result["cost"] = await pricing_service.campaign_cost(rt, campaign.id)
    if large:
        if len(cache) > 1000:
            cache.clear()
        cache[campaign.id] = (time.monotonic(), result)
    return result


async def list_recipients(
    rt: Runtime, tenant: Tenant, campaign_id: int, *, state: str | None, after_line: int, limit: int
) -> list[Any]:
    await get_campaign(rt, tenant, campaign_id)
    return await rt.db.read(
        lambda c: repo.list_recipients(c, campaign_id, state=state, after_line=after_line, limit=limit)
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def campaign_json(row: Any, stats: dict[str, Any] | None = None) -> dict[str, Any]:
    window = {"start": row.window_start, "end": row.window_end, "timezone": row.timezone} if row.window_start else None
    waiting = {"reason": row.waiting, "until": _iso(row.hold_until)} if row.waiting else None
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "state": row.state,
        "channel": row.channel_name,
        "template": {
            "name": row.template_name,
            "language": row.template_language,
            "category": row.template_category,
            "consent_scope": row.consent_scope,
        },
        "timezone": row.timezone,
        "window": window,
        "start_at": _iso(row.start_at),
        "max_in_flight": row.max_in_flight,
        "protection": Protection.of(row.protection).as_json(),
        "paused_code": row.paused_code,
        "paused_reason": row.paused_reason,
        "waiting": waiting,
        "source": row.source,
        "report": row.report,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
    }
    if stats is not None:
        out["stats"] = stats
    return out


def recipient_json(row: Any) -> dict[str, Any]:
    return {
        "line": row.line,
        "phone": row.phone,
        "name": row.name,
        "params": list(row.params or []),
        "state": row.state,
        "error_code": row.error_code,
        "message_id": row.message_id,
        "message_status": row.message_status,
        "message_error": row.message_error,
        "enqueued_at": _iso(row.enqueued_at),
    }


# ---------------------------------------------------------------- state changes


def _locked(conn: Connection, tenant_id: int | None, campaign_id: int) -> Any:
    row = repo.get_campaign(conn, tenant_id, campaign_id, lock=True)
    if row is None or row.state == domain.IMPORTING:
        raise NotFoundError(f"campaign {campaign_id} not found", field="id")
    return row


def paused_event(conn: Connection, row: Any, code: str, reason: str, now: datetime) -> None:
    """``campaign.paused`` in the outbox: the dashboard and receivers learn why sending stopped."""
    append_event(
        conn,
        tenant_id=row.tenant_id,
        type="campaign.paused",
        now=now,
        payload={"campaign_id": row.id, "name": row.name, "code": code, "reason": reason, "at": now.isoformat()},
    )


def pause_in(conn: Connection, row: Any, code: str, reason: str, now: datetime) -> None:
    """Running → paused, pulling the campaign's queued messages back, in the caller's transaction."""
    repo.pull_back(conn, row.id, row.channel_id, now, f"campaign paused: {reason}")
    repo.update_campaign(
        conn,
        row.id,
        {
            "state": domain.PAUSED,
            "paused_code": code,
            "paused_reason": reason,
            "waiting": None,
            "hold_until": None,
            "updated_at": now,
        },
        state=domain.RUNNING,
    )
    paused_event(conn, row, code, reason, now)


async def _change(rt: Runtime, tenant: Tenant, campaign_id: int, action: str) -> Any:
    now = rt.clock.now()

    def job(conn: Connection) -> None:
        row = _locked(conn, tenant.id, campaign_id)
        target = domain.transition(row.state, action)
        if action == "pause":
            pause_in(conn, row, "manual", "paused by request", now)
            return
        values: dict[str, Any] = {"state": target, "updated_at": now}
        if action == "start":
            values |= {"started_at": now, "protection_after_id": _newest_message_id(conn)}
        elif action == "resume":
            # Ban protection starts over: the signals that paused it must not pause it again at once.
            values |= {"paused_code": None, "paused_reason": None, "protection_after_id": _newest_message_id(conn)}
        elif action == "cancel":
            repo.pull_back(conn, row.id, row.channel_id, now, "campaign cancelled")
            values |= {"finished_at": now, "waiting": None, "hold_until": None}
        repo.update_campaign(conn, row.id, values, state=row.state)

    await rt.db.write(job)
    if action in ("start", "resume"):
        _poke(rt)
    return await get_campaign(rt, tenant, campaign_id)


def _newest_message_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(messages.c.id), 0))).scalar_one())


async def start(rt: Runtime, tenant: Tenant, campaign_id: int) -> Any:
    return await _change(rt, tenant, campaign_id, "start")


async def pause(rt: Runtime, tenant: Tenant, campaign_id: int) -> Any:
    return await _change(rt, tenant, campaign_id, "pause")


async def resume(rt: Runtime, tenant: Tenant, campaign_id: int) -> Any:
    return await _change(rt, tenant, campaign_id, "resume")


async def cancel(rt: Runtime, tenant: Tenant, campaign_id: int) -> Any:
    return await _change(rt, tenant, campaign_id, "cancel")


ACTIONS: dict[str, Callable[[Runtime, Tenant, int], Any]] = {
    "start": start,
    "pause": pause,
    "resume": resume,
    "cancel": cancel,
}


async def delete(rt: Runtime, tenant: Tenant, campaign_id: int) -> None:
    """Forget a campaign that is not sending (draft, completed, cancelled); its messages stay in the history."""

    def job(conn: Connection) -> None:
        row = _locked(conn, tenant.id, campaign_id)
        if row.state in (domain.RUNNING, domain.PAUSED):
            raise ConflictError(
                f"a {row.state} campaign cannot be deleted; cancel it first", field="state", code="invalid_state"
            )
        repo.delete_campaign(conn, row.id)

    await rt.db.write(job)


async def remove_stale_imports(rt: Runtime) -> int:
    before = rt.clock.now() - STALE_IMPORT

    def job(conn: Connection) -> int:
        ids = repo.stale_imports(conn, before)
        for campaign_id in ids:
            repo.delete_campaign(conn, campaign_id)
        return len(ids)

    removed = await rt.db.write(job)
    if removed:
        log.warning("removed %d campaign import(s) that never finished", removed)
    return removed
