"""Applying what Meta says about a channel's account: the messaging limit and throughput (``limits``)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Connection

from wagate.channels.cloud.limits import policy_with_limit, throughput_of, tier_of
from wagate.runtime import Runtime
from wagate.store.repos import channels as channel_repo
from wagate.store.repos.channels import ChannelRow

log = logging.getLogger("wagate.channels.cloud.account")


async def apply_account_facts(rt: Runtime, row: ChannelRow, value: dict[str, Any]) -> bool:
    """Follow Meta's tier (and throughput) in the channel's policy; returns whether it changed."""
    tier, throughput = tier_of(value), throughput_of(value)
    now = rt.clock.now()

    def job(conn: Connection) -> bool:
        current = channel_repo.get_channel_by_id(conn, row.id)
        if current is None:
            return False
        changed = policy_with_limit(current.policy, tier, throughput)
        if changed is None:
            return False
        channel_repo.update_channel(conn, row.id, {"policy": changed}, now)
        return True

    changed = await rt.db.write(job)
    if changed:
        rt.forget_channels(row.tenant_id)
        log.info("Meta's messaging limit applied", extra={"channel": row.name, "tier": tier, "throughput": throughput})
    return changed
