"""Dashboard users and their sign-in sessions.

A session cookie holds 32 random bytes; only their SHA-256 is stored (a fast hash is safe for
random tokens, as for API tokens), so reading the table signs nobody in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.records import User as User  # re-exported: the core records live in domain/
from wagate.store.dashboard_tables import dashboard_sessions, users
from wagate.store.repos.tenants import Tenant, hash_token
from wagate.store.tables import tenants


def _user(row: Any) -> User:
    tenant = Tenant(
        id=row.tenant_id, name=row.tenant_name, default_region=row.default_region, settings=row.settings or {}
    )
    return User(id=row.id, tenant=tenant, login=row.login, role=row.role, name=row.name, locale=row.locale)


_USER = sa.select(
    users, tenants.c.name.label("tenant_name"), tenants.c.default_region, tenants.c.settings.label("settings")
).join(tenants, tenants.c.id == users.c.tenant_id)


def insert_user(
    conn: Connection,
    *,
    tenant_id: int,
    login: str,
    password_hash: str,
    role: str,
    name: str | None,
    locale: str,
    now: datetime,
) -> int:
    result = conn.execute(
        users.insert().values(
            tenant_id=tenant_id,
            login=login,
            password_hash=password_hash,
            role=role,
            name=name,
            locale=locale,
            created_at=now,
            updated_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def login_taken(conn: Connection, login: str) -> bool:
    return conn.execute(sa.select(users.c.id).where(users.c.login == login)).first() is not None


def credentials(conn: Connection, login: str) -> tuple[User, str] | None:
    """The active user with this login and their password hash."""
    row = conn.execute(_USER.where(users.c.login == login, users.c.disabled_at.is_(None))).first()
    return (_user(row), row.password_hash) if row else None


def get_user(conn: Connection, tenant_id: int, user_id: int) -> User | None:
    row = conn.execute(_USER.where(users.c.id == user_id, users.c.tenant_id == tenant_id)).first()
    return _user(row) if row else None


def get_user_by_login(conn: Connection, tenant_id: int, login: str) -> User | None:
    row = conn.execute(
        _USER.where(users.c.login == login, users.c.tenant_id == tenant_id, users.c.disabled_at.is_(None))
    ).first()
    return _user(row) if row else None


def list_users(conn: Connection, tenant_id: int, *, include_disabled: bool = False) -> list[Any]:
    query = sa.select(users).where(users.c.tenant_id == tenant_id).order_by(users.c.login)
    if not include_disabled:
        query = query.where(users.c.disabled_at.is_(None))
    return list(conn.execute(query))


def any_users(conn: Connection) -> bool:
    """Whether any tenant has a user (the first-admin set-up page closes then)."""
    return conn.execute(sa.select(users.c.id).limit(1)).first() is not None


def count_users(conn: Connection, tenant_id: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).where(users.c.tenant_id == tenant_id)).scalar_one())


def update_user(conn: Connection, user_id: int, values: dict[str, Any], now: datetime) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(**values, updated_at=now))


def names_by_login(conn: Connection, tenant_id: int) -> dict[str, str]:
    """Login → display name for the tenant's users (disabled ones too: their replies stay theirs)."""
    rows = conn.execute(sa.select(users.c.login, users.c.name).where(users.c.tenant_id == tenant_id))
    return {r.login: r.name or r.login for r in rows}


# ---------------------------------------------------------------- sessions


def insert_session(
    conn: Connection, user_id: int, token: str, now: datetime, expires_at: datetime, user_agent: str | None
) -> None:
    conn.execute(dashboard_sessions.delete().where(dashboard_sessions.c.expires_at <= now))
    conn.execute(
        dashboard_sessions.insert().values(
            user_id=user_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=expires_at,
            user_agent=(user_agent or "")[:200] or None,
        )
    )


def session_user(conn: Connection, token: str, now: datetime) -> User | None:
    """The user a live session belongs to (``None`` when expired, logged out or disabled)."""
    row = conn.execute(
        _USER.join(dashboard_sessions, dashboard_sessions.c.user_id == users.c.id).where(
            dashboard_sessions.c.token_hash == hash_token(token),
            dashboard_sessions.c.expires_at > now,
            users.c.disabled_at.is_(None),
        )
    ).first()
    return _user(row) if row else None


def delete_session(conn: Connection, token: str) -> None:
    conn.execute(dashboard_sessions.delete().where(dashboard_sessions.c.token_hash == hash_token(token)))


def delete_sessions_of(conn: Connection, user_id: int) -> None:
    conn.execute(dashboard_sessions.delete().where(dashboard_sessions.c.user_id == user_id))
