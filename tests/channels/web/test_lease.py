"""One node runs a channel's session at a time: the lease, its fence, and a take-over."""

from __future__ import annotations

from datetime import timedelta

from tests.channels.web.conftest import WebGateway, eventually
from wagate.channels.web.fake import FakeWhatsApp
from wagate.channels.web.manager import WebSessions
from wagate.store.repos import web as web_repo


async def test_a_second_node_waits_then_takes_over_when_the_lease_expires(web_both: WebGateway) -> None:
    web = web_both
    await web.linked()
    channel = (await web.rt.channels_of(1, fresh=True))["wa"]
    first: WebSessions = web.rt.extras["web_sessions"]
    other_world = FakeWhatsApp()
    second = WebSessions(
        web.rt, other_world.factory, lease_seconds=30.0, renew_seconds=0.5, owner="node-b", check_store=False
    )
    await second.scan()
    assert second.get(channel.id) is None and channel.id not in other_world.sessions  # held by the first node
    # The first node dies (stops renewing, keeps no goodbye): its lease runs out.
    first._stopping = True
    if first._task is not None:
        first._task.cancel()
    row = await web.rt.db.read(lambda c: web_repo.get_session(c, channel.id))
    old_fence = row.fence
    expired = row.lease_expires_at + timedelta(seconds=1)
    assert await web.rt.db.write(lambda c: web_repo.acquire(c, channel.id, "node-b", expired, 30.0)) == old_fence + 1
    await second.scan()
    supervisor = await eventually(lambda: second.get(channel.id))
    assert supervisor.fence == old_fence + 1
    # The new node resumes the linked device (its JID from the shared row), no new pairing.
    await eventually(lambda: channel.id in other_world.sessions)
    assert other_world.session(channel.id).spec.jid == "79001110000:7@s.whatsapp.net"
    # The old node's writes are fenced off: it learns it lost the lease and stops.
    old = first.get(channel.id)
    assert old is not None
    assert await old.report(state="disconnected", error="stale") is False
    await eventually(lambda: first.get(channel.id) is None)
    await second.stop()


async def test_a_lease_is_renewed_by_its_holder_and_refused_to_others(web_both: WebGateway) -> None:
    web = web_both
    channel_id = await web.create()
    owner = web.rt.extras["web_sessions"].owner
    now = web.rt.clock.now()
    held = await web.rt.db.read(lambda c: web_repo.get_session(c, channel_id))
    assert held.owner == owner
    assert await web.rt.db.write(lambda c: web_repo.acquire(c, channel_id, "intruder", now, 30.0)) is None
    assert await web.rt.db.write(lambda c: web_repo.acquire(c, channel_id, owner, now, 30.0)) == held.fence
