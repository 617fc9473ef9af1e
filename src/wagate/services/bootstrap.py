"""First-start set-up: the default tenant, the bootstrap admin token, the sandbox channel."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from wagate.domain.records import Tenant
from wagate.runtime import Runtime
from wagate.store.repos import tenants as tenant_repo

DEFAULT_TENANT = "default"


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    tenant: Tenant
    generated_admin_token: str | None  # shown once, never stored in clear


async def bootstrap(rt: Runtime) -> BootstrapResult:
    settings = rt.settings
    now = rt.clock.now()

    def job(conn: Connection) -> BootstrapResult:
        tenant = tenant_repo.ensure_tenant(conn, DEFAULT_TENANT, settings.default_region, now)
        generated = None
        if settings.admin_token:
            tenant_repo.store_token(conn, tenant.id, "bootstrap-admin", "admin", settings.admin_token, now)
        elif tenant_repo.count_tokens(conn) == 0:
            generated = tenant_repo.new_token()
            tenant_repo.store_token(conn, tenant.id, "bootstrap-admin", "admin", generated, now)
        return BootstrapResult(tenant=tenant, generated_admin_token=generated)

    return await rt.db.write(job)
