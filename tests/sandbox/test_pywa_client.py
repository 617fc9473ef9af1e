"""A widely used third-party Cloud API client, pywa (pinned as a dev dependency: 4.5.0, released
2026-09, actively maintained, typed, and it has both a client and typed webhook handlers), pointed
at ``wagate sim``: its calls must work unchanged, as they do against Meta's Graph API.

pywa fixes its base URL to graph.facebook.com; its ``session`` is an httpx client, so the test hands
it one whose transport is the simulator's ASGI app: every request pywa builds reaches the simulator
as it would reach Meta, only the host differs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pywa.types.templates import TemplateCategory, TemplateStatus
from pywa_async import WhatsApp
from pywa_async.errors import WhatsAppError

from wagate.sandbox.app import create_sim_app
from wagate.sandbox.config import SimulatorConfig

PNID = "100000000000001"
WABA = "200000000000001"


@pytest.fixture
async def wa() -> AsyncIterator[WhatsApp]:
    app = create_sim_app(SimulatorConfig(), verify_on_start=False)
    async with app.router.lifespan_context(app):
        session = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        client = WhatsApp(phone_id=PNID, token="sandbox-token", waba_id=WABA, session=session)
        try:
            yield client
        finally:
            await session.aclose()


async def test_pywa_sends_a_text_and_gets_a_wamid(wa: WhatsApp) -> None:
    sent = await wa.send_message(to="79001234567", text="hello from pywa")
    assert sent.id.startswith("wamid.")


async def test_pywa_reads_and_updates_the_business_profile(wa: WhatsApp) -> None:
    await wa.update_business_profile(about="We bake bread", address="Moscow", email="shop@example.com")
    profile = await wa.get_business_profile()
    assert (profile.about, profile.address, profile.email) == ("We bake bread", "Moscow", "shop@example.com")


async def test_pywa_lists_phone_numbers_and_reads_one(wa: WhatsApp) -> None:
    numbers = await wa.get_business_phone_numbers()
    assert [n.id for n in numbers] == [PNID]
    number = await wa.get_business_phone_number()
    assert number.id == PNID


async def test_pywa_blocks_and_unblocks_users(wa: WhatsApp) -> None:
    blocked = await wa.block_users(users=["79001234567"])
    assert [u.wa_id for u in blocked.added_users] == ["79001234567"]
    # pywa 4.5.0 reads an ``input`` key that Meta's documented list answer does not have, so the list
    # is read raw here (Meta's shape: ``{"data": [{"messaging_product", "wa_id"}], "paging"}``).
    listed = (await wa.api._session.get(f"/{PNID}/block_users")).json()
    assert listed["data"] == [{"messaging_product": "whatsapp", "wa_id": "79001234567"}]
    unblocked = await wa.unblock_users(users=["79001234567"])
    assert [u.wa_id for u in unblocked.removed_users] == ["79001234567"]


async def test_pywa_lists_templates_with_filters_and_summary(wa: WhatsApp) -> None:
    approved = await wa.get_templates(statuses=[TemplateStatus.APPROVED])
    assert {t.name for t in approved} == {"hello_world", "order_update"}
    assert approved.total_count == 3
    marketing = await wa.get_templates(categories=[TemplateCategory.MARKETING])
    assert {t.name for t in marketing} == {"spring_sale", "winback_offer"}


async def test_an_unknown_object_is_a_graph_error_pywa_understands(wa: WhatsApp) -> None:
    with pytest.raises(WhatsAppError) as caught:
        await wa.get_business_phone_number(phone_id="999")
    assert (caught.value.code, caught.value.subcode, caught.value.status_code) == (100, 33, 400)
