"""Nodes of one deployment starting at the same moment on one PostgreSQL database (a cluster's first start)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import make_settings
from tests.conftest import test_registry as base_registry
from wagate.app import create_app
from wagate.store.tables import api_tokens, tenants


async def test_nodes_starting_together_make_one_tenant_and_one_admin_token(pg_db_url: str, tmp_path: Path) -> None:
    apps = [
        create_app(
            make_settings(pg_db_url, tmp_path / f"node{i}", dispatcher=False, webhooks=False),
            registry=base_registry(),
            migrate=False,
        )
        for i in range(4)
    ]
    lifespans = [app.router.lifespan_context(app) for app in apps]
    await asyncio.gather(*(lifespan.__aenter__() for lifespan in lifespans))
    try:
        rt = apps[0].state.runtime

        def counts(conn: sa.Connection) -> tuple[int, int]:
            tenant_count = conn.execute(sa.select(sa.func.count()).select_from(tenants)).scalar_one()
            token_count = conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar_one()
            return int(tenant_count), int(token_count)

        assert await rt.db.read(counts) == (1, 1)
        assert len({app.state.bootstrap.tenant.id for app in apps}) == 1
    finally:
        for lifespan in lifespans:
            await lifespan.__aexit__(None, None, None)
