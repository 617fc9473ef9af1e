"""wagate's stored messages → Cloud API request bodies."""

from __future__ import annotations

from typing import Any

import pytest

from wagate.channels.cloud import payloads

TO = "79001234567"
HEAD = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}

CASES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "text",
        payloads.text_body(TO, "Hello"),
        {**HEAD, "type": "text", "text": {"body": "Hello", "preview_url": False}},
    ),
    (
        "text with a link previews it",
        payloads.text_body(TO, "see https://example.org"),
        {**HEAD, "type": "text", "text": {"body": "see https://example.org", "preview_url": True}},
    ),
    (
        "image by link with caption",
        payloads.media_body(
            TO, "image", {"url": "https://x.org/a.jpg", "caption": "c"}, {"link": "https://x.org/a.jpg"}
        ),
        {**HEAD, "type": "image", "image": {"link": "https://x.org/a.jpg", "caption": "c"}},
    ),
    (
        "document by id with filename",
        payloads.media_body(TO, "document", {"id": "77", "filename": "a.pdf", "caption": "c"}, {"id": "77"}),
        {**HEAD, "type": "document", "document": {"id": "77", "caption": "c", "filename": "a.pdf"}},
    ),
    (
        "audio drops the caption",
        payloads.media_body(TO, "audio", {"caption": "dropped"}, {"id": "5"}),
        {**HEAD, "type": "audio", "audio": {"id": "5"}},
    ),
    (
        "voice goes out as audio",
        payloads.media_body(TO, "voice", {}, {"link": "https://x.org/v.ogg"}),
        {**HEAD, "type": "audio", "audio": {"link": "https://x.org/v.ogg"}},
    ),
    (
        "video",
        payloads.media_body(TO, "video", {"caption": "v"}, {"id": "9"}),
        {**HEAD, "type": "video", "video": {"id": "9", "caption": "v"}},
    ),
    (
        "location",
        payloads.location_body(TO, {"latitude": 55.75, "longitude": 37.62, "name": "Office"}),
        {**HEAD, "type": "location", "location": {"latitude": 55.75, "longitude": 37.62, "name": "Office"}},
    ),
    (
        "contacts: a string name becomes formatted_name, phones become objects",
        payloads.contacts_body(TO, [{"name": "Ivan Sidorov", "phones": ["+79035551234"]}]),
        {
            **HEAD,
            "type": "contacts",
            "contacts": [
                {
                    "name": {"formatted_name": "Ivan Sidorov", "first_name": "Ivan", "last_name": "Sidorov"},
                    "phones": [{"phone": "+79035551234"}],
                }
            ],
        },
    ),
    (
        "contacts: a structured name gets formatted_name",
        payloads.contacts_body(TO, [{"name": {"first_name": "Anna", "last_name": "P"}}]),
        {
            **HEAD,
            "type": "contacts",
            "contacts": [{"name": {"first_name": "Anna", "last_name": "P", "formatted_name": "Anna P"}}],
        },
    ),
    (
        "template with body parameters",
        payloads.template_body(TO, {"name": "order_update", "language": "ru", "params": ["Anna", "#42"]}),
        {
            **HEAD,
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"policy": "deterministic", "code": "ru"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": "Anna"}, {"type": "text", "text": "#42"}],
                    }
                ],
            },
        },
    ),
    (
        "template without parameters has no components",
        payloads.template_body(TO, {"name": "hello_world", "language": "en_US", "params": []}),
        {
            **HEAD,
            "type": "template",
            "template": {"name": "hello_world", "language": {"policy": "deterministic", "code": "en_US"}},
        },
    ),
]


@pytest.mark.parametrize(("name", "built", "expected"), CASES, ids=[c[0] for c in CASES])
def test_request_body(name: str, built: dict[str, Any], expected: dict[str, Any]) -> None:
    assert built == expected


def test_read_receipt_body() -> None:
    assert payloads.read_receipt("wamid.X") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.X",
    }
