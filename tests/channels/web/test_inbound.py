"""What WhatsApp delivers to the linked device: every message type, media, groups, LIDs, and
messages typed on the phone itself."""

from __future__ import annotations

from typing import Any

from tests.channels.web.conftest import WebGateway, eventually
from wagate.channels.web import library
from wagate.channels.web.fake import FakeWebSession

CLIENT = "79007770001"
CLIENT_JID = f"{CLIENT}@s.whatsapp.net"


def e2e() -> Any:
    return library.load()["e2e"]


async def received(web: WebGateway, count: int = 1) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        data: list[dict[str, Any]] = (
            await web.client.get("/v1/messages", params={"direction": "in", "limit": 100})
        ).json()["data"]
        return data if len(data) >= count else None

    result: list[dict[str, Any]] = await eventually(found)
    return result


async def upload_to_cdn(session: FakeWebSession, content: bytes, kind: str) -> Any:
    session.connected = True
    return await session.upload(content, kind)


async def test_a_text_is_stored_with_the_clients_name(web: WebGateway) -> None:
    session = await web.linked()
    mid = session.incoming(e2e().Message(conversation="Hi, is the sofa in stock?"), sender=CLIENT_JID, pushname="Anna")
    [message] = await received(web)
    assert (message["phone"], message["type"], message["status"]) == (CLIENT, "text", "received")
    assert message["provider_id"] == mid
    assert message["text"] == "Hi, is the sofa in stock?"
    assert message["profile_name"] == "Anna"
    session.incoming(e2e().Message(conversation="Hi, is the sofa in stock?"), sender=CLIENT_JID, message_id=mid)
    assert len(await received(web)) == 1  # the same WhatsApp id twice is one message


async def test_media_is_downloaded_into_the_gateways_store(web: WebGateway) -> None:
    session = await web.linked()
    cases = [
        ("imageMessage", "ImageMessage", "image", "image/jpeg", {"caption": "the crack"}),
        ("videoMessage", "VideoMessage", "video", "video/mp4", {}),
        ("audioMessage", "AudioMessage", "voice", "audio/ogg; codecs=opus", {"PTT": True}),
        ("audioMessage", "AudioMessage", "audio", "audio/mpeg", {}),
        ("documentMessage", "DocumentMessage", "document", "application/pdf", {"fileName": "invoice.pdf"}),
        ("stickerMessage", "StickerMessage", "sticker", "image/webp", {}),
    ]
    for field, cls, kind, mime, extra in cases:
        content = f"{kind} content".encode()
        up = await upload_to_cdn(session, content, "image")
        sub = getattr(e2e(), cls)(
            mimetype=mime,
            directPath=up.DirectPath,
            mediaKey=up.MediaKey,
            fileSHA256=up.FileSHA256,
            fileEncSHA256=up.FileEncSHA256,
            fileLength=len(content),
            **extra,
        )
        session.incoming(e2e().Message(**{field: sub}), sender=CLIENT_JID)
    messages = await received(web, len(cases))
    by_type = {m["type"]: m for m in messages}
    assert set(by_type) == {"image", "video", "voice", "audio", "document", "sticker"}
    for kind, message in by_type.items():
        media = message["media"]
        assert "/v1/media/" in media["url"], media
        name = media["url"].rsplit("/", 1)[1]
        body = await web.client.get(f"/v1/media/{name}")
        assert body.content == f"{kind} content".encode()
    assert by_type["image"]["media"]["caption"] == "the crack"
    assert by_type["document"]["media"]["filename"] == "invoice.pdf"


async def test_media_whatsapp_no_longer_has_is_kept_with_the_reason(web: WebGateway) -> None:
    session = await web.linked()
    image = e2e().ImageMessage(mimetype="image/jpeg", directPath="/v/expired", fileLength=10)
    session.incoming(e2e().Message(imageMessage=image), sender=CLIENT_JID)
    [message] = await received(web)
    assert "download_error" in message["media"]


async def test_location_contacts_reactions_replies_edits_and_revokes(web: WebGateway) -> None:
    session = await web.linked()
    m = e2e()
    common = library.load()["common"]
    session.incoming(
        m.Message(locationMessage=m.LocationMessage(degreesLatitude=59.93, degreesLongitude=30.31, name="Shop")),
        sender=CLIENT_JID,
    )
    vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Boris\nTEL;type=CELL;waid=79001234567:+79001234567\nEND:VCARD"
    session.incoming(m.Message(contactMessage=m.ContactMessage(displayName="Boris", vcard=vcard)), sender=CLIENT_JID)
    key = common.MessageKey(remoteJID=CLIENT_JID, fromMe=True, ID="3EB0AAA")
    session.incoming(m.Message(reactionMessage=m.ReactionMessage(key=key, text="❤️")), sender=CLIENT_JID)
    quoted = m.ContextInfo(stanzaID="3EB0AAA", participant="79001110000@s.whatsapp.net")
    reply = m.ExtendedTextMessage(text="yes, that one", contextInfo=quoted)
    session.incoming(m.Message(extendedTextMessage=reply), sender=CLIENT_JID)
    edit = m.ProtocolMessage(key=key, type=14, editedMessage=m.Message(conversation="fixed text"))
    session.incoming(m.Message(protocolMessage=edit), sender=CLIENT_JID)
    session.incoming(m.Message(protocolMessage=m.ProtocolMessage(key=key, type=0)), sender=CLIENT_JID)
    messages = {msg["type"]: msg for msg in await received(web, 6)}
    assert messages["location"]["location"] == {"latitude": 59.93, "longitude": 30.31, "name": "Shop"}
    assert messages["contacts"]["contacts"][0]["name"]["formatted_name"] == "Boris"
    assert messages["contacts"]["contacts"][0]["phones"] == [{"phone": "+79001234567"}]
    assert messages["reaction"]["reaction"] == {"message_id": "3EB0AAA", "emoji": "❤️"}
    assert messages["text"]["context"] == {"message_id": "3EB0AAA", "from": "79001110000"}
    assert messages["edit"]["edit"] == {"message_id": "3EB0AAA", "text": "fixed text"}
    assert messages["revoke"]["revoke"] == {"message_id": "3EB0AAA"}


async def test_group_messages_carry_the_group_and_the_participant(web: WebGateway) -> None:
    session = await web.linked()
    group = "120363025246125486@g.us"
    session.incoming(e2e().Message(conversation="who has the key?"), sender=CLIENT_JID, chat=group)
    [message] = await received(web)
    assert message["phone"] == CLIENT
    assert message["group"] == {"id": group, "participant": CLIENT}


async def test_a_lid_sender_is_mapped_to_the_phone_and_remembered(web_both: WebGateway) -> None:
    web = web_both
    session = await web.linked()
    lid = "123456789012345"
    session.incoming(e2e().Message(conversation="first"), sender=f"{lid}@lid", sender_alt=CLIENT_JID)
    await received(web, 1)
    # Later WhatsApp addresses the same person by LID alone: one contact, not two.
    session.incoming(e2e().Message(conversation="second"), sender=f"{lid}@lid")
    messages = await received(web, 2)
    assert {m["phone"] for m in messages} == {CLIENT}
    assert messages[0]["identities"]["phone"] == CLIENT and messages[0]["identities"]["lid"] == lid
    # One the device store knows but we did not see yet is asked of the session.
    web.world.lids["999888777666555"] = "79002223344"
    session.incoming(e2e().Message(conversation="third"), sender="999888777666555@lid")
    messages = await received(web, 3)
    assert messages[0]["phone"] == "79002223344"


async def test_messages_typed_on_the_phone_are_outbound_with_origin_phone(web_both: WebGateway) -> None:
    web = web_both
    session = await web.linked()
    session.incoming(e2e().Message(conversation="Do you deliver?"), sender=CLIENT_JID)
    await received(web)
    own = "79001110000@s.whatsapp.net"
    mid = session.incoming(e2e().Message(conversation="Yes, tomorrow"), sender=own, chat=CLIENT_JID, from_me=True)

    async def outbound() -> list[dict[str, Any]] | None:
        data: list[dict[str, Any]] = (
            await web.client.get("/v1/messages", params={"direction": "out", "limit": 10})
        ).json()["data"]
        return data or None

    [message] = await eventually(outbound)
    assert (message["origin"], message["phone"], message["status"]) == ("phone", CLIENT, "sent")
    assert message["operator"] == "phone" and message["provider_id"] == mid
    conversations = (await web.client.get("/v1/conversations")).json()["data"]
    [conversation] = [c for c in conversations if c["phone"] == CLIENT]
    assert conversation["last_reply_at"] is not None and conversation["last_direction"] == "out"
    report = (await web.client.get("/v1/analytics/operators")).json()
    operators = {o["operator"]: o for o in report["operators"]}
    assert operators["phone"]["messages_sent"] == 1 and operators["phone"]["responses"] == 1
    # The phone answering a client WhatsApp addresses by LID: stored under the phone behind it.
    session.incoming(
        e2e().Message(conversation="See you"),
        sender=own,
        chat="555444333222111@lid",
        from_me=True,
        recipient_alt="79003334455@s.whatsapp.net",
    )
    await eventually(lambda: _has_outbound_to(web, "79003334455"))
    # The same message seen again (a resync) is not a second reply.
    session.incoming(
        e2e().Message(conversation="Yes, tomorrow"), sender=own, chat=CLIENT_JID, from_me=True, message_id=mid
    )
    assert len([m for m in await eventually(outbound) if m["provider_id"] == mid]) == 1


async def _has_outbound_to(web: WebGateway, phone: str) -> bool:
    data = (await web.client.get("/v1/messages", params={"direction": "out", "phone": phone})).json()["data"]
    return bool(data and data[0]["origin"] == "phone")
