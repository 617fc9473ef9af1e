"""The sandbox controls show every outbound body and forge inbound messages: open only on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.channels.cloud.live import sandbox_plugins
from tests.conftest import ADMIN_TOKEN, free_port, make_settings, running_app
from wagate.sandbox.plugin import listens_on_loopback_only


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("gateway.example", False),
    ],
)
def test_loopback_hosts_are_told_apart(host: str, loopback: bool) -> None:
    assert listens_on_loopback_only(host) is loopback


async def _status(host: str, sqlite_url: str, tmp_path: Path, *, token: str | None) -> tuple[int, int]:
    settings = make_settings(sqlite_url, tmp_path, sandbox=True, host=host, port=free_port(), dispatcher=False)
    async with running_app(settings, plugins=sandbox_plugins()) as (_app, _rt, client):
        headers = {"Authorization": f"Bearer {token}"} if token else {"Authorization": ""}
        listing = await client.get("/sandbox/messages", headers=headers)
        # An empty body: refused for want of a token before it is read, or a 422 once let through
        # (a real inject would wait on a webhook to a server that is not listening here).
        inject = await client.post("/sandbox/inject", json={}, headers=headers)
        return listing.status_code, inject.status_code


async def test_controls_need_a_token_when_the_server_listens_beyond_loopback(sqlite_url: str, tmp_path: Path) -> None:
    assert await _status("0.0.0.0", sqlite_url, tmp_path, token=None) == (401, 401)
    assert await _status("0.0.0.0", sqlite_url, tmp_path, token="wrong") == (401, 401)


async def test_controls_take_a_valid_token_beyond_loopback(sqlite_url: str, tmp_path: Path) -> None:
    assert await _status("0.0.0.0", sqlite_url, tmp_path, token=ADMIN_TOKEN) == (200, 422)


async def test_controls_are_open_on_loopback(sqlite_url: str, tmp_path: Path) -> None:
    assert await _status("127.0.0.1", sqlite_url, tmp_path, token=None) == (200, 422)
