"""A widely used third-party Cloud API client, pywa (pinned as a dev dependency: 4.5.0, released
2026-09, actively maintained, typed, and it has both a client and typed webhook handlers), pointed
at ``wagate sim``: its calls must work unchanged, as they do against Meta's Graph API.

pywa fixes its base URL to graph.facebook.com; its ``session`` is an httpx client, so the test hands
it one whose transport is the simulator's ASGI app: every request pywa builds reaches the simulator
as it would reach Meta, only the host differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pywa.types.message_status import Pricing, PricingCategory, PricingModel, PricingType
from pywa.types.templates import TemplateCategory, TemplateStatus
from pywa_async import WhatsApp
from pywa_async.errors import WhatsAppError

from wagate.channels.cloud.versions import DEFAULT_API_VERSION
from wagate.sandbox.app import create_sim_app
from wagate.sandbox.config import SimulatorConfig

PNID = "100000000000001"
WABA = "200000000000001"
AUTH = {"Authorization": "Bearer sandbox-token"}


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


# pywa's typed webhook handlers, fed by the simulator's signed webhooks ----------------------


@pytest.fixture
async def handled() -> AsyncIterator[tuple[Any, list[Any]]]:
    """A simulator whose webhooks go, signed, to pywa's own update handler (validation on)."""
    received: list[Any] = []
    session = httpx.AsyncClient()
    receiver = WhatsApp(
        phone_id=PNID, token="sandbox-token", waba_id=WABA, app_secret="sim-secret", session=session, server=None
    )
    for register in (
        receiver.on_template_status_update,
        receiver.on_template_category_update,
        receiver.on_template_quality_update,
        receiver.on_raw_update,
    ):

        @register()  # type: ignore[misc]
        async def keep(_client: Any, update: Any) -> None:
            received.append(update)

    async def hook(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        error = await receiver.webhook_update_validator(body, headers.get("x-hub-signature-256"))
        text, status = error or await receiver.webhook_update_handler(body)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": text.encode()})

    config = SimulatorConfig(
        app_secret="sim-secret",
        webhook_url="http://crm.test/hook",
        status_delays=(0.0, 0.0, 0.0),
        template_review_seconds=None,
    )
    app = create_sim_app(config, verify_on_start=False, webhook_transport=httpx.ASGITransport(app=hook))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test") as client,
    ):
        yield client, received
    await session.aclose()


def raw_fields(received: list[Any]) -> list[str]:
    return [u["entry"][0]["changes"][0]["field"] for u in received if isinstance(u, dict)]


async def _until(received: list[Any], count: int) -> None:
    for _ in range(200):
        if len(received) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"pywa handled {len(received)} updates: {received!r}")


async def test_pywa_s_pricing_type_reads_the_simulator_s_statuses(handled: tuple[Any, list[Any]]) -> None:
    client, received = handled
    template = {
        "name": "order_update",
        "language": {"code": "en"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}]}],
    }
    body = {"messaging_product": "whatsapp", "to": "79001234567", "type": "template", "template": template}
    assert (await client.post(f"/{DEFAULT_API_VERSION}/{PNID}/messages", json=body, headers=AUTH)).status_code == 200
    await _until(received, 3)
    statuses = [
        u["entry"][0]["changes"][0]["value"]["statuses"][0] for u in received if raw_fields([u]) == ["messages"]
    ]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    pricing = Pricing.from_dict(statuses[0]["pricing"])
    assert (pricing.category, pricing.type, pricing.model) == (
        PricingCategory.UTILITY,
        PricingType.REGULAR,
        PricingModel.PMP,
    )


async def test_pywa_s_typed_handlers_read_template_and_limit_webhooks(handled: tuple[Any, list[Any]]) -> None:
    client, received = handled
    await client.post("/sandbox/templates", json={"name": "spring_sale", "language": "en", "status": "APPROVED"})
    await client.post("/sandbox/templates/spring_sale/category", json={"language": "en", "category": "UTILITY"})
    await client.post("/sandbox/templates/spring_sale/quality", json={"language": "en", "quality": "GREEN"})
    await client.post("/sandbox/limits", json={"tier": "TIER_10K"})
    await _until(received, 7)
    typed = [u for u in received if not isinstance(u, dict)]
    assert [type(u).__name__ for u in typed] == [
        "TemplateStatusUpdate",
        "TemplateCategoryUpdate",
        "TemplateQualityUpdate",
    ]
    assert typed[0].template_name == "spring_sale" and typed[0].timestamp is not None
    assert str(typed[1].new_category) == "UTILITY"
    # pywa has no typed class for the limit webhook: its raw handler gets it, signature checked
    assert raw_fields(received)[-1] == "phone_number_quality_update"
