"""Webhook bodies in Meta's format (``testdata/*.json``) → the events wagate stores. One table, one harness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.channels.cloud.harness import load
from wagate.channels.cloud.webhook import parse_envelope

PHONE = "79161234567"
SENT_AT = datetime.fromtimestamp(1767268800, UTC)


@dataclass(frozen=True)
class InboundCase:
    file: str
    type: str
    payload: dict[str, Any]
    media_id: str | None = None
    voice: bool = False


INBOUND_CASES = [
    InboundCase("in_text.json", "text", {"text": "Здравствуйте! Где мой заказ?", "profile_name": "Anna Petrova"}),
    InboundCase(
        "in_image.json",
        "image",
        {
            "media": {
                "id": "1234567890123456",
                "mime_type": "image/jpeg",
                "sha256": "kX0m+3PhRcE4b2h0S4mTqA3n1H8u2aH5i6N1bqV0T5A=",
                "caption": "Вот чек",
            },
            "profile_name": "Anna Petrova",
        },
        media_id="1234567890123456",
    ),
    InboundCase(
        "in_document.json",
        "document",
        {
            "media": {
                "id": "2345678901234567",
                "mime_type": "application/pdf",
                "sha256": "3A5v0Zr3oX1mH2q8V4Zp0y7c9Q1w2E3r4T5y6U7i8O0=",
                "filename": "contract.pdf",
                "caption": "contract",
            },
            "profile_name": "Anna Petrova",
        },
        media_id="2345678901234567",
    ),
    InboundCase(
        "in_audio.json",
        "audio",
        {
            "media": {
                "id": "3456789012345678",
                "mime_type": "audio/mpeg",
                "sha256": "W3p8d0Qx9S2k5L8m1N4b7V0c3X6z9A2s5D8f1G4h7J0=",
            },
            "profile_name": "Anna Petrova",
        },
        media_id="3456789012345678",
    ),
    InboundCase(
        "in_voice.json",
        "voice",
        {
            "media": {
                "id": "4567890123456789",
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0F9e=",
            },
            "profile_name": "Anna Petrova",
        },
        media_id="4567890123456789",
        voice=True,
    ),
    InboundCase(
        "in_video.json",
        "video",
        {
            "media": {
                "id": "5678901234567890",
                "mime_type": "video/mp4",
                "sha256": "M1n2B3v4C5x6Z7l8K9j0H1g2F3d4S5a6P7o8I9u0Y1t=",
                "caption": "как это работает",
            },
            "profile_name": "Anna Petrova",
        },
        media_id="5678901234567890",
    ),
    InboundCase(
        "in_sticker.json",
        "sticker",
        {
            "media": {
                "id": "6789012345678901",
                "mime_type": "image/webp",
                "sha256": "Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7J8k9L0z1X2c=",
            },
            "profile_name": "Anna Petrova",
        },
        media_id="6789012345678901",
    ),
    InboundCase(
        "in_location.json",
        "location",
        {
            "location": {
                "latitude": 55.751244,
                "longitude": 37.618423,
                "name": "Red Square",
                "address": "Moscow, Russia",
                "url": "https://maps.example.org/red-square",
            },
            "profile_name": "Anna Petrova",
        },
    ),
    InboundCase(
        "in_contacts.json",
        "contacts",
        {
            "contacts": [
                {
                    "name": {"formatted_name": "Ivan Sidorov", "first_name": "Ivan", "last_name": "Sidorov"},
                    "phones": [{"phone": "+7 903 555-12-34", "wa_id": "79035551234", "type": "CELL"}],
                    "emails": [{"email": "ivan@example.org", "type": "WORK"}],
                    "org": {"company": "Horns & Hooves"},
                }
            ],
            "profile_name": "Anna Petrova",
        },
    ),
    InboundCase(
        "in_button_reply.json",
        "interactive",
        {
            "text": "Да, подтверждаю",
            "interactive": {"type": "button_reply", "id": "confirm-42", "title": "Да, подтверждаю"},
            "context": {
                "message_id": "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
                "from": "15550783881",
            },
            "profile_name": "Anna Petrova",
        },
    ),
    InboundCase(
        "in_list_reply.json",
        "interactive",
        {
            "text": "Tuesday 10:00",
            "interactive": {"type": "list_reply", "id": "slot-3", "title": "Tuesday 10:00", "description": "Room B"},
            "profile_name": "Anna Petrova",
        },
    ),
    InboundCase(
        "in_template_button.json",
        "button",
        {
            "text": "Stop promotions",
            "button": {"text": "Stop promotions", "payload": "STOP_PROMO"},
            "context": {
                "message_id": "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBJDMEM3RDcyRkVBRjVCRkNBOEUA",
                "from": "15550783881",
            },
            "profile_name": "Anna Petrova",
        },
    ),
    InboundCase(
        "in_reaction.json",
        "reaction",
        {
            "reaction": {"message_id": "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "emoji": "👍"},
            "profile_name": "Anna Petrova",
        },
    ),
    InboundCase(
        "in_unsupported.json",
        "unsupported",
        {
            "raw": {},
            "errors": [
                {"code": 131051, "title": "Message type unknown", "details": "Message type is currently not supported."}
            ],
            "profile_name": "Anna Petrova",
        },
    ),
]


@pytest.mark.parametrize("case", INBOUND_CASES, ids=lambda c: c.file)
def test_inbound_message_is_parsed_into_the_stored_shape(case: InboundCase) -> None:
    body = load(case.file)
    [batch] = parse_envelope(body)
    assert batch.phone_number_id == "106540352242922"
    assert batch.waba_id == "102290129340398"
    [event] = batch.inbound
    assert event.provider_id == body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert event.phone == PHONE
    assert event.type == case.type
    assert event.payload == case.payload
    assert event.timestamp == SENT_AT
    assert (event.media.id if event.media else None) == case.media_id
    assert (event.media.voice if event.media else False) is case.voice


@dataclass(frozen=True)
class StatusCase:
    file: str
    status: str
    error_codes: tuple[int, ...] = ()


STATUS_CASES = [
    StatusCase("status_sent.json", "sent"),
    StatusCase("status_delivered.json", "delivered"),
    StatusCase("status_read.json", "read"),
    StatusCase("status_failed_131026.json", "failed", (131026,)),
    StatusCase("status_failed_131047.json", "failed", (131047,)),
    StatusCase("status_unknown_value.json", "deleted"),
]


@pytest.mark.parametrize("case", STATUS_CASES, ids=lambda c: c.file)
def test_status_webhook_is_parsed(case: StatusCase) -> None:
    body = load(case.file)
    [batch] = parse_envelope(body)
    [event] = batch.statuses
    assert event.provider_id == body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    assert event.status == case.status
    assert event.recipient == PHONE
    assert event.timestamp == datetime.fromtimestamp(1767268860, UTC)
    assert tuple(e.code for e in event.errors) == case.error_codes
    assert not batch.inbound


def test_failed_status_keeps_metas_title_and_details() -> None:
    [batch] = parse_envelope(load("status_failed_131047.json"))
    [error] = batch.statuses[0].errors
    assert error.title == "Re-engagement message"
    assert error.details is not None and "24 hours" in error.details
    assert error.describe().startswith("Re-engagement message (Graph error 131047): ")


def test_several_entries_are_all_parsed_in_order() -> None:
    batches = parse_envelope(load("batch_two_changes.json"))
    assert [len(b.statuses) for b in batches] == [1, 0]
    assert [len(b.inbound) for b in batches] == [0, 1]


@pytest.mark.parametrize("file", ["other_field.json", "other_object.json"])
def test_other_webhook_fields_yield_no_message_events(file: str) -> None:
    assert parse_envelope(load(file)) == []


def test_a_sender_without_a_phone_number_is_skipped_not_guessed() -> None:
    [batch] = parse_envelope(load("in_not_a_phone.json"))
    assert batch.inbound == []
    assert batch.skipped == ["message without id or phone number"]


def test_the_phone_number_id_of_another_number_is_reported() -> None:
    [batch] = parse_envelope(load("other_number.json"))
    assert batch.phone_number_id == "999999999999999"


@pytest.mark.parametrize("body", [None, [], "x", {"object": "whatsapp_business_account", "entry": "nope"}])
def test_malformed_bodies_yield_nothing(body: Any) -> None:
    assert parse_envelope(body) == []


# pricing: the shape of Meta's status webhook reference
# (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status/),
# per-message pricing since July 2025: pricing_model PMP, category, type regular | free_customer_service | free_entry_point.


@pytest.mark.parametrize(
    ("file", "pricing"),
    [
        (
            "status_sent_pmp.json",
            {"pricing_model": "PMP", "category": "marketing", "type": "regular", "billable": True},
        ),
        (
            "status_delivered_free_service.json",
            {"pricing_model": "PMP", "category": "service", "type": "free_customer_service", "billable": False},
        ),
        # the older shape, without ``type``: billable is kept as Meta said it
        ("status_sent.json", {"pricing_model": "PMP", "category": "utility", "type": None, "billable": True}),
    ],
)
def test_the_pricing_object_of_a_status_is_kept(file: str, pricing: dict[str, Any]) -> None:
    (batch,) = parse_envelope(load(file))
    assert batch.statuses[0].pricing == pricing
