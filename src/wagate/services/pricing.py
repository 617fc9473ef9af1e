"""Prices and costs: the tenant's rate card, and what messages cost summed the ways people ask.

The rules are in ``domain.pricing``; this module reads and writes through the store and
shapes the answers of ``/v1/pricing`` and ``/v1/analytics/costs`` (JSON or CSV).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from wagate.domain.pricing import UNBILLED_KINDS, RateCard, estimate, parse_card
from wagate.errors import NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.services.analytics import get_settings, period
from wagate.store.repos import pricing as repo
from wagate.store.repos.tenants import Tenant


async def get_card(rt: Runtime, tenant: Tenant) -> RateCard | None:
    return await rt.db.read(lambda c: repo.get_card(c, tenant.id))


async def require_card(rt: Runtime, tenant: Tenant) -> RateCard:
    card = await get_card(rt, tenant)
    if card is None:
        raise NotFoundError("no rate card yet: PUT /v1/pricing", field="pricing")
    return card


async def put_card(rt: Runtime, tenant: Tenant, body: Any) -> RateCard:
    """Replace the rate card. Costs already recorded keep the price they were computed with."""
    card = parse_card(body)
    now = rt.clock.now()
    return await rt.db.write(lambda c: repo.put_card(c, tenant.id, card, now))


async def campaign_cost(rt: Runtime, campaign_id: int) -> dict[str, Any] | None:
    """The known cost of a campaign's messages (one currency: the card's when the costs were taken)."""
    rows = await rt.db.read(lambda c: repo.campaign_cost(c, campaign_id))
    if not rows:
        return None
    main = max(rows, key=lambda r: r.n)
    return {
        "amount": round(float(main.amount or 0), 6),
        "currency": main.cost_currency,
        "messages": int(sum(r.n for r in rows)),
    }


async def campaign_estimate(
    rt: Runtime, tenant: Tenant, campaign_id: int, category: str, channel_kind: str
) -> dict[str, Any] | None:
    """The dry run's estimate: one ``category`` message to every recipient that will be sent to.

    ``None`` without a rate card; ``0`` on a channel nobody bills per message (device, web).
    """
    phones = await rt.db.read(lambda c: repo.pending_phones(c, campaign_id))
    if channel_kind in UNBILLED_KINDS:
        return {"amount": 0.0, "currency": None, "category": category, "unpriced": 0, "billed": False}
    card = await get_card(rt, tenant)
    return estimate(card, category, phones)


async def costs_report(
    rt: Runtime, tenant: Tenant, *, group: str, since: str | None, until: str | None
) -> dict[str, Any]:
    if group not in repo.GROUPS:
        raise ValidationError(f"group must be one of {', '.join(repo.GROUPS)}", field="group")
    settings = await get_settings(rt, tenant)
    start, end = period(since, until, settings, rt.clock.now())
    rows = await rt.db.read(lambda c: repo.cost_rows(c, tenant.id, group, start, end))
    totals: dict[str, float] = {}
    for row in rows:
        if row["currency"] is not None:
            totals[row["currency"]] = round(totals.get(row["currency"], 0.0) + row["amount"], 6)
    return {
        "since": start.isoformat(),
        "until": end.isoformat(),
        "group": group,
        "data": rows,
        "total": [{"currency": c, "amount": a} for c, a in sorted(totals.items())],
    }


def costs_csv(report: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = report["data"]
    columns = list(rows[0]) if rows else [report["group"], "currency", "amount", "messages", "unpriced"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
