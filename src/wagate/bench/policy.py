"""``wagate bench policy``: what the policy layer costs on the accept path.

Accepts messages through ``services.messages.accept_messages`` (the path every door takes,
without HTTP) in three set-ups, each on a fresh database, and prints messages/second and the
ratio to the first:

* ``rules off`` — the bare baseline: a channel whose policy checks nothing;
* ``text, all rules`` — free-form replies with window, consent and duplicate checks on;
* ``template, all rules`` — business-initiated templates with consent, daily cap and tier on.

Each runs as single-message requests from concurrent tasks (what group commit batches) and
as batches of 1000.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wagate.app import create_app
from wagate.channels.registry import default_registry
from wagate.config import Settings
from wagate.domain.messages import OutboundDraft
from wagate.domain.records import Tenant
from wagate.runtime import Runtime
from wagate.services import channels as channel_service
from wagate.services.inbound import record_inbound
from wagate.services.messages import Outcome, accept_messages
from wagate.store.policy_tables import consents, templates
from wagate.store.repos import policy as policy_repo
from wagate.store.repos import tenants as tenant_repo

RULES_OFF = {"service_window": False, "consent": "off", "duplicate_window_s": 0, "messaging_limit": None}
ALL_RULES = {"service_window": True, "consent": "enforce", "duplicate_window_s": 300, "messaging_limit": 100000}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    policy: dict[str, Any]
    draft: Callable[[str, int], OutboundDraft]
    inbound: bool


def _text(phone: str, i: int) -> OutboundDraft:
    return OutboundDraft(to=phone, text=f"answer {i}")


def _template(phone: str, i: int) -> OutboundDraft:
    return OutboundDraft(
        to=phone, type="template", template={"name": "notice", "language": "en", "params": [f"A-{i}", "Friday"]}
    )


SCENARIOS = [
    Scenario("rules off", RULES_OFF, _text, inbound=False),
    Scenario("text, all rules", ALL_RULES, _text, inbound=True),
    Scenario("template, all rules", ALL_RULES, _template, inbound=False),
]


def _render(outcomes: list[Outcome]) -> tuple[int, Any]:
    return 202, None


async def _prepare(rt: Runtime, scenario: Scenario, phones: list[str]) -> Tenant:
    tenant = await rt.db.read(lambda c: tenant_repo.get_tenant_by_name(c, "default"))
    assert tenant is not None
    await channel_service.create_channel(rt, tenant, {"name": "main", "kind": "memory", "policy": scenario.policy})
    now = rt.clock.now()

    def seed(conn: Any) -> None:
        conn.execute(
            templates.insert().values(
                tenant_id=tenant.id,
                channel="",
                name="notice",
                language="en",
                category="utility",
                body="Order {{1}} is ready until {{2}}",
                buttons=[],
                status="approved",
                source="local",
                created_at=now,
                updated_at=now,
            )
        )
        conn.execute(
            consents.insert(),
            [
                {
                    "tenant_id": tenant.id,
                    "phone": p,
                    "status": "active",
                    "scopes": ["utility"],
                    "source": "import",
                    "evidence": {},
                    "consented_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for p in phones
            ],
        )
        if scenario.policy["messaging_limit"]:
            policy_repo.set_tenant_policy(conn, tenant.id, {"daily_cap": 10_000_000})

    await rt.db.write(seed)
    if scenario.inbound:
        row = (await rt.channels_of(tenant.id, fresh=True))["main"]
        for index, phone in enumerate(phones):
            await record_inbound(rt, row, phone=phone, type="text", payload={"text": "hi"}, provider_id=f"b{index}")
    fresh = await rt.db.read(lambda c: tenant_repo.get_tenant_by_name(c, "default"))
    assert fresh is not None
    return fresh


async def _run(
    url: str, data_dir: Path, scenario: Scenario, singles: int, batches: int, concurrency: int
) -> tuple[float, float]:
    settings = Settings(database_url=url, data_dir=data_dir, sandbox=False, dispatcher=False, admin_token="bench")
    app = create_app(settings, registry=default_registry(include_memory=True))
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        rt: Runtime = app.state.runtime
        phones = [f"7900{i:07d}" for i in range(max(singles, 1000))]
        tenant = await _prepare(rt, scenario, phones)
        counter = iter(range(singles))

        async def worker() -> None:
            for i in counter:
                await accept_messages(rt, tenant, [scenario.draft(phones[i], i)], render=_render)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        single_rate = singles / (time.perf_counter() - start)

        start = time.perf_counter()
        for b in range(batches):
            drafts = [scenario.draft(phones[i], 100_000 + b * 1000 + i) for i in range(1000)]
            await accept_messages(rt, tenant, drafts, render=_render)
        batch_rate = batches * 1000 / (time.perf_counter() - start)
        stored = await rt.db.read(
            lambda c: c.execute(sa.text("SELECT count(*) FROM messages WHERE direction = 'out'")).scalar_one()
        )
        if stored != singles + batches * 1000:
            raise RuntimeError(f"{scenario.name}: {stored} stored, expected {singles + batches * 1000}")
    return single_rate, batch_rate


def run(singles: int = 3000, batches: int = 5, concurrency: int = 64, repeat: int = 3) -> list[str]:
    """Run every scenario ``repeat`` times, interleaved, on fresh SQLite files (``synchronous=FULL``,
    as a node runs) and keep each one's best rate: the best is the least disturbed by other load."""
    lines = [
        f"policy bench: {singles} single-message requests ({concurrency} concurrent), {batches} batches of 1000;"
        f" best of {repeat}",
        f"{'scenario':<22}{'single msg/s':>14}{'ratio':>8}{'batch msg/s':>14}{'ratio':>8}",
    ]
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(repeat):
            for index, scenario in enumerate(SCENARIOS):
                url = f"sqlite+aiosqlite:///{tmp}/bench-{round_}-{index}.db"
                single, batch = asyncio.run(_run(url, Path(tmp) / "data", scenario, singles, batches, concurrency))
                previous = best.get(scenario.name, (0.0, 0.0))
                best[scenario.name] = (max(previous[0], single), max(previous[1], batch))
    base = best[SCENARIOS[0].name]
    for scenario in SCENARIOS:
        single, batch = best[scenario.name]
        lines.append(f"{scenario.name:<22}{single:>14.0f}{single / base[0]:>8.2f}{batch:>14.0f}{batch / base[1]:>8.2f}")
    return lines
