"""The README's five-minute tour, run word for word against a live ``wagate serve``.

The block marked ``<!-- tour: … -->`` is taken from README.md as it is. Only what a reader does
by hand is replaced: ``make run`` (the test starts the server), the token and the URL (a free
port). Every ``curl`` fails the run on an HTTP error, so a command the server no longer accepts,
an example file that is missing or an id that is not what the tour captures breaks this test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.test_serve_subprocess import wait_ready

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix) if (Path(sys.prefix) / "bin" / "wagate").exists() else None
TOKEN = "tour-admin-token"


def tour_block() -> str:
    readme = (ROOT / "README.md").read_text()
    marker = readme.index("<!-- tour:")
    match = re.search(r"```sh\n(.*?)\n```", readme[marker:], re.S)
    assert match, "the tour block is missing from README.md"
    return match.group(1)


def runnable(block: str, url: str) -> str:
    """The block as a script: the server is already running; token and URL come from the test."""
    kept = [line for line in block.splitlines() if not line.startswith(("make run", "export TOKEN=", "export W="))]
    preamble = [
        "set -euo pipefail",
        f"export TOKEN={TOKEN} W={url} WAGATE_URL={url}",
        # a refused request stops the tour, showing the server's answer
        'curl() { command curl --fail-with-body --max-time 60 "$@"; echo; }',
    ]
    return "\n".join(preamble + kept) + "\n"


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    if VENV is None:
        pytest.skip("not running from the project's virtualenv")
    (tmp_path / ".venv").symlink_to(VENV)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    env |= {"WAGATE_PORT": str(port), "WAGATE_ADMIN_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [str(VENV / "bin" / "wagate"), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_tour_runs_word_for_word(live_server: str, tmp_path: Path) -> None:
    script = runnable(tour_block(), live_server)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")} | {"COLUMNS": "120"}
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # what the tour's comments promise
    for promised in (
        '"status":"read"',
        '"whatsapp":"none"',
        '"origin":"customer"',
        '"marked_read":true',
        '"mime_type":"application/pdf"',
        '"code":"phone_too_short"',
        '"tags":["vip"]',
        "using database " + str((tmp_path / "data" / "wagate.db").resolve()),
        "nothing was sent",
        "Checked before sending",
        "completed",
        "not_on_whatsapp",
    ):
        assert promised in output, f"{promised!r} not in the tour's output:\n{output[-4000:]}"
