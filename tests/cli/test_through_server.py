"""``token create`` and ``user create`` with ``--url``: made by the running server, in its own database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.channels.cloud.live import Live, live_gateway
from tests.conftest import ADMIN_TOKEN, free_port, make_settings
from wagate.cli.main import app

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def live(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_gateway(make_settings(sqlite_url, tmp_path, port=free_port(), dispatcher=False)) as gateway:
        yield gateway


async def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    def call() -> tuple[int, str, str]:
        result = CliRunner().invoke(app, list(args), env=env or {})
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.to_thread(call)


async def test_token_create_through_the_server_prints_a_token_the_server_accepts(live: Live, tmp_path: Path) -> None:
    code, out, err = await invoke(
        "token", "create", "--name", "crm", "--role", "api", "--url", live.url, "--admin-token", ADMIN_TOKEN
    )
    assert code == 0, err
    token = out.strip()
    assert token.startswith("wg_") and "\n" not in token
    assert f"asking the server at {live.url}" in err
    async with httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert (await client.get("/v1/messages")).status_code == 200
        assert (await client.post("/v1/tokens", json={"name": "x"})).status_code == 403  # an api token is no admin


async def test_user_create_through_the_server_and_its_refusals(live: Live) -> None:
    env = {"WAGATE_TOKEN": ADMIN_TOKEN}
    code, out, err = await invoke(
        "user", "create", "--login", "anna", "--password", "long enough", "--role", "admin", "--url", live.url, env=env
    )
    assert code == 0, err
    assert out.strip() == "user anna (admin) created"
    weak = await invoke("user", "create", "--login", "boris", "--password", "short", "--url", live.url, env=env)
    assert weak[0] == 2 and "password" in weak[2]
    no_token = await invoke("token", "create", "--name", "crm", "--url", live.url, env={"WAGATE_TOKEN": ""})
    assert no_token[0] == 2 and "admin token is needed" in no_token[2]
