"""The policy benchmark runs end to end (tiny sizes; the numbers themselves are not asserted)."""

from __future__ import annotations

import pytest

from wagate.bench.policy import run


@pytest.mark.slow
def test_policy_bench_runs_every_scenario() -> None:
    lines = run(singles=20, batches=1, concurrency=4, repeat=1)
    assert [line.split()[0] for line in lines[2:]] == ["rules", "text,", "template,"]
    assert lines[2].split()[3] == "1.00"
