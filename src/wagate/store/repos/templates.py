"""Templates: local ones (approved by an admin) and ones synced from a cloud channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.templates import Template
from wagate.store.policy_tables import templates


def to_template(row: Any) -> Template:
    return Template(
        id=row.id,
        name=row.name,
        language=row.language,
        category=row.category,
        body=row.body,
        status=row.status,
        header=row.header,
        footer=row.footer,
        buttons=list(row.buttons or []),
        scope=row.scope,
        channel=row.channel,
        source=row.source,
        provider_status=row.provider_status,
        provider_id=row.provider_id,
    )


def get_template(conn: Connection, tenant_id: int, template_id: int) -> Any | None:
    return conn.execute(
        sa.select(templates).where(templates.c.tenant_id == tenant_id, templates.c.id == template_id)
    ).first()


def find_templates(
    conn: Connection, tenant_id: int, name: str, *, language: str | None = None, channel: str | None = None
) -> list[Any]:
    query = sa.select(templates).where(templates.c.tenant_id == tenant_id, templates.c.name == name)
    if language is not None:
        query = query.where(templates.c.language == language)
    if channel is not None:
        query = query.where(templates.c.channel == channel)
    return list(conn.execute(query.order_by(templates.c.id)))


def list_templates(
    conn: Connection,
    tenant_id: int,
    *,
    name: str | None = None,
    language: str | None = None,
    status: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Any]:
    query = (
        sa.select(templates)
        .where(templates.c.tenant_id == tenant_id, templates.c.id > after_id)
        .order_by(templates.c.id)
        .limit(limit)
    )
    for column, value in (
        (templates.c.name, name),
        (templates.c.language, language),
        (templates.c.status, status),
        (templates.c.category, category),
        (templates.c.channel, channel),
    ):
        if value is not None:
            query = query.where(column == value)
    return list(conn.execute(query))


def insert_template(conn: Connection, tenant_id: int, values: dict[str, Any], now: datetime) -> Any:
    result = conn.execute(
        templates.insert().values(tenant_id=tenant_id, created_at=now, updated_at=now, **{"buttons": [], **values})
    )
    row = get_template(conn, tenant_id, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert row is not None
    return row


def update_template(conn: Connection, tenant_id: int, template_id: int, values: dict[str, Any], now: datetime) -> Any:
    conn.execute(templates.update().where(templates.c.id == template_id).values(**values, updated_at=now))
    row = get_template(conn, tenant_id, template_id)
    assert row is not None
    return row


def delete_template(conn: Connection, tenant_id: int, template_id: int) -> bool:
    result = conn.execute(templates.delete().where(templates.c.tenant_id == tenant_id, templates.c.id == template_id))
    return bool(result.rowcount)


_FOR_SEND = sa.select(templates).where(
    templates.c.tenant_id == sa.bindparam("b_tenant_id"),
    templates.c.name.in_(sa.bindparam("b_names", expanding=True)),
    templates.c.channel.in_(sa.bindparam("b_channels", expanding=True)),
)


def templates_for_send(conn: Connection, tenant_id: int, names: set[str], channels: set[str]) -> list[Template]:
    """Every template a batch might mean: these names, on these channels or tenant-wide."""
    if not names:
        return []
    params = {"b_tenant_id": tenant_id, "b_names": sorted(names), "b_channels": sorted(channels | {""})}
    return [to_template(r) for r in conn.execute(_FOR_SEND, params)]


def meta_rows(
    conn: Connection,
    tenant_id: int,
    channels: list[str],
    provider_id: str | None,
    name: str | None,
    language: str | None,
) -> list[Any]:
    """The Meta-owned templates a webhook names: by Meta's id, else by name (and language) on these channels."""
    if not channels:
        return []
    query = sa.select(templates).where(
        templates.c.tenant_id == tenant_id, templates.c.source == "cloud", templates.c.channel.in_(channels)
    )
    if provider_id is not None:
        rows = list(conn.execute(query.where(templates.c.provider_id == provider_id)))
        if rows:
            return rows
    if name is None:
        return []
    query = query.where(templates.c.name == name)
    if language is not None:
        query = query.where(templates.c.language == language)
    return list(conn.execute(query))


def sync_channel(
    conn: Connection, tenant_id: int, channel: str, synced: list[Template], now: datetime
) -> dict[str, int]:
    """Make the channel's synced templates equal ``synced``: insert, update, delete what Meta no longer has.

    The local ``scope`` of a template survives a sync (it is ours, not Meta's).
    """
    existing = {
        (r.name, r.language): r
        for r in conn.execute(
            sa.select(templates).where(
                templates.c.tenant_id == tenant_id, templates.c.channel == channel, templates.c.source == "cloud"
            )
        )
    }
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    seen: set[tuple[str, str]] = set()
    for item in synced:
        key = (item.name, item.language)
        if key in seen:
            continue
        seen.add(key)
        values = {
            "category": item.category,
            "body": item.body,
            "header": item.header,
            "footer": item.footer,
            "buttons": item.buttons,
            "status": item.status,
            "provider_status": item.provider_status,
        }
        if item.provider_id is not None:
            values["provider_id"] = item.provider_id
        row = existing.get(key)
        if row is None:
            taken = conn.execute(
                sa.select(templates.c.id).where(
                    templates.c.tenant_id == tenant_id,
                    templates.c.channel == channel,
                    templates.c.name == item.name,
                    templates.c.language == item.language,
                )
            ).first()
            if taken is not None:  # a local template bound to this channel: Meta's version replaces it
                conn.execute(templates.delete().where(templates.c.id == taken.id))
            insert_template(
                conn,
                tenant_id,
                {**values, "name": item.name, "language": item.language, "channel": channel, "source": "cloud"},
                now,
            )
            counts["created"] += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(templates.update().where(templates.c.id == row.id).values(**values, updated_at=now))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    gone = [row.id for key, row in existing.items() if key not in seen]
    if gone:
        conn.execute(templates.delete().where(templates.c.id.in_(gone)))
    counts["deleted"] = len(gone)
    return counts
