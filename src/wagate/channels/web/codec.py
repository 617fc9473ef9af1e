"""WhatsApp Web messages ↔ wagate's stored shapes: pure functions over neonize's protobufs.

Inbound: a neonize ``Message`` event becomes an ``Incoming`` (who, which chat, our type and
payload, the media sub-message to download). Outbound: a stored payload becomes a
``waE2E.Message`` (media once uploaded). The payload shapes are the ones the cloud channel
stores, so a CRM reads one format whatever the channel: ``text``, ``media`` {mime_type,
caption, filename, sha256, url}, ``location``, ``contacts``, ``reaction`` {message_id, emoji},
``context`` {message_id, from} for replies, plus ``group`` {id, participant} for group chats,
``edit`` and ``revoke`` {message_id} for changes to earlier messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wagate.channels.web import library

USER_SERVER = "s.whatsapp.net"
GROUP_SERVER = "g.us"
LID_SERVER = "lid"
#: Wrappers whose ``message`` field holds the real content.
WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
    "editedMessage",
)
MEDIA_FIELDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
    "ptvMessage": "video",
}
REVOKE = 0
MESSAGE_EDIT = 14


@dataclass(frozen=True, slots=True)
class Incoming:
    provider_id: str
    chat: str
    sender: str
    #: The sender's phone (E.164 digits) when WhatsApp told us; for LID-addressed senders the
    #: phone comes from ``SenderAlt`` or the LID map.
    sender_phone: str | None
    sender_lid: str | None
    #: For a one-to-one chat: the other side's phone (directly, or ``RecipientAlt`` for a LID chat).
    chat_phone: str | None
    from_me: bool
    is_group: bool
    type: str
    payload: dict[str, Any]
    media: Any | None
    timestamp: datetime | None
    pushname: str | None


def jid_text(jid: Any) -> str:
    if jid is None or not jid.User:
        return ""
    return f"{jid.User}@{jid.Server or USER_SERVER}"


def phone_of(jid: Any) -> str | None:
    """E.164 digits of a phone-number JID; ``None`` for LIDs, groups and empties."""
    if jid is None or not jid.User or (jid.Server or USER_SERVER) != USER_SERVER:
        return None
    return str(jid.User) if str(jid.User).isdigit() else None


def lid_of(jid: Any) -> str | None:
    if jid is None or not jid.User or jid.Server != LID_SERVER:
        return None
    return str(jid.User)


def make_jid(user: str, server: str = USER_SERVER) -> Any:
    return library.proto("pb.JID")(User=user, Server=server, Device=0, IsEmpty=False)


def recipient_jid(to: str) -> Any:
    """``to`` as stored (phone digits, ``<lid>@lid`` or ``<id>@g.us``) → a chat JID."""
    if "@" in to:
        user, _, server = to.partition("@")
        return make_jid(user, server)
    return make_jid(to)


def _unwrap(message: Any) -> Any:
    for _ in range(4):
        for name in WRAPPERS:
            if message.HasField(name) and message.__getattribute__(name).HasField("message"):
                message = message.__getattribute__(name).message
                break
        else:
            return message
    return message


def _context(sub: Any) -> dict[str, Any] | None:
    if sub is None or not hasattr(sub, "contextInfo") or not sub.HasField("contextInfo"):
        return None
    info = sub.contextInfo
    if not info.stanzaID:
        return None
    participant = info.participant.split("@", 1)[0] if info.participant else None
    return {"message_id": info.stanzaID, "from": participant}


def _text_of(message: Any) -> str | None:
    if message.conversation:
        return str(message.conversation)
    if message.HasField("extendedTextMessage"):
        return str(message.extendedTextMessage.text)
    return None


def content(message: Any) -> tuple[str, dict[str, Any], Any | None]:
    """(type, payload, media sub-message or None) of a ``waE2E.Message``."""
    message = _unwrap(message)
    payload: dict[str, Any] = {}
    if message.HasField("protocolMessage"):
        proto = message.protocolMessage
        if proto.type == REVOKE:
            return "revoke", {"revoke": {"message_id": proto.key.ID}}, None
        if proto.type == MESSAGE_EDIT:
            edited = _text_of(proto.editedMessage) or ""
            return "edit", {"edit": {"message_id": proto.key.ID, "text": edited}}, None
        return "unsupported", {"unsupported": "protocol"}, None
    if message.HasField("reactionMessage"):
        reaction = message.reactionMessage
        return "reaction", {"reaction": {"message_id": reaction.key.ID, "emoji": reaction.text}}, None
    text = _text_of(message)
    if text is not None:
        payload["text"] = text
        context = _context(message.extendedTextMessage) if message.HasField("extendedTextMessage") else None
        if context:
            payload["context"] = context
        return "text", payload, None
    for field, kind in MEDIA_FIELDS.items():
        if message.HasField(field):
            sub = getattr(message, field)
            media: dict[str, Any] = {"mime_type": sub.mimetype or None}
            if getattr(sub, "caption", ""):
                media["caption"] = sub.caption
            if field == "documentMessage" and sub.fileName:
                media["filename"] = sub.fileName
            if sub.fileSHA256:
                media["sha256"] = sub.fileSHA256.hex()
            if field == "audioMessage" and sub.PTT:
                kind = "voice"
            payload["media"] = {k: v for k, v in media.items() if v is not None}
            context = _context(sub)
            if context:
                payload["context"] = context
            return kind, payload, message
    if message.HasField("locationMessage") or message.HasField("liveLocationMessage"):
        loc = message.locationMessage if message.HasField("locationMessage") else message.liveLocationMessage
        location: dict[str, Any] = {"latitude": loc.degreesLatitude, "longitude": loc.degreesLongitude}
        for key, value in (("name", getattr(loc, "name", "")), ("address", getattr(loc, "address", ""))):
            if value:
                location[key] = value
        return "location", {"location": location}, None
    if message.HasField("contactMessage"):
        card = message.contactMessage
        return "contacts", {"contacts": [_card(card.displayName, card.vcard)]}, None
    if message.HasField("contactsArrayMessage"):
        cards = [_card(c.displayName, c.vcard) for c in message.contactsArrayMessage.contacts]
        return "contacts", {"contacts": cards}, None
    return "unsupported", {"unsupported": _first_field(message)}, None


def _first_field(message: Any) -> str:
    fields = [descriptor.name for descriptor, _ in message.ListFields()]
    return fields[0] if fields else "empty"


def _card(name: str, vcard: str) -> dict[str, Any]:
    phones = [
        line.split(":", 1)[1].strip() for line in vcard.splitlines() if line.upper().startswith("TEL") and ":" in line
    ]
    return {"name": {"formatted_name": name}, "phones": [{"phone": p} for p in phones], "vcard": vcard}


def parse(event: Any) -> Incoming:
    """A neonize ``Message`` event → ``Incoming``."""
    info = event.Info
    source = info.MessageSource
    kind, payload, media = content(event.Message)
    sender = source.Sender
    sender_phone = phone_of(sender) or phone_of(source.SenderAlt)
    sender_lid = lid_of(sender) or lid_of(source.SenderAlt)
    timestamp = datetime.fromtimestamp(info.Timestamp, UTC) if info.Timestamp > 0 else None
    if source.IsGroup:
        payload["group"] = {"id": jid_text(source.Chat), "participant": sender_phone or jid_text(sender)}
    if info.Pushname and not source.IsFromMe:
        payload["profile_name"] = info.Pushname
    if event.IsEdit and kind == "text":
        kind = "edit"
        payload = {"edit": {"message_id": info.Edit or info.ID, "text": payload.get("text", "")}, **payload}
    return Incoming(
        provider_id=info.ID,
        chat=jid_text(source.Chat),
        sender=jid_text(sender),
        sender_phone=sender_phone,
        sender_lid=sender_lid,
        chat_phone=None if source.IsGroup else (phone_of(source.Chat) or phone_of(source.RecipientAlt)),
        from_me=bool(source.IsFromMe),
        is_group=bool(source.IsGroup),
        type=kind,
        payload=payload,
        media=media,
        timestamp=timestamp,
        pushname=info.Pushname or None,
    )


# ---------------------------------------------------------------- outbound


def vcard(contact: dict[str, Any]) -> tuple[str, str]:
    """(display name, vCard 3.0) of a contact as the API takes it (Cloud API's contact shape)."""
    name = contact.get("name")
    display = str(name.get("formatted_name") or name.get("first_name") or "") if isinstance(name, dict) else str(name)
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{display}"]
    for phone in contact.get("phones") or []:
        number = str(phone.get("phone") or phone.get("wa_id") or "") if isinstance(phone, dict) else str(phone)
        digits = "".join(ch for ch in number if ch.isdigit())
        if digits:
            lines.append(f"TEL;type=CELL;waid={digits}:+{digits}")
    for email in contact.get("emails") or []:
        value = email.get("email") if isinstance(email, dict) else email
        if value:
            lines.append(f"EMAIL:{value}")
    lines.append("END:VCARD")
    return display, "\n".join(lines)


def quote(reply: dict[str, Any] | None) -> Any | None:
    """A ``ContextInfo`` quoting an earlier message: {message_id, participant, text}."""
    if not reply or not reply.get("message_id"):
        return None
    e2e = library.load()["e2e"]
    quoted = e2e.Message(conversation=str(reply.get("text") or ""))
    return e2e.ContextInfo(
        stanzaID=str(reply["message_id"]), participant=str(reply.get("participant") or ""), quotedMessage=quoted
    )


def text_message(text: str, context: Any | None) -> Any:
    e2e = library.load()["e2e"]
    if context is None:
        return e2e.Message(conversation=text)
    return e2e.Message(extendedTextMessage=e2e.ExtendedTextMessage(text=text, contextInfo=context))


def media_message(kind: str, upload: Any, media: dict[str, Any], mime: str, context: Any | None) -> Any:
    """An image/video/audio/voice/document message from neonize's ``UploadResponse``."""
    e2e = library.load()["e2e"]
    common = {
        "URL": upload.url,
        "directPath": upload.DirectPath,
        "mediaKey": upload.MediaKey,
        "fileEncSHA256": upload.FileEncSHA256,
        "fileSHA256": upload.FileSHA256,
        "fileLength": upload.FileLength,
        "mimetype": mime,
    }
    if context is not None:
        common["contextInfo"] = context
    caption = media.get("caption") or ""
    if kind == "image":
        return e2e.Message(imageMessage=e2e.ImageMessage(caption=caption, **common))
    if kind == "video":
        return e2e.Message(videoMessage=e2e.VideoMessage(caption=caption, **common))
    if kind in ("audio", "voice"):
        return e2e.Message(audioMessage=e2e.AudioMessage(PTT=kind == "voice", **common))
    filename = media.get("filename") or "file"
    document = e2e.DocumentMessage(fileName=filename, title=filename, caption=caption, **common)
    return e2e.Message(documentMessage=document)


def location_message(location: dict[str, Any], context: Any | None) -> Any:
    e2e = library.load()["e2e"]
    loc = e2e.LocationMessage(
        degreesLatitude=float(location["latitude"]),
        degreesLongitude=float(location["longitude"]),
        name=str(location.get("name") or ""),
        address=str(location.get("address") or ""),
    )
    if context is not None:
        loc.contextInfo.CopyFrom(context)
    return e2e.Message(locationMessage=loc)


def contacts_message(contacts: list[dict[str, Any]], context: Any | None) -> Any:
    e2e = library.load()["e2e"]
    cards = [e2e.ContactMessage(displayName=name, vcard=card) for name, card in map(vcard, contacts)]
    if len(cards) == 1:
        if context is not None:
            cards[0].contextInfo.CopyFrom(context)
        return e2e.Message(contactMessage=cards[0])
    array = e2e.ContactsArrayMessage(displayName=f"{len(cards)} contacts", contacts=cards)
    return e2e.Message(contactsArrayMessage=array)


def reaction_message(chat: Any, message_id: str, from_me: bool, participant: str | None, emoji: str) -> Any:
    e2e = library.load()["e2e"]
    common = library.load()["common"]
    key = common.MessageKey(remoteJID=jid_text(chat), fromMe=from_me, ID=message_id, participant=participant or "")
    millis = int(datetime.now(UTC).timestamp() * 1000)
    return e2e.Message(reactionMessage=e2e.ReactionMessage(key=key, text=emoji, senderTimestampMS=millis))
