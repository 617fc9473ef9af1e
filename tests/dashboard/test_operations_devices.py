"""The operations page reads the device channel's ``devices`` table when the node has one.

The device channel lives in another package; this test stands in a table with its columns
(``wagate/store/device_tables.py`` on that branch) to prove the read and the 2-minute rule.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import Desk
from wagate.store.repos import operations
from wagate.store.types import UTCDateTime


async def test_devices_show_online_offline_and_battery(desk_sqlite: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = sa.MetaData()
    devices = sa.Table(
        "devices",
        stand_in,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("channel_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=True),
        sa.Column("battery", sa.Integer, nullable=True),
        sa.Column("charging", sa.Boolean, nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    monkeypatch.setattr(operations, "metadata", stand_in)
    tenant = await desk_sqlite.tenant()
    channel = (await desk_sqlite.rt.channels_of(tenant.id))["main"]
    now = desk_sqlite.clock.now()

    def setup(conn: sa.Connection) -> None:
        stand_in.create_all(conn)
        base = {"tenant_id": tenant.id, "channel_id": channel.id, "status": "online", "charging": False}
        for name, seen, battery, revoked in (
            ("pixel", now - timedelta(seconds=30), 81, None),
            ("silent", now - timedelta(minutes=5), 12, None),
            ("gone", now, None, now),
        ):
            conn.execute(
                devices.insert().values(**base, name=name, last_seen_at=seen, battery=battery, revoked_at=revoked)
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
