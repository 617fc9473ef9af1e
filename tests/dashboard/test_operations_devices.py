"""The operations page shows the device channel's devices: online/offline by the 2-minute rule, battery."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.dashboard.conftest import Desk
from wagate.store.device_tables import devices
from wagate.store.repos import operations


async def test_devices_show_online_offline_and_battery(desk_sqlite: Desk) -> None:
    tenant = await desk_sqlite.tenant()
    channel = (await desk_sqlite.rt.channels_of(tenant.id))["main"]
    now = desk_sqlite.clock.now()

    def setup(conn: sa.Connection) -> None:
        base = {
            "tenant_id": tenant.id,
            "channel_id": channel.id,
            "status": "online",
            "charging": False,
            "created_at": now,
            "updated_at": now,
        }
        for name, seen, battery, revoked in (
            ("pixel", now - timedelta(seconds=30), 81, None),
            ("silent", now - timedelta(minutes=5), 12, None),
            ("gone", now, None, now),
        ):
            conn.execute(
                devices.insert().values(
                    **base,
                    name=name,
                    token_hash=f"hash-of-{name}",
                    last_seen_at=seen,
                    battery=battery,
                    revoked_at=revoked,
                )
            )

    await desk_sqlite.rt.db.write(setup)
    found = await desk_sqlite.rt.db.read(lambda c: operations.devices(c, tenant.id, now))
    shown = {d["name"]: (d["online"], d["battery"]) for d in found[channel.id]}
    assert shown == {"pixel": (True, 81), "silent": (False, 12)}

    await desk_sqlite.user("anna")
    session = await desk_sqlite.sign_in("anna")
    page = (await session.get("/dashboard/operations")).text
    assert "pixel: online · battery 81%" in page
    assert "silent: offline" in page
