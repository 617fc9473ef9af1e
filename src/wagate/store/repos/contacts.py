"""Contacts and the cached answers to "is this number on WhatsApp?"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.contacts import ContactFields
from wagate.store.tables import contacts, phone_checks


def upsert_contact(
    conn: Connection, tenant_id: int, phone: str, fields: ContactFields, now: datetime, partial: bool = False
) -> tuple[Any, bool]:
    """Create or update; returns ``(row, created)``. ``partial`` keeps fields the caller left out."""
    values: dict[str, Any] = {
        "name": fields.name,
        "info": fields.info,
        "email": fields.email,
        "web": fields.web,
        "tags": fields.tags,
    }
    if partial:
        values = {k: v for k, v in values.items() if v not in (None, [])}
    existing = get_contact(conn, tenant_id, phone)
    if existing is None:
        conn.execute(
            contacts.insert().values(
                tenant_id=tenant_id, phone=phone, created_at=now, updated_at=now, **{"tags": [], **values}
            )
        )
        created = True
    else:
        conn.execute(contacts.update().where(contacts.c.id == existing.id).values(**values, updated_at=now))
        created = False
    row = get_contact(conn, tenant_id, phone)
    return row, created


def get_contact(conn: Connection, tenant_id: int, phone: str) -> Any | None:
    return conn.execute(sa.select(contacts).where(contacts.c.tenant_id == tenant_id, contacts.c.phone == phone)).first()


def contact_names(conn: Connection, tenant_id: int, phones: list[str]) -> dict[str, str]:
    """Phone → name for those of ``phones`` that have a named contact (one query for a page of messages)."""
    if not phones:
        return {}
    rows = conn.execute(
        sa.select(contacts.c.phone, contacts.c.name).where(
            contacts.c.tenant_id == tenant_id, contacts.c.phone.in_(sorted(set(phones))), contacts.c.name.is_not(None)
        )
    )
    return {r.phone: r.name for r in rows}


def delete_contact(conn: Connection, tenant_id: int, phone: str) -> bool:
    result = conn.execute(contacts.delete().where(contacts.c.tenant_id == tenant_id, contacts.c.phone == phone))
    return bool(result.rowcount)


def list_contacts(
    conn: Connection,
    tenant_id: int,
    *,
    tag: str | None = None,
    query: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Any]:
    stmt = (
        sa.select(contacts)
        .where(contacts.c.tenant_id == tenant_id, contacts.c.id > after_id)
        .order_by(contacts.c.id)
        .limit(limit)
    )
    if query:
        like = f"%{query}%"
        stmt = stmt.where(sa.or_(contacts.c.name.ilike(like), contacts.c.phone.like(like)))
    rows = list(conn.execute(stmt))
    if tag:
        rows = [r for r in rows if tag in (r.tags or [])]
    return rows


def record_phone_check(
    conn: Connection, tenant_id: int, phone: str, whatsapp: str, source: str, now: datetime, expires_at: datetime | None
) -> None:
    conn.execute(phone_checks.delete().where(phone_checks.c.tenant_id == tenant_id, phone_checks.c.phone == phone))
    conn.execute(
        phone_checks.insert().values(
            tenant_id=tenant_id, phone=phone, whatsapp=whatsapp, source=source, checked_at=now, expires_at=expires_at
        )
    )


def get_phone_check(conn: Connection, tenant_id: int, phone: str, now: datetime) -> Any | None:
    row = conn.execute(
        sa.select(phone_checks).where(phone_checks.c.tenant_id == tenant_id, phone_checks.c.phone == phone)
    ).first()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return row
