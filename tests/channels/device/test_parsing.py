"""Reading WhatsApp notifications and the phone's state: pure functions over real formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from wagate.agent.whatsapp import NOT_ON_WHATSAPP, parse_battery, parse_notifications
from wagate.channels.device.notifications import Kind, looks_like_phone, read_notification, strip_counter

TESTDATA = Path(__file__).parent / "testdata"


# -- what the gateway makes of a notification ------------------------------------------------------------


def test_a_chat_notification_names_the_sender_by_its_title() -> None:
    reading = read_notification("com.whatsapp", "Ivan Petrov", "Hello", "k1")
    assert reading.kind is Kind.MESSAGE and reading.sender == "Ivan Petrov" and reading.group is None


def test_the_message_counter_is_not_part_of_the_name() -> None:
    assert read_notification("com.whatsapp", "Ivan Petrov (2 messages)", "Hi", "k").sender == "Ivan Petrov"
    assert strip_counter("Иван (3 сообщения)") == "Иван"


@pytest.mark.parametrize(
    ("title", "sender", "group"),
    [
        ("Parents: Ivan Petrov", "Ivan Petrov", "Parents"),
        ("Ivan Petrov @ Parents", "Ivan Petrov", "Parents"),
        ("Parents (5 messages): Ivan Petrov", "Ivan Petrov", "Parents"),
    ],
)
def test_group_titles_are_split_into_group_and_sender(title: str, sender: str, group: str) -> None:
    reading = read_notification("com.whatsapp", title, "See you", "k")
    assert (reading.sender, reading.group) == (sender, group)


def test_a_group_key_with_the_sender_in_the_text() -> None:
    reading = read_notification("com.whatsapp", "Parents", "Anna: See you at 5", "0|com.whatsapp|1|7900-16@g.us|1")
    assert (reading.group, reading.sender, reading.text) == ("Parents", "Anna", "See you at 5")


def test_a_personal_chat_key_keeps_a_colon_in_the_name() -> None:
    reading = read_notification("com.whatsapp", "Dr: Who", "hi", "0|com.whatsapp|1|79001112233@s.whatsapp.net|1")
    assert (reading.sender, reading.group, reading.jid_phone) == ("Dr: Who", None, "79001112233")


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("WhatsApp", "5 new messages"),
        ("WhatsApp", "12 messages from 3 chats"),
        ("WhatsApp", "3 новых сообщения"),
        ("Ivan", "2 new messages"),
    ],
)
def test_summaries_are_recognised(title: str, text: str) -> None:
    assert read_notification("com.whatsapp", title, text, "k").kind is Kind.SUMMARY


def test_app_notifications_and_other_apps_are_ignored() -> None:
    assert read_notification("com.whatsapp", "WhatsApp", "Checking for new messages", "k").kind is Kind.IGNORED
    assert read_notification("com.android.systemui", "Battery", "15%", "k").kind is Kind.IGNORED
    assert read_notification("com.whatsapp", "Ivan", "", "k").kind is Kind.IGNORED


def test_numbers_as_whatsapp_shows_them_look_like_phones() -> None:
    assert looks_like_phone("+7 900 123-45-67")
    assert looks_like_phone("+1 (415) 555‑0100".replace("‑", "-"))
    assert not looks_like_phone("Ivan 2")
    assert not looks_like_phone("112")


# -- what the agent reads from the phone ----------------------------------------------------------------


def test_dumpsys_notifications_of_whatsapp_are_parsed() -> None:
    found = parse_notifications((TESTDATA / "dumpsys_notification.txt").read_text())
    assert [(n.title, n.group, n.summary) for n in found] == [
        ("Ivan Petrov", None, False),
        ("Parents: Anna", "Parents", False),
        ("WhatsApp", None, True),
    ]
    first = found[0]
    assert first.key == "0|com.whatsapp|1|null|10123"
    assert first.chat == "79001112233@s.whatsapp.net"
    assert first.when == 1767258000000
    assert first.text == "Is my order ready?\nIt was due yesterday"


def test_redacted_notifications_are_skipped() -> None:
    found = parse_notifications((TESTDATA / "dumpsys_notification.txt").read_text())
    assert all(n.key != "0|com.whatsapp|2|null|10123" for n in found)


def test_the_battery_level_and_charging_are_read() -> None:
    dump = "Current Battery Service state:\n  AC powered: false\n  USB powered: true\n  status: 2\n  level: 85\n  scale: 100\n"
    assert parse_battery(dump) == (85, True)
    assert parse_battery("  AC powered: false\n  USB powered: false\n  status: 3\n  level: 40\n") == (40, False)


def test_the_not_on_whatsapp_dialog_is_recognised() -> None:
    import re

    assert re.fullmatch(NOT_ON_WHATSAPP, "The phone number +7 900 123-00-00 isn't on WhatsApp.")
    assert re.fullmatch(NOT_ON_WHATSAPP, "Номер телефона +7 900 нет в WhatsApp.")
    assert not re.fullmatch(NOT_ON_WHATSAPP, "Type a message")
