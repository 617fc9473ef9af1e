"""First-start set-up: the default tenant, the bootstrap admin token, the sandbox channel."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.records import Tenant
from wagate.runtime import Runtime
from wagate.store import dialect
from wagate.store.repos import tenants as tenant_repo

DEFAULT_TENANT = "default"


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    tenant: Tenant
    generated_admin_token: str | None  # shown once, never stored in clear


#: The advisory lock key of the first-start bootstrap on PostgreSQL ("wagate boot" in ASCII).
BOOTSTRAP_LOCK = 0x77616761_7465


async def bootstrap(rt: Runtime) -> BootstrapResult:
    settings = rt.settings
    now = rt.clock.now()

    def job(conn: Connection) -> BootstrapResult:
        if dialect.is_postgres(conn):
            # Nodes of one deployment starting together: one bootstrap at a time, so the second
            # sees the first's tenant and token (and does not print a second generated token).
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOTSTRAP_LOCK})
        tenant = tenant_repo.ensure_tenant(conn, DEFAULT_TENANT, settings.default_region, now)
        generated = None
        if settings.admin_token:
            tenant_repo.store_token(conn, tenant.id, "bootstrap-admin", "admin", settings.admin_token, now)
        elif tenant_repo.count_tokens(conn) == 0:
            generated = tenant_repo.new_token()
            tenant_repo.store_token(conn, tenant.id, "bootstrap-admin", "admin", generated, now)
        return BootstrapResult(tenant=tenant, generated_admin_token=generated)

    return await rt.db.write(job)
