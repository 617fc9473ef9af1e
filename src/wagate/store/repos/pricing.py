"""Rate cards and message costs in the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.pricing import RateCard, card_from_row, cost_of
from wagate.store.campaign_tables import campaign_recipients
from wagate.store.pricing_tables import pricing_cards
from wagate.store.tables import channels, messages

GROUPS = ("day", "operator", "campaign", "conversation", "channel", "category")


def get_card(conn: Connection, tenant_id: int) -> RateCard | None:
    row = conn.execute(sa.select(pricing_cards).where(pricing_cards.c.tenant_id == tenant_id)).first()
    return card_from_row(row) if row is not None else None


def put_card(conn: Connection, tenant_id: int, card: RateCard, now: datetime) -> RateCard:
    values = {"currency": card.currency, "rates": card.rates, "countries": card.countries, "updated_at": now}
    updated = conn.execute(pricing_cards.update().where(pricing_cards.c.tenant_id == tenant_id).values(**values))
    if updated.rowcount == 0:
        conn.execute(pricing_cards.insert().values(tenant_id=tenant_id, **values))
    return card


def record_pricing(conn: Connection, message_id: int, pricing: Mapping[str, Any]) -> bool:
    """Store the provider's pricing of a message and its cost by the tenant's card, once.

    Meta repeats the same pricing object on ``sent``, ``delivered`` and ``read``: the first one
    is kept (a later one never changes a cost already reported). Returns whether it was stored.
    """
    row = conn.execute(
        sa.select(messages.c.tenant_id, messages.c.phone, messages.c.pricing).where(messages.c.id == message_id)
    ).first()
    if row is None or row.pricing is not None:
        return False
    cost = cost_of(pricing, get_card(conn, row.tenant_id), row.phone)
    values: dict[str, Any] = {"pricing": dict(pricing)}
    if cost is not None:
        values["cost_amount"], values["cost_currency"] = cost
    conn.execute(messages.update().where(messages.c.id == message_id, messages.c.pricing.is_(None)).values(**values))
    return True


def campaign_cost(conn: Connection, campaign_id: int) -> list[Any]:
    """(currency, amount, priced messages) of a campaign's messages whose cost is known
    (through the recipients' index: ``messages.campaign_id`` has none)."""
    return list(
        conn.execute(
            sa.select(
                messages.c.cost_currency,
                sa.func.sum(messages.c.cost_amount).label("amount"),
                sa.func.count().label("n"),
            )
            .select_from(campaign_recipients.join(messages, messages.c.id == campaign_recipients.c.message_id))
            .where(campaign_recipients.c.campaign_id == campaign_id, messages.c.cost_amount.is_not(None))
            .group_by(messages.c.cost_currency)
        )
    )


def pending_phones(conn: Connection, campaign_id: int) -> list[str]:
    """The numbers a campaign will send to (its ``pending`` recipients), for the cost estimate."""
    query = sa.select(campaign_recipients.c.phone).where(
        campaign_recipients.c.campaign_id == campaign_id, campaign_recipients.c.state == "pending"
    )
    return [str(r[0]) for r in conn.execute(query)]


def cost_rows(
    conn: Connection, tenant_id: int, group: str, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """Known costs of outbound messages summed by ``group`` (one of ``GROUPS``), newest keys last.

    ``day`` buckets by the UTC date the message was created; ``conversation`` is a channel and a
    phone; messages whose cost is unknown are counted in ``unpriced``.
    """
    where = [messages.c.tenant_id == tenant_id, messages.c.direction == "out", messages.c.pricing.is_not(None)]
    if since is not None:
        where.append(messages.c.created_at >= since)
    if until is not None:
        where.append(messages.c.created_at < until)
    priced = sa.case((messages.c.cost_amount.is_(None), 1), else_=0)
    if group == "day":
        totals: dict[tuple[str, str | None], list[float]] = {}
        query = sa.select(messages.c.created_at, messages.c.cost_amount, messages.c.cost_currency).where(*where)
        for created_at, amount, currency in conn.execute(query):
            key = (created_at.date().isoformat(), currency)
            bucket = totals.setdefault(key, [0.0, 0, 0])
            bucket[0] += amount or 0.0
            bucket[1] += 1
            bucket[2] += 1 if amount is None else 0
        return [
            {"day": day, "currency": currency, "amount": round(t[0], 6), "messages": int(t[1]), "unpriced": int(t[2])}
            for (day, currency), t in sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        ]
    columns: dict[str, list[Any]] = {
        "operator": [messages.c.operator],
        "campaign": [messages.c.campaign_id],
        "conversation": [channels.c.name.label("channel"), messages.c.phone],
        "channel": [channels.c.name.label("channel")],
        "category": [sa.func.coalesce(messages.c.pricing["category"].as_string(), "").label("category")],
    }
    keys = columns[group]
    query = (
        sa.select(
            *keys,
            messages.c.cost_currency,
            sa.func.sum(messages.c.cost_amount).label("amount"),
            sa.func.count().label("n"),
            sa.func.sum(priced).label("unpriced"),
        )
        .select_from(messages.join(channels, channels.c.id == messages.c.channel_id))
        .where(*where)
        .group_by(*keys, messages.c.cost_currency)
        .order_by(sa.func.sum(messages.c.cost_amount).desc())
    )
    out = []
    for row in conn.execute(query):
        data = row._asdict()
        item = {k: data[k] for k in data if k not in ("cost_currency", "amount", "n", "unpriced")}
        if group == "category":
            item["category"] = item["category"] or None
        item.update(
            currency=row.cost_currency,
            amount=round(float(row.amount or 0), 6),
            messages=int(row.n),
            unpriced=int(row.unpriced or 0),
        )
        out.append(item)
    return out
