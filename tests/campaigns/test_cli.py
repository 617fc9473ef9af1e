"""``wagate campaign run`` against a running gateway over real HTTP (the sandbox's cloud channel)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.channels.cloud.live import Live, live_gateway, sandbox_plugins
from tests.conftest import ADMIN_TOKEN, free_port, make_settings
from wagate.cli.main import app
from wagate.dispatch.campaigns import campaigns_plugin

pytestmark = pytest.mark.asyncio

CSV = "Телефон;Имя;param1;param2\n+7 900 555-00-01;Анна;Анна;#1\n+7 900 555-00-02;Борис;Борис;#2\nнет;X;X;#3\n"


async def invoke(live: Live, *args: str) -> tuple[int, str]:
    def call() -> tuple[int, str]:
        result = CliRunner().invoke(
            app,
            ["campaign", "run", *args, "--poll", "0.1"],
            env={"WAGATE_URL": live.url, "WAGATE_TOKEN": ADMIN_TOKEN, "COLUMNS": "160"},
        )
        return result.exit_code, result.output

    return await asyncio.to_thread(call)


@pytest.fixture
async def live(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    settings = make_settings(sqlite_url, tmp_path, sandbox=True, port=free_port(), dispatcher_workers=2)
    async with live_gateway(settings, plugins=[*sandbox_plugins(), campaigns_plugin(interval=0.05)]) as gateway:
        yield gateway


async def test_dry_run_prints_the_report_and_leaves_nothing(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(CSV.encode("cp1251"))
    code, output = await invoke(live, str(path), "--template", "order_update", "--language", "en", "--dry-run")
    assert code == 0, output
    assert "Dry run" in output
    assert "would be sent now" in output
    assert "invalid phone" in output and " 4" in output  # line 4 of the file
    assert "windows-1251" in output
    assert "nothing was sent" in output
    assert (await live.client.get("/v1/campaigns")).json()["data"] == []
    assert (await live.client.get("/v1/messages")).json()["data"] == []


async def test_run_sends_with_a_progress_bar_and_ends_with_the_stats(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(CSV.encode("cp1251"))
    code, output = await invoke(
        live, str(path), "--template", "order_update", "--language", "en", "--channel", "sandbox"
    )
    assert code == 0, output
    assert "Checked before sending" in output and "Dry run" not in output
    assert "msg/s" in output and "ETA" in output
    assert "completed" in output
    campaign = (await live.client.get("/v1/campaigns")).json()["data"][0]
    assert campaign["state"] == "completed"
    assert campaign["stats"]["sent"] == 2
    # the summary waited for the receipts: it shows both delivered, not "delivered 0 (0.0 %)"
    assert "still await a delivery receipt" not in output
    delivered_row = next(line for line in output.splitlines() if "delivered" in line)
    assert "2" in delivered_row and "100.0%" in delivered_row
    sent = (await live.client.get("/v1/messages", params={"direction": "out"})).json()["data"]
    assert sorted(m["to"] for m in sent) == ["79005550001", "79005550002"]


async def test_a_refused_upload_says_why(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(CSV)
    code, output = await invoke(live, str(path), "--template", "no_such_template")
    assert code == 1
    assert "template_not_found" in output
