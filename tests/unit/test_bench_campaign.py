"""The campaign benchmark runs end to end (a small file; the numbers themselves are not asserted)."""

from __future__ import annotations

import pytest

from wagate.bench.campaign import run


@pytest.mark.slow
def test_campaign_bench_measures_every_step_and_checks_the_import() -> None:
    lines = run(rows=2000)
    labels = [line[:36].strip() for line in lines[2:6]]
    assert labels == [
        "plain csv parse",
        "raw SQLite insert (1000 rows/txn)",
        "wagate import + dry run (service)",
        "wagate POST /v1/campaigns (ASGI)",
    ]
    assert lines[2].split()[-2:] == ["1.0", lines[2].split()[-1]]
    assert "report: rows 2000, valid 1960, sendable 970, invalid_phone 20, duplicate 20" in lines[8]
