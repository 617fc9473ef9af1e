"""Dashboard users: creation (by an admin or ``wagate user create``), sign-in, sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults: 64 MiB, 3 passes), in a worker
thread so a sign-in does not stall the event loop. A sign-in with an unknown login still
verifies against a dummy hash, so response times do not reveal which logins exist.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection

from wagate.clock import utcnow
from wagate.config import Settings
from wagate.domain.records import User
from wagate.domain.users import check_locale, check_name, check_password, check_role, user_fields
from wagate.errors import ConflictError, NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.store.database import Database
from wagate.store.migrate import migrate_async
from wagate.store.repos import tenants as tenant_repo
from wagate.store.repos import users as repo

SESSION_LIFETIME = timedelta(days=7)
SESSION_CACHE_SECONDS = 5.0

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _insert_job(tenant_id: int, data: Mapping[str, Any], password_hash: str) -> Any:
    fields = user_fields(data)

    def job(conn: Connection) -> int:
        if repo.login_taken(conn, fields.login):
            raise ConflictError(f"the login {fields.login!r} is taken", field="login", code="login_taken")
        return repo.insert_user(
            conn,
            tenant_id=tenant_id,
            login=fields.login,
            password_hash=password_hash,
            role=fields.role,
            name=fields.name,
            locale=fields.locale,
            now=utcnow(),
        )

    return job


async def create_user(rt: Runtime, tenant_id: int, data: Mapping[str, Any]) -> User:
    """Create a user of ``tenant_id`` from ``{login, password, role, name, locale}``."""
    user_fields(data)  # refuse bad input before spending a hash on it
    password_hash = await hash_password(check_password(data.get("password")))
    user_id = await rt.db.write(_insert_job(tenant_id, data, password_hash))
    user = await rt.db.read(lambda c: repo.get_user(c, tenant_id, user_id))
    assert user is not None
    return user


async def create_user_in_database(
    settings: Settings, data: Mapping[str, Any], tenant_name: str = "default"
) -> tuple[str, str]:
    """``wagate user create``: acts on the database of ``WAGATE_DATABASE_URL`` directly (docs/operations.md).

    Returns ``(login, role)``. The tenant is created if it does not exist yet (a fresh install).
    """
    user_fields(data)
    password_hash = await hash_password(check_password(data.get("password")))
    await migrate_async(settings.database_url)
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        now = utcnow()

        def job(conn: Connection) -> int:
            tenant = tenant_repo.ensure_tenant(conn, tenant_name, settings.default_region, now)
            return int(_insert_job(tenant.id, data, password_hash)(conn))

        await db.write(job)
        fields = user_fields(data)
        return fields.login, fields.role
    finally:
        await db.close()


async def update_user(rt: Runtime, tenant_id: int, user_id: int, data: Mapping[str, Any]) -> User:
    """Change role, name, locale, password or ``disabled``; a new password or disabling ends sessions."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "role":
            values["role"] = check_role(value)
        elif key == "name":
            values["name"] = check_name(value)
        elif key == "locale":
            values["locale"] = check_locale(value)
        elif key == "password":
            values["password_hash"] = await hash_password(check_password(value))
        elif key == "disabled":
            values["disabled_at"] = rt.clock.now() if value else None
        else:
            raise ValidationError(f"unknown field {key!r}", field=key)
    now = rt.clock.now()

    def job(conn: Connection) -> User:
        user = repo.get_user(conn, tenant_id, user_id)
        if user is None:
            raise NotFoundError(f"user {user_id} not found", field="id")
        if values:
            repo.update_user(conn, user_id, values, now)
        if "password_hash" in values or values.get("disabled_at"):
            repo.delete_sessions_of(conn, user_id)
        updated = repo.get_user(conn, tenant_id, user_id)
        assert updated is not None
        return updated

    user = await rt.db.write(job)
    _session_cache(rt).clear()
    return user


async def list_users(rt: Runtime, tenant_id: int) -> list[Any]:
    return await rt.db.read(lambda c: repo.list_users(c, tenant_id, include_disabled=True))


# ---------------------------------------------------------------- sign-in and sessions


async def check_credentials(rt: Runtime, login: str, password: str) -> User | None:
    found = await rt.db.read(lambda c: repo.credentials(c, login.strip().lower()))
    stored = found[1] if found else _DUMMY_HASH
    ok = await asyncio.to_thread(_verify, stored, password[:256])
    return found[0] if found and ok else None


async def start_session(rt: Runtime, user: User, user_agent: str | None) -> str:
    """A new session for ``user``; returns the cookie value (shown to the browser only)."""
    token = secrets.token_urlsafe(32)
    now = rt.clock.now()
    await rt.db.write(lambda c: repo.insert_session(c, user.id, token, now, now + SESSION_LIFETIME, user_agent))
    return token


def _session_cache(rt: Runtime) -> dict[str, tuple[float, User | None]]:
    cache: dict[str, tuple[float, User | None]] = rt.caches.sessions
    return cache


async def session_user(rt: Runtime, token: str) -> User | None:
    """The signed-in user of a session cookie, cached for a few seconds (every htmx request asks)."""
    cache = _session_cache(rt)
    key = tenant_repo.hash_token(token)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < SESSION_CACHE_SECONDS:
        return hit[1]
    now = rt.clock.now()
    user = await rt.db.read(lambda c: repo.session_user(c, token, now))
    if len(cache) > 10000:
        cache.clear()
    cache[key] = (time.monotonic(), user)
    return user


async def end_session(rt: Runtime, token: str) -> None:
    _session_cache(rt).pop(tenant_repo.hash_token(token), None)
    await rt.db.write(lambda c: repo.delete_session(c, token))


async def has_users(rt: Runtime, tenant_id: int) -> bool:
    return await rt.db.read(lambda c: repo.count_users(c, tenant_id)) > 0


async def any_users(rt: Runtime) -> bool:
    return await rt.db.read(repo.any_users)
