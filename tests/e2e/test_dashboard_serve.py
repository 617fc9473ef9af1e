"""``wagate serve`` with the dashboard: live events over a real socket, and a prompt stop with browsers open."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.test_serve_subprocess import wait_ready

pytestmark = pytest.mark.slow
WAGATE = str(Path(sys.executable).parent / "wagate")


def test_event_streams_deliver_news_and_end_when_the_server_stops(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "WAGATE_PORT": str(port),
        "WAGATE_DATA_DIR": str(tmp_path / "data"),
        "WAGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/wagate.db",
        "WAGATE_ADMIN_TOKEN": "serve-admin-token",
        "WAGATE_SANDBOX_FAST": "1",
        "WAGATE_LOG_LEVEL": "INFO",
    }
    subprocess.run(
        [WAGATE, "user", "create", "--login", "anna", "--password", "long enough"],
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = tmp_path / "serve.log"  # the server's own account, shown if the stop is slow
    log_file = log_path.open("wb")
    proc = subprocess.Popen([WAGATE, "serve"], cwd=tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    ended_at: list[float] = []
    try:
        wait_ready(url, proc)  # type: ignore[arg-type]  (a bytes Popen: its output is not read)
        with httpx.Client(base_url=url, timeout=30) as browser:
            token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/").text)
            assert token is not None
            browser.post("/dashboard/login", data={"login": "anna", "password": "long enough", "csrf": token.group(1)})

            def listen() -> None:
                with browser.stream("GET", "/dashboard/events") as response:
                    for line in response.iter_lines():
                        lines.append(line)
                ended_at.append(time.monotonic())
                lines.append("<end>")

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            deadline = time.monotonic() + 10
            while "event: hello" not in lines and time.monotonic() < deadline:
                time.sleep(0.05)
            httpx.post(f"{url}/sandbox/inject", json={"from": "79001112233", "text": "hi"}, timeout=10)
            while not any("inbox" in line for line in lines) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert any(line.startswith("data: ") and "thread:sandbox:79001112233" in line for line in lines), lines
            started = time.monotonic()
            proc.terminate()
            proc.wait(timeout=30)
            stopped_in = time.monotonic() - started
            listener.join(timeout=5)
        assert lines[-1] == "<end>"
        # Without ending the streams, uvicorn would wait its whole graceful timeout (10 s) for them.
        stream_ended_in = ended_at[0] - started
        server_log = log_path.read_text(errors="replace")[-3000:]
        assert stream_ended_in < 5, (stream_ended_in, server_log)
        assert stopped_in < 5, (stopped_in, server_log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log_file.close()
