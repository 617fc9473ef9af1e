"""A whole node in-process (every door and plug-in, the sandbox on) for the API-surface tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings, running_app
from wagate.app import create_app
from wagate.node import node_plugins, node_registry


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
