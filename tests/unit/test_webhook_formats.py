"""Webhook bodies, signatures and schedule, without a database or a network."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from standardwebhooks import Webhook

from wagate.domain.webhooks import ordering_key, validate_subscription, validate_url
from wagate.errors import ValidationError
from wagate.webhooks.formats import Event, render, wants
from wagate.webhooks.formats.devino import CLOUD_CODES, ERROR_CODES, error_code
from wagate.webhooks.schedule import RetrySchedule
from wagate.webhooks.signer import new_secret, signature_headers

AT = datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC)
AT_MS = int(AT.timestamp() * 1000)


def status_event(status: str, **extra: Any) -> Event:
    payload = {
        "message_id": 3482512350,
        "direction": "out",
        "channel": "main",
        "phone": "79034567890",
        "status": status,
        "error": None,
        "callback_data": "order-17",
        "origin": "devino",
        "at": AT.isoformat(),
        **extra,
    }
    return Event(id=41, tenant_id=1, type="message.status", message_id=3482512350, payload=payload, created_at=AT)


def incoming_event(content: dict[str, Any]) -> Event:
    payload = {
        "message_id": 901,
        "direction": "in",
        "channel": "main",
        "phone": "79001234567",
        "status": "received",
        "at": AT.isoformat(),
        "content": content,
    }
    return Event(id=42, tenant_id=1, type="message.received", message_id=901, payload=payload, created_at=AT)


# --- Devino status callbacks (seed: "Получение статуса") -----------------------------------------


def test_devino_status_callback_is_the_seeds_json_array_field_by_field() -> None:
    body = json.loads(render("devino", status_event("delivered")).body)
    assert isinstance(body, list) and len(body) == 1
    item = body[0]
    assert set(item) == {"messageId", "ts", "status", "errorCode", "options"}
    assert item["messageId"] == 3482512350 and isinstance(item["messageId"], int)  # long
    assert item["ts"] == AT_MS and isinstance(item["ts"], int)  # milliseconds
    assert item["status"] == "DELIVERED"  # the seed's example value
    assert item["errorCode"] == 0 and isinstance(item["errorCode"], int)
    assert item["options"] == "order-17"  # callbackData, as given


def test_devino_options_is_null_without_callback_data() -> None:
    item = json.loads(render("devino", status_event("read", callback_data=None)).body)[0]
    assert item["options"] is None
    assert item["status"] == "READ"


@pytest.mark.parametrize(
    ("status", "name", "code"),
    [
        ("sent", "SENT", 0),
        ("delivered", "DELIVERED", 0),
        ("read", "READ", 0),
        ("expired", "EXPIRED", 2010),
        ("cancelled", "REJECTED", 2313),
        ("unknown", "UNKNOWN", 2313),
    ],
)
def test_devino_status_names_and_codes(status: str, name: str, code: int) -> None:
    item = json.loads(render("devino", status_event(status)).body)[0]
    assert (item["status"], item["errorCode"]) == (name, code)


def test_devino_has_no_callback_for_queued_or_sending() -> None:
    assert not wants("devino", "message.status", {"status": "queued"})
    assert not wants("devino", "message.status", {"status": "sending"})
    assert wants("devino", "message.status", {"status": "sent"})
    assert wants("native", "message.status", {"status": "queued"})


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("not_on_whatsapp", 2305),
        ("131026", 2305),
        ("cloud_131047", 2312),
        ("service_window", 2312),
        ("rate_limited", 2301),
        ("130429", 2301),
        ("template_not_found", 2309),
        ("132000", 2308),
        ("132005", 2311),
        ("131021", 2307),
        ("media_too_large", 2303),
        ("text_too_long", 2300),
        ("spam", 2302),
        ("insufficient_funds", 2005),
        ("duplicate", 2009),
        ("recipient_refused", 2313),
        ("999999", 2313),
    ],
)
def test_failed_messages_map_onto_the_seeds_error_codes(code: str, expected: int) -> None:
    assert error_code("failed", code) == expected
    item = json.loads(render("devino", status_event("failed", error={"code": code, "message": "x"})).body)[0]
    assert item["status"] == "UNDELIVERED" and item["errorCode"] == expected


def test_every_mapped_code_is_one_of_the_seeds() -> None:
    seed = {2000, 2001, *range(2002, 2013), 2017, *range(2300, 2306), *range(2307, 2314)}
    assert set(ERROR_CODES.values()) <= seed
    assert set(CLOUD_CODES.values()) <= seed


# --- Devino incoming messages (seed: "Получение входящих сообщений") ---------------------------


def test_devino_incoming_text_has_the_seeds_fields() -> None:
    body = json.loads(render("devino", incoming_event({"text": "Hi", "profile_name": "Oleg"}), "79990000001").body)
    assert body == {
        "incomingMessageId": 901,
        "to": "79990000001",
        "from": "79001234567",
        "ts": AT_MS,
        "text": "Hi",
        "profileName": "Oleg",
    }


def test_devino_incoming_media_uses_content_fields() -> None:
    media = {"url": "https://files.example/p.jpg", "mime_type": "image/jpeg", "filename": "p.jpg", "caption": "look"}
    body = json.loads(render("devino", incoming_event({"media": media}), None).body)
    assert body["to"] == "main"  # the channel name when it has no number
    assert body["contentUrl"] == "https://files.example/p.jpg"
    assert body["contentType"] == "image/jpeg"
    assert body["contentName"] == "p.jpg"
    assert body["text"] == "look"


def test_devino_incoming_geolocation() -> None:
    location = {"latitude": 55.75, "longitude": 37.62, "name": "Office", "address": "Tverskaya 1", "url": "https://m"}
    body = json.loads(render("devino", incoming_event({"location": location})).body)
    assert body["whatsAppGeoLocation"] == {
        "latitude": 55.75,
        "longitude": 37.62,
        "address": "Tverskaya 1",
        "addressName": "Office",
        "addressurl": "https://m",
    }


def test_devino_incoming_contacts_follow_whatsappcontact() -> None:
    card = {
        "addresses": [{"street": "Lenina 1", "city": "Moscow", "country_code": "RU", "type": "WORK"}],
        "birthday": "1990-05-01",
        "emails": [{"email": "a@b.ru", "type": "WORK"}],
        "name": {"formatted_name": "Ivan Petrov", "first_name": "Ivan", "last_name": "Petrov"},
        "org": {"company": "ACME", "title": "CTO"},
        "phones": [{"phone": "+7 900 123-45-67", "wa_id": "79001234567", "type": "CELL"}],
        "urls": [{"url": "https://acme.ru", "type": "WORK"}],
    }
    body = json.loads(render("devino", incoming_event({"contacts": [card]})).body)
    assert body["whatsAppContacts"] == [
        {
            "addresses": [{"street": "Lenina 1", "city": "Moscow", "countryCode": "RU", "type": "WORK"}],
            "birthday": "1990-05-01",
            "emails": [{"email": "a@b.ru", "type": "WORK"}],
            "contactName": [{"firstName": "Ivan", "lastName": "Petrov", "formattedName": "Ivan Petrov"}],
            "contactCompany": [{"company": "ACME", "title": "CTO"}],
            "phones": [{"phone": "+7 900 123-45-67", "waId": "79001234567", "type": "CELL"}],
            "urls": [{"url": "https://acme.ru", "type": "WORK"}],
        }
    ]


# --- Native envelope, signatures ---------------------------------------------------------------


def test_native_body_is_an_envelope_around_the_event() -> None:
    event = status_event("sent")
    body = json.loads(render("native", event).body)
    assert body == {"id": "evt_41", "type": "message.status", "timestamp": AT.isoformat(), "data": event.payload}


def test_signature_verifies_with_standardwebhooks() -> None:
    secret = new_secret()
    body = render("native", status_event("sent")).body
    headers = signature_headers("evt_41", body, datetime.now(UTC), [secret])
    assert Webhook(secret).verify(body, headers)["id"] == "evt_41"


def test_during_rotation_both_secrets_verify() -> None:
    old, new = new_secret(), new_secret()
    body = '{"x": 1}'
    headers = signature_headers("evt_1", body, datetime.now(UTC), [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)


def test_signing_a_non_utc_time_stamps_the_same_instant() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    elsewhere = now.astimezone(timezone(timedelta(hours=3)))
    assert signature_headers("e", "b", now, [secret]) == signature_headers("e", "b", elsewhere, [secret])


# --- Retry schedule ------------------------------------------------------------------------------


def test_default_schedule_retries_for_at_least_24_hours_whatever_the_jitter() -> None:
    schedule = RetrySchedule()
    assert schedule.shortest_span >= 24 * 3600
    low = RetrySchedule.of(schedule.delays, 0.2, random.Random(1))
    assert sum(low.next_delay(n) or 0 for n in range(1, schedule.max_attempts)) >= 24 * 3600


def test_schedule_delays_grow_with_jitter_within_bounds_then_give_up() -> None:
    schedule = RetrySchedule.of([10, 100], jitter=0.2, rng=random.Random(7))
    first, second = schedule.next_delay(1), schedule.next_delay(2)
    assert first is not None and 8 <= first <= 12
    assert second is not None and 80 <= second <= 120
    assert schedule.next_delay(3) is None
    assert schedule.max_attempts == 3


# --- Subscription validation, ordering keys -----------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://crm.example/hook", "file:///etc/passwd", "javascript:alert(1)", "crm/hook", ""])
def test_only_http_and_https_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_url(url)
    assert info.value.field == "url"


def test_devino_format_refuses_events_it_has_no_callback_for() -> None:
    with pytest.raises(ValidationError) as info:
        validate_subscription({"url": "https://crm", "events": ["channel.status"], "format": "devino"})
    assert info.value.field == "events[0]"


def test_ordering_keys_group_a_message_a_channel_a_phone() -> None:
    assert ordering_key("message.status", 5, {}) == "m:5"
    assert ordering_key("channel.status", None, {"channel": "main"}) == "c:main"
    assert ordering_key("consent.changed", None, {"phone": "7900"}) == "p:7900"
    assert ordering_key("channel.status", None, {}) is None
