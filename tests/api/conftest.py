"""A whole node in-process (every door and plug-in, the sandbox on) for the API-surface tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
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


@contextmanager
def serve(db_url: str, directory: Path) -> Iterator[str]:
    """``wagate serve`` as a process (sandbox on); yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "WAGATE_PORT": str(port),
        "WAGATE_DATA_DIR": str(directory / "data"),
        "WAGATE_DATABASE_URL": db_url,
        "WAGATE_ADMIN_TOKEN": TOKEN,
        "WAGATE_SANDBOX": "1",
    }
    log = (directory / "server.log").open("w")
    proc = subprocess.Popen([str(BIN / "wagate"), "serve"], cwd=directory, env=env, stdout=log, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=180)  # a busy CI machine can take a minute to import and migrate
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A server on each database (a fresh one per test)."""
    with serve(db_url, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def served_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One SQLite server shared by a module's tests (each test uses its own phone numbers)."""
    directory = tmp_path_factory.mktemp("served")
    with serve(f"sqlite+aiosqlite:///{directory}/wagate.db", directory) as url:
        yield url
