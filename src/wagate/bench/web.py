"""``wagate bench web``: the web channel with the fake WhatsApp (``channels.web.fake``).

1. **Inbound**: the fake session emits neonize ``Message`` events at a fixed rate; the latency
   of each is measured from the emit to the moment its row is written inside the committing
   transaction (an inbound hook), so it covers the event bridge, parsing, the LID/phone
   resolution and the group-committed write. The webhook leg after the commit is the same as
   every channel's and is measured by ``wagate bench webhooks``.
2. **Sends**: N text messages queued through the API on a channel with pacing off; sends per
   second until the fake has accepted all of them (the ceiling of one session in this process).
3. **Memory**: the resident size added by ``--sessions`` real neonize clients (the Go library
   loaded, each client built and its connection attempted once; none can connect here).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from wagate.app import create_app
from wagate.channels.registry import default_registry
from wagate.channels.web import library, prepare_web_settings, web_factory, web_plugin
from wagate.channels.web.fake import FakeWhatsApp
from wagate.config import Settings
from wagate.services.inbound import inbound_hooks

PACING_OFF = {
    "per_second": 10000,
    "min_interval_s": 0,
    "max_interval_s": 0,
    "recipient_interval_s": 0,
    "new_contacts_daily_cap": None,
    "warmup_daily_caps": None,
    "unanswered_threshold": None,
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _until(check: Callable[[], Any], step: float = 0.01) -> None:
    """Poll ``check`` (sync or async) until it is true: the bench watches a fake, not a signal."""
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(step)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(events: int, rate: float, sends: int, database_url: str | None, echo: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(database_url=url, data_dir=Path(tmp), admin_token="bench-token", sandbox=False)
        world = FakeWhatsApp()
        registry = default_registry()
        registry.register("web", web_factory, prepare_settings=prepare_web_settings)
        app = create_app(settings, registry=registry, plugins=[web_plugin(world.factory, scan_gap=0.05)])
        async with app.router.lifespan_context(app):
            rt = app.state.runtime
            stored: dict[str, float] = {}

            def hook(
                _conn: Any, _rt: Any, _channel: Any, _mid: int, _phone: str, payload: dict[str, Any], _now: Any
            ) -> None:
                stored[str(payload.get("text"))] = time.perf_counter()

            inbound_hooks(rt).append(hook)
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": "Bearer bench-token"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
                body = {"name": "wa", "kind": "web", "pacing": PACING_OFF}
                assert (await client.post("/v1/channels", json=body)).status_code == 201
                await _until(lambda: 1 in world.sessions)
                session = world.session(1)
                await _until(lambda: session.sink is not None)
                session.pair("79000000001")

                async def connected() -> bool:
                    return bool((await client.get("/v1/channels/wa/session")).json()["state"] == "connected")

                await _until(connected)
                e2e = library.load()["e2e"]
                emitted: dict[str, float] = {}
                start = time.perf_counter()
                for index in range(events):
                    due = start + index / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    text = f"bench {index}"
                    emitted[text] = time.perf_counter()
                    session.incoming(e2e.Message(conversation=text), sender=f"7901{index % 500:07d}@s.whatsapp.net")
                await _until(lambda: len(stored) >= events)
                latencies = [(stored[t] - emitted[t]) * 1000 for t in emitted]
                echo(
                    f"inbound  {events} events at {rate:.0f}/s: emit → stored p50 {statistics.median(latencies):.1f} ms, "
                    f"p99 {_percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms"
                )
                began = time.perf_counter()
                batch = [{"channel": "wa", "to": f"7902{i:07d}", "text": f"out {i}"} for i in range(sends)]
                for offset in range(0, sends, 1000):
                    response = await client.post("/v1/messages", json={"messages": batch[offset : offset + 1000]})
                    assert response.status_code == 202, response.text
                await _until(lambda: sum(1 for name, _ in session.calls if name == "send") >= sends, 0.02)
                seconds = time.perf_counter() - began
                echo(f"sends    {sends} messages, pacing off: {sends / seconds:.0f}/s through one session")


async def memory(sessions: int, echo: Callable[[str], None]) -> None:
    from wagate.channels.web.neonize_session import NeonizeSession
    from wagate.channels.web.session import SessionError, SessionSpec, sqlite_store

    class Offline(NeonizeSession):
        async def _preflight(self) -> None:  # let whatsmeow itself dial once
            return None

    before = _rss_mb()
    library.load()
    loaded = _rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        held = []
        for index in range(sessions):
            session = Offline(SessionSpec(channel_id=index + 1, store=sqlite_store(Path(tmp), index + 1), jid=None))
            with contextlib.suppress(SessionError):
                await session.run(lambda _event: None)
            held.append(session)
        after = _rss_mb()
        echo(
            f"memory   neonize loaded: +{loaded - before:.0f} MB; {sessions} clients (each connected once, offline): "
            f"+{after - loaded:.0f} MB ({(after - loaded) / max(1, sessions):.2f} MB each); RSS {after:.0f} MB"
        )
        for session in held:
            await session.stop()
