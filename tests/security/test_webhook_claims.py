"""A dead node's webhook claims come free within one short lease; a live node keeps renewing them.

The finding: after a node was killed, the deliveries it held waited out a 120 s claim lease and
later events of those messages queued behind them. Now a claim's lease is twice one attempt's
timeout plus 5 s (here 2 s → 15 s, the floor) and the sender renews it every third of that.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from tests.webhooks.conftest import Hooks, eventually, hook_settings, hooks
from tests.webhooks.receiver import HANG, Receiver
from wagate.store.repos import webhooks as repo
from wagate.store.webhooks_tables import webhook_deliveries

__all__ = ["hook_settings", "hooks"]


async def leases(hooks: Hooks) -> list[tuple[str | None, object]]:
    rows = await hooks.rt.db.read(
        lambda c: c.execute(
            sa.select(webhook_deliveries.c.lease_owner, webhook_deliveries.c.lease_expires_at).where(
                webhook_deliveries.c.status == "sending"
            )
        ).all()
    )
    return [(r.lease_owner, r.lease_expires_at) for r in rows]


async def test_claims_are_short_renewed_while_alive_and_free_soon_after_death(hooks: Hooks) -> None:
    sender = hooks.node.sender
    assert sender.lease_seconds <= 30 and sender.maintenance_seconds <= sender.lease_seconds / 2
    hanging = await Receiver(behaviour=lambda _r: HANG).start()
    try:
        await hooks.subscribe(hanging.url)
        message = await hooks.send()
        await hooks.advance(message, "sending", "sent")
        await eventually(lambda: len(hanging.received) >= 1, what="a delivery in flight")
        [(owner, first_expiry)] = await leases(hooks)
        assert owner == sender.owner
        claimed_at = hooks.rt.clock.now()
        assert first_expiry <= claimed_at + timedelta(seconds=sender.lease_seconds + 1)

        until = hooks.rt.clock.now() + timedelta(seconds=sender.lease_seconds)
        assert await hooks.rt.db.write(lambda c: repo.renew_leases(c, sender.owner, until)) == 1
        [(_, renewed)] = await leases(hooks)
        assert renewed >= first_expiry

        # The node dies: nothing renews. Once the lease has run out any node's maintenance frees it.
        later = renewed + timedelta(seconds=1)
        assert await hooks.rt.db.write(lambda c: repo.recover_expired(c, later)) == 1
        assert await leases(hooks) == []
    finally:
        await hanging.stop()
        await asyncio.sleep(0)
