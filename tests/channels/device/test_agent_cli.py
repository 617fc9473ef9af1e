"""``wagate agent`` as users run it, where it can run without a phone."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from wagate.cli.main import app


@pytest.fixture(autouse=True)
def keep_root_logging() -> Iterator[None]:
    """``wagate agent`` points the root logger at CliRunner's stderr, which is closed after the
    run: put the root logger back, or later tests log into a closed file ("Logging error")."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.skipif(importlib.util.find_spec("uiautomator2") is not None, reason="would connect to adb")
def test_without_the_agent_extra_the_agent_says_how_to_install_it() -> None:
    result = CliRunner().invoke(app, ["agent", "--url", "http://127.0.0.1:9", "--device-token", "wgd_x"])
    assert result.exit_code == 2
    assert "pip install 'wagate[agent]'" in result.output


def test_the_entry_waits_must_be_seconds() -> None:
    result = CliRunner().invoke(
        app, ["agent", "--url", "http://127.0.0.1:9", "--device-token", "wgd_x", "--entry-waits", "2,soon"]
    )
    assert result.exit_code != 0
    assert "comma-separated list of seconds" in result.output
