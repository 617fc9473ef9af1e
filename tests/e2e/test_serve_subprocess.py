"""``wagate serve`` as a real process, spoken to over TCP; the CLI as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow
WAGATE = str(Path(sys.executable).parent / "wagate")


def wait_ready(url: str, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "WAGATE_PORT": str(port),
        "WAGATE_DATA_DIR": str(tmp_path / "data"),
        "WAGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/wagate.db",
    }
    env.pop("WAGATE_ADMIN_TOKEN", None)
    proc = subprocess.Popen(
        [WAGATE, "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield url, proc, env
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()


def read_banner(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    lines = []
    while True:
        line = proc.stdout.readline()
        lines.append(line)
        if "token" in line:
            return "".join(lines)


def test_first_start_prints_a_working_admin_token(server: tuple[str, subprocess.Popen[str], dict[str, str]]) -> None:
    url, proc, _env = server
    banner = read_banner(proc)
    assert f"{url}/" in banner
    token = banner.split("store it now):")[1].split()[0]
    response = httpx.get(f"{url}/v1/channels", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert httpx.get(f"{url}/v1/channels", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_token_create_prints_only_the_token(server: tuple[str, subprocess.Popen[str], dict[str, str]]) -> None:
    url, _proc, env = server
    out = subprocess.run(
        [WAGATE, "token", "create", "--name", "crm", "--role", "api"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = out.stdout.strip()
    assert token and "\n" not in token
    response = httpx.get(f"{url}/v1/messages", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert token not in (Path(env["WAGATE_DATA_DIR"]) / "wagate.db").read_bytes().decode("latin-1")
