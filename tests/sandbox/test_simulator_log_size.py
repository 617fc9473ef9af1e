"""The simulator remembers as many sends as it is told to (it forgot all but the last 2,000)."""

from __future__ import annotations

import pytest

from wagate.sandbox.config import SimulatorConfig, SimulatorOptions
from wagate.sandbox.simulator import Simulator

PNID = "100000000000001"


@pytest.mark.parametrize(("size", "sends", "kept"), [(5000, 3000, 3000), (10, 25, 10)])
async def test_the_send_log_keeps_the_configured_number_of_sends(size: int, sends: int, kept: int) -> None:
    sim = Simulator(SimulatorConfig(log_size=size, throughput=1e9, status_delays=(3600.0, 3600.0, 3600.0)))
    try:
        ids = [
            (
                await sim.post_messages(
                    PNID, {"messaging_product": "whatsapp", "to": f"7900{i:07d}", "text": {"body": "x"}}
                )
            )["messages"][0]["id"]
            for i in range(sends)
        ]
        assert len(sim.sent) == kept
        assert list(sim.sent) == ids[-kept:]  # the oldest go first
    finally:
        await sim.close()


def test_the_log_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAGATE_SANDBOX_LOG_SIZE", "50000")
    assert SimulatorOptions().apply(SimulatorConfig()).log_size == 50000
