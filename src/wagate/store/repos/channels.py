"""Channel rows: name, kind, settings, pacing and policy of each delivery route."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.records import ChannelRow as ChannelRow  # re-exported: the core records live in domain/
from wagate.store.repos.events import append_channel_status
from wagate.store.tables import channels


def _row(row: Any) -> ChannelRow:
    return ChannelRow(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        kind=row.kind,
        settings=row.settings or {},
        pacing=row.pacing or {},
        policy=row.policy or {},
        is_default=bool(row.is_default),
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def list_channels(conn: Connection, tenant_id: int | None = None) -> list[ChannelRow]:
    query = sa.select(channels).order_by(channels.c.id)
    if tenant_id is not None:
        query = query.where(channels.c.tenant_id == tenant_id)
    return [_row(r) for r in conn.execute(query)]


def get_channel(conn: Connection, tenant_id: int, name: str) -> ChannelRow | None:
    row = conn.execute(sa.select(channels).where(channels.c.tenant_id == tenant_id, channels.c.name == name)).first()
    return _row(row) if row else None


def get_channel_by_id(conn: Connection, channel_id: int) -> ChannelRow | None:
    row = conn.execute(sa.select(channels).where(channels.c.id == channel_id)).first()
    return _row(row) if row else None


def default_channel(conn: Connection, tenant_id: int) -> ChannelRow | None:
    row = conn.execute(
        sa.select(channels)
        .where(channels.c.tenant_id == tenant_id)
        .order_by(channels.c.is_default.desc(), channels.c.id)
        .limit(1)
    ).first()
    return _row(row) if row else None


def insert_channel(
    conn: Connection,
    *,
    tenant_id: int,
    name: str,
    kind: str,
    settings: dict[str, Any],
    pacing: dict[str, Any],
    policy: dict[str, Any],
    is_default: bool,
    now: datetime,
) -> ChannelRow:
    if is_default:
        conn.execute(channels.update().where(channels.c.tenant_id == tenant_id).values(is_default=False))
    conn.execute(
        channels.insert().values(
            tenant_id=tenant_id,
            name=name,
            kind=kind,
            settings=settings,
            pacing=pacing,
            policy=policy,
            is_default=is_default,
            status="active",
            created_at=now,
            updated_at=now,
        )
    )
    created = get_channel(conn, tenant_id, name)
    assert created is not None
    return created


def update_channel(conn: Connection, channel_id: int, values: dict[str, Any], now: datetime) -> ChannelRow:
    current = get_channel_by_id(conn, channel_id)
    assert current is not None
    if values.get("is_default"):
        conn.execute(channels.update().where(channels.c.tenant_id == current.tenant_id).values(is_default=False))
    conn.execute(channels.update().where(channels.c.id == channel_id).values(**values, updated_at=now))
    updated = get_channel_by_id(conn, channel_id)
    assert updated is not None
    if updated.status != current.status:
        # An operator's pause or resume is a status change the CRM hears about like any other.
        verb = "paused" if updated.status == "paused" else "resumed"
        append_channel_status(
            conn, updated, status=updated.status, previous=current.status, reason=f"{verb} by an operator", now=now
        )
    return updated
