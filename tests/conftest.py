"""Shared fixtures: real SQLite and real PostgreSQL databases, apps with their lifespan, clients.

``db_url`` is parametrized over both dialects. PostgreSQL tests use the local server
(127.0.0.1:5432, database ``test``): each run migrates one template database, and every
test gets a fresh copy of it (``CREATE DATABASE … TEMPLATE``). They skip only when the
server is absent *and* ``CI`` is unset; in CI an absent server is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from wagate.app import Plugin, create_app
from wagate.channels.registry import ChannelRegistry, default_registry
from wagate.clock import Clock
from wagate.config import Settings
from wagate.runtime import Runtime
from wagate.store.migrate import migrate, migrate_async

PG_ADMIN_DSN = os.environ.get("WAGATE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "test-admin-token"
RUN_ID = uuid.uuid4().hex[:8]


def _pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{database}"


async def _pg_exec(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 and CI is set")
        pytest.skip("PostgreSQL not available (and CI unset)")
    name = f"wgtpl_{RUN_ID}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    asyncio.run(migrate_async(pg_url(name)))
    yield name
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def fresh_sqlite(template: Path, directory: Path) -> str:
    target = directory / "wagate.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def fresh_pg(request: pytest.FixtureRequest) -> Iterator[str]:
    template = request.getfixturevalue("pg_template")
    name = f"wgt_{RUN_ID}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield pg_url(name)
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database of each dialect."""
    if request.param == "sqlite":
        return fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("fresh_pg")
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def pg_db_url(fresh_pg: str) -> str:
    return fresh_pg


def make_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": tmp_path / "data",
        "admin_token": ADMIN_TOKEN,
        "sandbox": False,
        "port": 8080,
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)


def test_registry() -> ChannelRegistry:
    return default_registry(include_memory=True)


@asynccontextmanager
async def running_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: ChannelRegistry | None = None,
    plugins: list[Plugin] | None = None,
    app: FastAPI | None = None,
) -> AsyncIterator[tuple[FastAPI, Runtime, httpx.AsyncClient]]:
    """An app with its lifespan running and an httpx client speaking ASGI to it."""
    application = app or create_app(
        settings, clock=clock, registry=registry or test_registry(), migrate=False, plugins=plugins
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://wagate.test", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as client:
            yield application, application.state.runtime, client


@pytest.fixture
async def gateway(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """A gateway on each dialect with the dispatcher off and one ``memory`` channel named ``main``."""
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(settings) as (_app, rt, client):
        response = await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        assert response.status_code == 201, response.text
        yield rt, client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
