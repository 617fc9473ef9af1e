"""Tenants and API tokens. Only the SHA-256 of a token is stored: tokens are 32 random
bytes, so a fast hash is safe (no dictionary to attack) and keeps auth off the hot path."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.records import Principal as Principal  # re-exported: the core records live in domain/
from wagate.domain.records import Tenant as Tenant  # re-exported
from wagate.store import dialect
from wagate.store.tables import api_tokens, tenants

ROLES = ("admin", "operator", "api")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str = "wg") -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def _tenant(row: Any) -> Tenant:
    return Tenant(id=row.id, name=row.name, default_region=row.default_region, settings=row.settings or {})


def ensure_tenant(conn: Connection, name: str, region: str, now: datetime) -> Tenant:
    """The tenant named ``name``, created if missing. Nodes starting together on one PostgreSQL
    database may both try: the insert yields to the one that committed first (``ON CONFLICT``)."""
    row = conn.execute(sa.select(tenants).where(tenants.c.name == name)).first()
    if row is None:
        conn.execute(
            dialect.insert(conn, tenants)
            .values(name=name, default_region=region, settings={}, created_at=now)
            .on_conflict_do_nothing(index_elements=[tenants.c.name])
        )
        row = conn.execute(sa.select(tenants).where(tenants.c.name == name)).one()
    return _tenant(row)


def get_tenant(conn: Connection, tenant_id: int) -> Tenant | None:
    row = conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id)).first()
    return _tenant(row) if row else None


def get_tenant_by_name(conn: Connection, name: str) -> Tenant | None:
    row = conn.execute(sa.select(tenants).where(tenants.c.name == name)).first()
    return _tenant(row) if row else None


def count_tokens(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar_one())


def store_token(conn: Connection, tenant_id: int, name: str, role: str, token: str, now: datetime) -> int:
    """Store the hash of ``token``; idempotent for the same token."""
    digest = hash_token(token)
    existing = conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.token_hash == digest)).first()
    if existing is not None:
        return int(existing.id)
    conn.execute(
        dialect.insert(conn, api_tokens)
        .values(tenant_id=tenant_id, name=name, role=role, token_hash=digest, created_at=now)
        .on_conflict_do_nothing(index_elements=[api_tokens.c.token_hash])
    )
    return int(conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.token_hash == digest)).scalar_one())


def lookup_token(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        sa.select(api_tokens, tenants.c.name.label("tenant_name"), tenants.c.default_region, tenants.c.settings)
        .join(tenants, tenants.c.id == api_tokens.c.tenant_id)
        .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    tenant = Tenant(
        id=row.tenant_id, name=row.tenant_name, default_region=row.default_region, settings=row.settings or {}
    )
    return Principal(tenant=tenant, role=row.role, token_id=row.id, token_name=row.name)


def tenant_settings(conn: Connection, tenant_id: int) -> dict[str, Any]:
    """The tenant's ``settings`` object (policy, analytics, timezone …), a fresh copy."""
    value = conn.execute(sa.select(tenants.c.settings).where(tenants.c.id == tenant_id)).scalar()
    return dict(value or {})


def set_tenant_setting(conn: Connection, tenant_id: int, key: str, value: Any) -> dict[str, Any]:
    """Replace one top-level section of the tenant's settings; returns the whole new object."""
    settings = tenant_settings(conn, tenant_id)
    settings[key] = value
    conn.execute(tenants.update().where(tenants.c.id == tenant_id).values(settings=settings))
    return settings
