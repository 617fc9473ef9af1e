"""``/v1/conversations``: conversations kept from messages, filters, paging, assignment, notes."""

from __future__ import annotations

import asyncio

import httpx

from tests.dashboard.conftest import Desk
from wagate.domain.messages import OutboundDraft
from wagate.services.inbound import record_inbound
from wagate.services.messages import accept_messages

PHONE = "79001234567"


async def only(desk: Desk, **params: str) -> dict:  # type: ignore[type-arg]
    response = await desk.client.get("/v1/conversations", params=params)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert len(data) == 1, data
    return data[0]  # type: ignore[no-any-return]


async def test_a_client_message_opens_a_conversation_waiting_for_a_reply(desk: Desk) -> None:
    await desk.inbound(PHONE, "where is my order?")
    conversation = await only(desk)
    assert conversation["phone"] == PHONE
    assert conversation["channel"] == "main"
    assert conversation["state"] == "waiting"
    assert conversation["unread"] == 1
    assert conversation["preview"] == "where is my order?"
    assert conversation["awaiting_since"] == conversation["last_inbound_at"]
    assert conversation["assignee"] is None


async def test_several_client_messages_wait_from_the_first(desk: Desk) -> None:
    await desk.inbound(PHONE, "one")
    first = (await only(desk))["awaiting_since"]
    desk.clock.advance(60)
    await desk.inbound(PHONE, "two")
    desk.clock.advance(60)
    await desk.inbound(PHONE, "three")
    conversation = await only(desk)
    assert conversation["unread"] == 3
    assert conversation["awaiting_since"] == first
    assert conversation["preview"] == "three"


async def test_an_operator_reply_answers_and_takes_an_unassigned_conversation(desk: Desk) -> None:
    await desk.user("anna")
    await desk.inbound(PHONE)
    desk.clock.advance(120)
    await desk.api_reply(PHONE, "on its way", operator="anna")
    conversation = await only(desk)
    assert conversation["state"] == "open"
    assert conversation["awaiting_since"] is None
    assert conversation["unread"] == 0
    assert conversation["assignee"] == {"login": "anna", "name": None}
    assert conversation["last_direction"] == "out"


async def test_a_reply_keeps_the_conversations_assignee(desk: Desk) -> None:
    await desk.user("anna")
    await desk.user("boris")
    await desk.inbound(PHONE)
    conversation_id = (await only(desk))["id"]
    await desk.client.post(f"/v1/conversations/{conversation_id}/assign", json={"assignee": "boris"})
    await desk.api_reply(PHONE, "I can help too", operator="anna")
    assert (await only(desk))["assignee"]["login"] == "boris"


async def test_a_batch_of_replies_touches_each_conversation_once_with_its_last_reply(desk: Desk) -> None:
    await desk.user("anna")
    await desk.inbound(PHONE)
    items = [{"to": PHONE, "text": f"part {i}", "channel": "main", "operator": "anna"} for i in range(3)]
    response = await desk.client.post("/v1/messages", json={"messages": items})
    assert response.status_code == 202, response.text
    conversation = await only(desk)
    assert conversation["preview"] == "part 2"
    assert conversation["state"] == "open"
    assert conversation["assignee"]["login"] == "anna"


async def test_campaign_messages_are_not_replies_even_with_an_operator(desk: Desk) -> None:
    await desk.inbound(PHONE)
    tenant = await desk.tenant()
    draft = OutboundDraft(to=PHONE, text="spring sale", channel="main", operator="anna", origin="campaign")
    await accept_messages(desk.rt, tenant, [draft], render=lambda outcomes: (202, None))
    assert (await only(desk))["state"] == "waiting"


async def test_a_message_without_an_operator_leaves_the_client_waiting(desk: Desk) -> None:
    await desk.inbound(PHONE)
    await desk.api_reply(PHONE, "automatic notice", operator=None)
    conversation = await only(desk)
    assert conversation["state"] == "waiting"
    assert conversation["preview"] == "hello"


async def test_an_operator_writing_first_opens_an_answered_conversation(desk: Desk) -> None:
    await desk.api_reply(PHONE, "hello from the shop", operator="someone-in-the-crm")
    conversation = await only(desk)
    assert conversation["state"] == "open"
    assert conversation["assignee"] is None  # not a dashboard user


async def test_a_repeated_provider_delivery_counts_once(desk: Desk) -> None:
    tenant = await desk.tenant()
    row = (await desk.rt.channels_of(tenant.id, fresh=True))["main"]
    for _ in range(2):
        await record_inbound(desk.rt, row, phone=PHONE, type="text", payload={"text": "hi"}, provider_id="same")
    assert (await only(desk))["unread"] == 1


async def test_two_first_messages_at_once_make_one_conversation(desk: Desk) -> None:
    tenant = await desk.tenant()
    row = (await desk.rt.channels_of(tenant.id, fresh=True))["main"]
    await asyncio.gather(
        *(
            record_inbound(desk.rt, row, phone=PHONE, type="text", payload={"text": f"#{i}"}, provider_id=f"p{i}")
            for i in range(5)
        )
    )
    assert (await only(desk))["unread"] == 5


async def test_a_reaction_is_unread_but_not_waiting(desk: Desk) -> None:
    await desk.inbound(PHONE, "", type="reaction", reaction={"message_id": "x", "emoji": "👍"})
    conversation = await only(desk)
    assert conversation["state"] == "open"
    assert conversation["unread"] == 1
    assert conversation["awaiting_since"] is None


async def test_filters_waiting_unassigned_and_assignee(desk: Desk) -> None:
    await desk.user("anna")
    await desk.inbound("79000000001")
    await desk.inbound("79000000002")
    await desk.api_reply("79000000002", "answered", operator="anna")
    assert (await only(desk, filter="waiting"))["phone"] == "79000000001"
    assert (await only(desk, filter="unassigned"))["phone"] == "79000000001"
    assert (await only(desk, assignee="anna"))["phone"] == "79000000002"
    response = await desk.client.get("/v1/conversations", params={"filter": "mine"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "filter"


async def test_cursor_paging_walks_every_conversation_once(desk: Desk) -> None:
    phones = [f"7900000000{i}" for i in range(5)]
    for phone in phones:
        desk.clock.advance(1)
        await desk.inbound(phone)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await desk.client.get("/v1/conversations", params=params)).json()
        seen += [c["phone"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(phones))


async def test_a_bad_cursor_is_a_validation_error(desk: Desk) -> None:
    response = await desk.client.get("/v1/conversations", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"


async def test_assign_transfer_and_unassign(desk: Desk) -> None:
    await desk.user("anna")
    await desk.user("boris")
    await desk.inbound(PHONE)
    conversation_id = (await only(desk))["id"]
    url = f"/v1/conversations/{conversation_id}/assign"
    assert (await desk.client.post(url, json={"assignee": "anna"})).json()["assignee"]["login"] == "anna"
    assert (await desk.client.post(url, json={"assignee": "BORIS"})).json()["assignee"]["login"] == "boris"
    assert (await desk.client.post(url, json={"assignee": None})).json()["assignee"] is None
    unknown = await desk.client.post(url, json={"assignee": "nobody"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "assignee"


async def test_users_of_another_tenant_cannot_be_assigned(desk: Desk) -> None:
    await desk.user("stranger", tenant="other")
    await desk.inbound(PHONE)
    conversation_id = (await only(desk))["id"]
    response = await desk.client.post(f"/v1/conversations/{conversation_id}/assign", json={"assignee": "stranger"})
    assert response.status_code == 422


async def test_close_and_the_clients_next_message_reopens(desk: Desk) -> None:
    await desk.inbound(PHONE)
    conversation_id = (await only(desk))["id"]
    closed = await desk.client.post(f"/v1/conversations/{conversation_id}/close")
    assert closed.json()["state"] == "closed"
    assert (await desk.client.get("/v1/conversations", params={"filter": "waiting"})).json()["data"] == []
    await desk.inbound(PHONE, "are you there?")
    assert (await only(desk))["state"] == "waiting"


async def test_reopen_returns_to_waiting_when_the_client_is_unanswered(desk: Desk) -> None:
    await desk.inbound(PHONE)
    conversation_id = (await only(desk))["id"]
    await desk.client.post(f"/v1/conversations/{conversation_id}/close")
    reopened = await desk.client.post(f"/v1/conversations/{conversation_id}/reopen")
    assert reopened.json()["state"] == "waiting"


async def test_notes_are_kept_with_their_author(desk: Desk) -> None:
    await desk.inbound(PHONE)
    conversation_id = (await only(desk))["id"]
    created = await desk.client.post(f"/v1/conversations/{conversation_id}/notes", json={"text": "VIP client"})
    assert created.status_code == 201
    assert created.json()["author"] == "bootstrap-admin"
    detail = (await desk.client.get(f"/v1/conversations/{conversation_id}")).json()
    assert [n["text"] for n in detail["notes"]] == ["VIP client"]
    empty = await desk.client.post(f"/v1/conversations/{conversation_id}/notes", json={"text": "  "})
    assert empty.status_code == 422


async def test_another_tenants_token_sees_nothing(desk: Desk) -> None:
    await desk.inbound(PHONE)
    conversation_id = (await only(desk))["id"]
    other = await desk.tenant("other")
    from wagate.store.repos import tenants as tenant_repo

    now = desk.clock.now()
    await desk.rt.db.write(lambda c: tenant_repo.store_token(c, other.id, "x", "admin", "other-token", now))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=desk.app),
        base_url="http://wagate.test",
        headers={"Authorization": "Bearer other-token"},
    ) as client:
        assert (await client.get("/v1/conversations")).json()["data"] == []
        assert (await client.get(f"/v1/conversations/{conversation_id}")).status_code == 404
        assigned = await client.post(f"/v1/conversations/{conversation_id}/assign", json={"assignee": None})
        assert assigned.status_code == 404


async def test_conversations_need_a_token(desk: Desk) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=desk.app), base_url="http://wagate.test") as client:
        assert (await client.get("/v1/conversations")).status_code == 401
