"""wagate's stored message → the body of ``POST /{phone_number_id}/messages``. Pure functions.

The media object (``{"link": url}`` or ``{"id": media_id}``) is decided by the channel,
which may upload first (see ``channel.CloudChannel._media_object``); this module only
shapes bodies. ``voice`` goes out as Cloud API ``audio`` (an OGG/Opus file plays as a voice
note); captions are dropped for audio, which the Cloud API does not caption.
"""

from __future__ import annotations

import re
from typing import Any

#: wagate type → Cloud API message type.
GRAPH_TYPES = {
    "text": "text",
    "image": "image",
    "document": "document",
    "audio": "audio",
    "voice": "audio",
    "video": "video",
    "location": "location",
    "contacts": "contacts",
    "template": "template",
}
CAPTIONED = frozenset({"image", "video", "document"})
URL_RE = re.compile(r"https?://", re.IGNORECASE)


def envelope(phone: str, graph_type: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": phone, "type": graph_type}


def text_body(phone: str, text: str) -> dict[str, Any]:
    body = envelope(phone, "text")
    body["text"] = {"body": text, "preview_url": bool(URL_RE.search(text))}
    return body


def media_body(phone: str, wagate_type: str, media: dict[str, Any], reference: dict[str, str]) -> dict[str, Any]:
    """``reference`` is ``{"link": …}`` or ``{"id": …}``; caption and filename come from ``media``."""
    graph_type = GRAPH_TYPES[wagate_type]
    obj: dict[str, Any] = dict(reference)
    if graph_type in CAPTIONED and media.get("caption"):
        obj["caption"] = media["caption"]
    if graph_type == "document" and media.get("filename"):
        obj["filename"] = media["filename"]
    body = envelope(phone, graph_type)
    body[graph_type] = obj
    return body


def location_body(phone: str, location: dict[str, Any]) -> dict[str, Any]:
    body = envelope(phone, "location")
    body["location"] = {k: location[k] for k in ("latitude", "longitude", "name", "address") if k in location}
    return body


def contact_card(contact: dict[str, Any]) -> dict[str, Any]:
    """A contact card in the Cloud API shape; a plain-string name becomes ``formatted_name``."""
    card = dict(contact)
    name = card.get("name")
    if isinstance(name, str):
        first, _, last = name.strip().partition(" ")
        card["name"] = {"formatted_name": name, "first_name": first, **({"last_name": last} if last else {})}
    elif isinstance(name, dict) and "formatted_name" not in name:
        parts = [str(name[k]) for k in ("prefix", "first_name", "middle_name", "last_name", "suffix") if name.get(k)]
        card["name"] = {**name, "formatted_name": " ".join(parts)}
    phones = card.get("phones")
    if isinstance(phones, list):
        card["phones"] = [{"phone": p} if isinstance(p, str) else p for p in phones]
    return card


def contacts_body(phone: str, contacts: list[dict[str, Any]]) -> dict[str, Any]:
    body = envelope(phone, "contacts")
    body["contacts"] = [contact_card(c) for c in contacts]
    return body


def template_body(phone: str, template: dict[str, Any]) -> dict[str, Any]:
    """Positional ``params`` fill the body's ``{{1}}``, ``{{2}}`` …; no params, no components."""
    params = [str(p) for p in template.get("params") or []]
    obj: dict[str, Any] = {
        "name": template["name"],
        "language": {"policy": "deterministic", "code": template.get("language") or "en"},
    }
    if params:
        obj["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
    body = envelope(phone, "template")
    body["template"] = obj
    return body


def read_receipt(provider_id: str) -> dict[str, Any]:
    """The body that marks an inbound message read (blue ticks on the customer's phone)."""
    return {"messaging_product": "whatsapp", "status": "read", "message_id": provider_id}


def _examples(body: str, given: list[str] | None) -> list[str]:
    """One sample value per body placeholder: the caller's, else ``sample 1``, ``sample 2`` …
    (Meta's review wants an example for every variable)."""
    count = len(set(PLACEHOLDER.findall(body)))
    values = list(given or [])
    return [values[i] if i < len(values) and values[i] else f"sample {i + 1}" for i in range(count)]


PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def template_submission(
    name: str, language: str, content: dict[str, Any], examples: list[str] | None = None
) -> dict[str, Any]:
    """The body of ``POST /{waba_id}/message_templates`` for a wagate template (positional variables).

    ``content`` is the validated template (``category``, ``body``, optional ``header``, ``footer``,
    ``buttons``). A media header needs a handle from Meta's resumable upload, which wagate does not
    make: such templates are refused by the caller before this function.
    """
    components: list[dict[str, Any]] = []
    header = content.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        components.append({"type": "HEADER", "format": "TEXT", "text": header["text"]})
    body = str(content["body"])
    body_component: dict[str, Any] = {"type": "BODY", "text": body}
    samples = _examples(body, examples)
    if samples:
        body_component["example"] = {"body_text": [samples]}
    components.append(body_component)
    if content.get("footer"):
        components.append({"type": "FOOTER", "text": content["footer"]})
    buttons = []
    for button in content.get("buttons") or []:
        item: dict[str, Any] = {"type": str(button["type"]).upper(), "text": button["text"]}
        if button.get("url"):
            item["url"] = button["url"]
        if button.get("phone_number"):
            item["phone_number"] = button["phone_number"]
        buttons.append(item)
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return {
        "name": name,
        "language": language,
        "category": str(content["category"]).upper(),
        "parameter_format": "POSITIONAL",
        "components": components,
    }
