"""``POST /sandbox/inject``: the customer's side of a conversation, as Meta would report it.

A request names the sender and one thing they send — text, media, location, contacts, a
reaction, a button or list reply — and becomes the ``messages[]`` item of an inbound
webhook. Media without bytes gets a small sample file, stored like an upload, so the
gateway downloads it through the Graph API as it would a real customer's photo.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from wagate.sandbox.simulator import MEDIA_TYPES, digits, new_wamid

if TYPE_CHECKING:
    from wagate.sandbox.simulator import Simulator

#: A 1×1 transparent PNG: what an injected image is when the caller sends no bytes.
SAMPLE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SAMPLE_MIME = {
    "image": "image/png",
    "sticker": "image/webp",
    "audio": "audio/ogg",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "document": "application/pdf",
}


def build_inbound(sim: Simulator, request: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """(wamid, ``messages[]`` item, profile name); ``ValueError(field)`` for a bad request."""
    phone = digits(request.get("from"))
    if phone is None:
        raise ValueError("from")
    wamid = new_wamid(phone)
    message: dict[str, Any] = {"from": phone, "id": wamid, "timestamp": str(int(sim.now()))}
    if request.get("media") is not None:
        _media(sim, request["media"], message)
    elif request.get("location") is not None:
        location = request["location"]
        if not isinstance(location, dict) or "latitude" not in location or "longitude" not in location:
            raise ValueError("location")
        message["type"] = "location"
        message["location"] = location
    elif request.get("contacts") is not None:
        if not isinstance(request["contacts"], list) or not request["contacts"]:
            raise ValueError("contacts")
        message["type"] = "contacts"
        message["contacts"] = request["contacts"]
    elif request.get("reaction") is not None:
        if not isinstance(request["reaction"], dict):
            raise ValueError("reaction")
        message["type"] = "reaction"
        message["reaction"] = request["reaction"]
    elif request.get("button") is not None:
        button = request["button"]
        if not isinstance(button, dict) or not button.get("text"):
            raise ValueError("button")
        message["type"] = "button"
        message["button"] = {"text": button["text"], "payload": button.get("payload", button["text"])}
    elif request.get("interactive") is not None:
        reply = request["interactive"]
        if not isinstance(reply, dict) or reply.get("type") not in ("button_reply", "list_reply"):
            raise ValueError("interactive")
        fields = {k: reply[k] for k in ("id", "title", "description") if k in reply}
        message["type"] = "interactive"
        message["interactive"] = {"type": reply["type"], reply["type"]: fields}
    else:
        text = request.get("text")
        if not isinstance(text, str) or not text:
            raise ValueError("text")
        message["type"] = "text"
        message["text"] = {"body": text}
    context = request.get("context")
    if isinstance(context, dict) and context.get("message_id"):
        message["context"] = {"from": sim.config.display_phone_number, "id": context["message_id"]}
    elif message["type"] in ("button", "interactive"):
        # A button or list reply always answers a business message, and Meta says which one.
        message["context"] = {"from": sim.config.display_phone_number, "id": _last_sent_to(sim, phone)}
    return wamid, message, str(request.get("name") or "Sandbox Customer")


def _last_sent_to(sim: Simulator, phone: str) -> str:
    """The newest message the simulated number sent to ``phone`` (a fresh id when there is none yet)."""
    for record in reversed(sim.sent.values()):
        if record.to == phone:
            return record.id
    return new_wamid(phone)


def _media(sim: Simulator, media: Any, message: dict[str, Any]) -> None:
    if not isinstance(media, dict):
        raise ValueError("media")
    kind = media.get("type", "image")
    if kind not in (*MEDIA_TYPES, "voice"):
        raise ValueError("media.type")
    if media.get("content_base64"):
        try:
            content = base64.b64decode(str(media["content_base64"]), validate=True)
        except ValueError as exc:
            raise ValueError("media.content_base64") from exc
    else:
        content = SAMPLE_PNG if kind in ("image", "sticker") else f"wagate sandbox sample {kind}\n".encode()
    mime = str(media.get("mime_type") or SAMPLE_MIME[kind])
    filename = media.get("filename") if kind == "document" else None
    stored = sim.upload_media(sim.config.phone_number_id, content, mime, filename)
    graph_kind = "audio" if kind == "voice" else kind
    obj: dict[str, Any] = {"id": stored["id"], "mime_type": mime, "sha256": sim.media[stored["id"]].sha256}
    if kind == "voice":
        obj["voice"] = True
    if media.get("caption") and graph_kind in ("image", "video", "document"):
        obj["caption"] = media["caption"]
    if filename:
        obj["filename"] = filename
    message["type"] = graph_kind
    message[graph_kind] = obj
