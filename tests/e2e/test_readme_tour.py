"""The README's two commands' first half and its five-minute tour: ``make run`` in a fresh clone,
then the tour word for word against that server.

The block marked ``<!-- tour: … -->`` is taken from README.md as it is. Only what a reader does
by hand is replaced: ``make run`` (the test starts the server), the token and the URL (a free
port). Every ``curl`` fails the run on an HTTP error, so a command the server no longer accepts,
an example file that is missing or an id that is not what the tour captures breaks this test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.test_serve_subprocess import wait_ready

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
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
def live_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``make run`` in a fresh clone of this repository: the README's first command, as a newcomer runs it.

    The clone installs only what serving needs into its own ``.venv`` (from the pip cache the suite's
    own install warmed), so a runtime import of a development-only package fails here.
    """
    if shutil.which("git") is None or shutil.which("make") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git, make and a git checkout")
    clone = tmp_path / "wagate"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAGATE_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env |= {"WAGATE_PORT": str(port), "WAGATE_ADMIN_TOKEN": TOKEN}
    log = (tmp_path / "make-run.log").open("w")
    proc = subprocess.Popen(
        ["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(url, proc, timeout=420)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{(tmp_path / 'make-run.log').read_text()[-3000:]}") from None
        yield url, clone
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_make_run_in_a_fresh_clone_then_the_tour_word_for_word(live_server: tuple[str, Path]) -> None:
    url, clone = live_server
    script = runnable(tour_block(), url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAGATE_", "PYTHONPATH"))} | {"COLUMNS": "120"}
    result = subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=240)
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
        "using database " + str((clone / "data" / "wagate.db").resolve()),
        "nothing was sent",
        "Checked before sending",
        "completed",
        "not_on_whatsapp",
    ):
        assert promised in output, f"{promised!r} not in the tour's output:\n{output[-4000:]}"
