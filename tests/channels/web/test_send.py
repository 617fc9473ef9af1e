"""Sends of every type through a linked session, receipts, and a session that is not connected."""

from __future__ import annotations

from typing import Any

from tests.channels.web.conftest import WebGateway, eventually
from wagate.channels.web.fake import FakeWebSession
from wagate.channels.web.session import SessionError
from wagate.services import media as media_service

PHONE = "79005550101"


async def send(web: WebGateway, **message: Any) -> dict[str, Any]:
    response = await web.client.post("/v1/messages", json={"channel": "wa", "to": PHONE, **message})
    assert response.status_code == 202, response.text
    mid = response.json()["id"]

    async def settled() -> dict[str, Any] | None:
        data: dict[str, Any] = (await web.client.get(f"/v1/messages/{mid}")).json()
        return data if data["status"] not in ("queued", "sending") else None

    result: dict[str, Any] = await eventually(settled)
    return result


def sent(session: FakeWebSession) -> list[tuple[Any, Any, bool]]:
    return [args for name, args in session.calls if name == "send"]


async def stored_media(web: WebGateway, content: bytes, mime: str) -> str:
    stored = await media_service.store(web.rt.settings, 1, content, mime)
    return media_service.media_url(web.rt.settings, stored.name)


async def test_text_goes_out_with_whatsapps_id(web: WebGateway) -> None:
    session = await web.linked()
    message = await send(web, text="Hello from wagate https://example.com")
    assert message["status"] == "sent"
    to, built, preview = sent(session)[-1]
    assert (to.User, to.Server) == (PHONE, "s.whatsapp.net")
    assert built.conversation == "Hello from wagate https://example.com" and preview is True
    assert message["provider_id"].startswith("3EB0")


async def test_media_of_every_kind_is_uploaded_then_sent(web: WebGateway) -> None:
    session = await web.linked()
    cases = [
        ("image", "image/png", "imageMessage", {"caption": "look"}),
        ("video", "video/mp4", "videoMessage", {}),
        ("audio", "audio/mpeg", "audioMessage", {}),
        ("voice", "audio/ogg", "audioMessage", {}),
        ("document", "application/pdf", "documentMessage", {"filename": "offer.pdf", "caption": "the offer"}),
    ]
    for index, (kind, mime, field, extra) in enumerate(cases):
        url = await stored_media(web, f"{kind}-bytes-{index}".encode(), mime)
        message = await send(web, type=kind, media={"url": url, "mime_type": mime, **extra})
        assert message["status"] == "sent", message
        built = sent(session)[-1][1]
        sub = getattr(built, field)
        assert sub.mimetype == mime and sub.fileLength == len(f"{kind}-bytes-{index}".encode())
        assert sub.directPath in web.world.cdn
        if kind == "voice":
            assert sub.PTT is True
        if kind == "audio":
            assert sub.PTT is False
        if kind == "document":
            assert (sub.fileName, sub.caption) == ("offer.pdf", "the offer")
        if kind == "image":
            assert sub.caption == "look"
    assert [args[0] for name, args in session.calls if name == "upload"] == [
        "image",
        "video",
        "audio",
        "audio",
        "document",
    ]


async def test_location_and_contacts(web: WebGateway) -> None:
    session = await web.linked()
    await send(web, type="location", location={"latitude": 55.75, "longitude": 37.62, "name": "Office"})
    location = sent(session)[-1][1].locationMessage
    assert (location.degreesLatitude, location.degreesLongitude, location.name) == (55.75, 37.62, "Office")
    await send(
        web,
        type="contacts",
        contacts=[{"name": {"formatted_name": "Anna"}, "phones": [{"phone": "+7 900 111 22 33"}]}],
    )
    card = sent(session)[-1][1].contactMessage
    assert card.displayName == "Anna" and "waid=79001112233" in card.vcard


async def test_replies_quote_and_reactions_point_at_whatsapps_message(web: WebGateway) -> None:
    session = await web.linked()
    first = await send(web, text="first")
    await send(web, text="re", reply_to=first["id"])
    quoted = sent(session)[-1][1].extendedTextMessage
    assert quoted.text == "re" and quoted.contextInfo.stanzaID == first["provider_id"]
    assert quoted.contextInfo.quotedMessage.conversation == "first"
    await send(web, type="reaction", reaction={"message_id": first["id"], "emoji": "👍"})
    reaction = sent(session)[-1][1].reactionMessage
    assert reaction.text == "👍" and first["provider_id"] == reaction.key.ID and reaction.key.fromMe


async def test_a_reply_or_reaction_needs_a_message_id(web: WebGateway) -> None:
    await web.create()
    for body in (
        {"text": "x", "reply_to": "abc"},
        {"type": "reaction", "reaction": {"message_id": 0, "emoji": "👍"}},
        {"type": "reaction"},
    ):
        response = await web.client.post("/v1/messages", json={"channel": "wa", "to": PHONE, **body})
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] in ("reply_to", "reaction.message_id", "reaction")


async def test_messages_wait_queued_while_the_session_is_not_connected(web_both: WebGateway) -> None:
    web = web_both
    await web.create()
    await web.state(want="pairing")
    response = await web.client.post("/v1/messages", json={"channel": "wa", "to": PHONE, "text": "wait for me"})
    mid = response.json()["id"]
    import asyncio

    await asyncio.sleep(0.5)
    waiting = (await web.client.get(f"/v1/messages/{mid}")).json()
    assert waiting["status"] == "queued" and waiting.get("attempts", 0) == 0
    web.world.session((await web.rt.channels_of(1))["wa"].id).pair("79001110000")

    async def is_sent() -> bool:
        return bool((await web.client.get(f"/v1/messages/{mid}")).json()["status"] == "sent")

    await eventually(is_sent)


async def test_a_send_with_an_unknown_outcome_becomes_unknown(web: WebGateway) -> None:
    session = await web.linked()
    session.send_error = SessionError("context deadline exceeded waiting for server ack")
    message = await send(web, text="did it arrive?")
    assert message["status"] == "unknown"
    assert len(sent(session)) == 1  # never resent blindly


async def test_receipts_advance_statuses(web_both: WebGateway) -> None:
    web = web_both
    session = await web.linked()
    one = await send(web, text="one")
    two = await send(web, text="two")
    session.receipt(1, [one["provider_id"], two["provider_id"]], f"{PHONE}@s.whatsapp.net")

    async def status(mid: int, want: str) -> bool:
        return bool((await web.client.get(f"/v1/messages/{mid}")).json()["status"] == want)

    await eventually(lambda: status(one["id"], "delivered"))
    await eventually(lambda: status(two["id"], "delivered"))
    session.receipt(4, [one["provider_id"]], f"{PHONE}@s.whatsapp.net")
    session.receipt(6, [two["provider_id"]], f"{PHONE}@s.whatsapp.net")  # a voice note played
    await eventually(lambda: status(one["id"], "read"))
    await eventually(lambda: status(two["id"], "read"))
    session.receipt(1, [one["provider_id"]], f"{PHONE}@s.whatsapp.net")  # late: never backwards
    history = (await web.client.get(f"/v1/messages/{one['id']}")).json()
    assert history["status"] == "read"


async def test_phone_check_asks_whatsapp_once_and_caches(web: WebGateway) -> None:
    session = await web.linked()
    web.world.registered.add("79005550101")
    first = await web.client.get("/v1/phones/79005550101", params={"channel": "wa"})
    again = await web.client.get("/v1/phones/79005550101", params={"channel": "wa"})
    assert first.json()["whatsapp"] == again.json()["whatsapp"] == "exists"
    assert [c for c in session.calls if c[0] == "is_on_whatsapp"] == [("is_on_whatsapp", ["79005550101"])]


async def test_pacing_can_ask_for_typing_before_a_send(web: WebGateway) -> None:
    session = await web.linked()
    response = await web.client.patch("/v1/channels/wa", json={"pacing": {"typing_s": 0.05}})
    assert response.status_code == 200, response.text
    message = await send(web, text="typed like a human")
    assert message["status"] == "sent"
    names = [name for name, _ in session.calls]
    assert names[-2:] == ["typing", "send"]
