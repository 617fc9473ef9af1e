"""Token creation for the CLI, which acts on the database directly (docs/operations.md)."""

from __future__ import annotations

import asyncio

from wagate.clock import utcnow
from wagate.config import Settings
from wagate.store.database import Database
from wagate.store.migrate import migrate_async
from wagate.store.repos import tenants as repo


async def create_token(settings: Settings, *, name: str, role: str, tenant_name: str = "default") -> str:
    await migrate_async(settings.database_url)
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        token = repo.new_token()
        now = utcnow()

        def job(conn: object) -> None:
            tenant = repo.ensure_tenant(conn, tenant_name, settings.default_region, now)  # type: ignore[arg-type]
            repo.store_token(conn, tenant.id, name, role, token, now)  # type: ignore[arg-type]

        await db.write(job)
        return token
    finally:
        await db.close()


def create_token_sync(settings: Settings, *, name: str, role: str, tenant_name: str = "default") -> str:
    return asyncio.run(create_token(settings, name=name, role=role, tenant_name=tenant_name))
