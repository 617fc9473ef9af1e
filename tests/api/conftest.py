"""A whole node in-process (every door and plug-in, the sandbox on) for the API-surface tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, make_settings, running_app
from tests.e2e.test_serve_subprocess import wait_ready
from wagate.app import create_app
from wagate.node import node_plugins, node_registry

BIN = Path(sys.executable).parent
TOKEN = "api-admin-token"


async def _node(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(db_url, tmp_path, dispatcher=False, sandbox=True)
    app = create_app(
        settings, registry=node_registry(include_memory=True), plugins=node_plugins(settings), migrate=False
    )
    async with running_app(settings, app=app) as (_app, _rt, client):
        yield client


@pytest.fixture
async def node(sqlite_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """SQLite only: for rules that are decided before storage is reached."""
    async for client in _node(sqlite_url, tmp_path):
        yield client


@pytest.fixture
async def node_any(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """On each dialect: for rules whose answer involves the database."""
    async for client in _node(db_url, tmp_path):
        yield client


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[str]:
    """``wagate serve`` as a process (sandbox on) on each database; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "WAGATE_PORT": str(port),
        "WAGATE_DATA_DIR": str(tmp_path / "data"),
        "WAGATE_DATABASE_URL": db_url,
        "WAGATE_ADMIN_TOKEN": TOKEN,
        "WAGATE_SANDBOX": "1",
    }
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([str(BIN / "wagate"), "serve"], cwd=tmp_path, env=env, stdout=log, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=60)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
