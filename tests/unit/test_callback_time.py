"""The callback time parser on real phrasings, Russian and English, against a fixed clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from wagate.domain.callback_time import format_when, parse_callback_time

MSK = ZoneInfo("Europe/Moscow")
#: Wednesday 13 January 2027, 11:20 in Moscow.
NOW = datetime(2027, 1, 13, 11, 20, tzinfo=MSK)

PHRASES: list[tuple[str, str | None]] = [
    # now
    ("now", "Wed 13 11:20 asap"),
    ("Сейчас", "Wed 13 11:20 asap"),
    ("прямо сейчас!", "Wed 13 11:20 asap"),
    ("ASAP", "Wed 13 11:20 asap"),
    ("в любое время", "Wed 13 11:20 asap"),
    ("call me now please", "Wed 13 11:20 asap"),
    ("сегодня", "Wed 13 11:20 asap"),
    # relative
    ("через час", "Wed 13 12:20"),
    ("через 2 часа", "Wed 13 13:20"),
    ("через полчаса", "Wed 13 11:50"),
    ("через 15 минут", "Wed 13 11:35"),
    ("in an hour", "Wed 13 12:20"),
    ("in 30 min", "Wed 13 11:50"),
    ("in half an hour", "Wed 13 11:50"),
    ("через 2 дня", "Fri 15 11:20"),
    # a day and a time
    ("завтра после 15", "Thu 14 15:00"),
    ("Завтра в 10:30", "Thu 14 10:30"),
    ("завтра утром", "Thu 14 10:00"),
    ("завтра вечером", "Thu 14 18:00"),
    ("завтра", "Thu 14 10:00"),
    ("послезавтра в 12", "Fri 15 12:00"),
    ("today 5pm", "Wed 13 17:00"),
    ("today at 5 p.m.", "Wed 13 17:00"),
    ("tomorrow 9am", "Thu 14 09:00"),
    ("tomorrow after lunch", "Thu 14 14:00"),
    ("сегодня после обеда", "Wed 13 14:00"),
    ("сегодня в обед", "Wed 13 13:00"),
    ("в понедельник утром", "Mon 18 10:00"),
    ("в пятницу в 14", "Fri 15 14:00"),
    ("on monday 3pm", "Mon 18 15:00"),
    ("friday morning", "Fri 15 10:00"),
    ("в среду в 10", "Wed 20 10:00"),  # today is Wednesday and 10:00 has passed: next week
    ("в среду в 16", "Wed 13 16:00"),
    # a time alone: today if still ahead, else tomorrow
    ("в 15", "Wed 13 15:00"),
    ("после 3", "Wed 13 15:00"),  # 1–7 without "утра"/am is the afternoon
    ("в 3 дня", "Wed 13 15:00"),
    ("в 8 вечера", "Wed 13 20:00"),
    ("в 9 утра", "Thu 14 09:00"),
    ("10:00", "Thu 14 10:00"),
    ("к 12:30", "Wed 13 12:30"),
    ("at noon", "Wed 13 12:00"),
    ("15", "Wed 13 15:00"),
    # unclear: the bot asks again
    ("как-нибудь", None),
    ("when you can", None),
    ("сегодня в 9", None),  # 9:00 today has passed long ago
    ("", None),
    ("в 25", None),
]


@pytest.mark.parametrize(("text", "expected"), PHRASES)
def test_phrasings(text: str, expected: str | None) -> None:
    parsed = parse_callback_time(text, NOW, MSK)
    shown = None if parsed is None else parsed.at.strftime("%a %d %H:%M") + (" asap" if parsed.asap else "")
    assert shown == expected


def test_the_result_is_in_the_tenant_zone() -> None:
    parsed = parse_callback_time("завтра после 15", NOW, MSK)
    assert parsed is not None
    assert parsed.at.isoformat() == "2027-01-14T15:00:00+03:00"


def test_a_time_just_passed_today_means_now() -> None:
    parsed = parse_callback_time("сегодня в 11", NOW, MSK)
    assert parsed is not None and parsed.at == NOW


def test_format_when_speaks_like_a_person() -> None:
    assert format_when(datetime(2027, 1, 14, 9, 0, tzinfo=MSK), NOW, "ru") == "завтра в 09:00"
    assert format_when(datetime(2027, 1, 13, 18, 0, tzinfo=MSK), NOW, "en") == "today at 18:00"
    assert format_when(datetime(2027, 1, 18, 9, 0, tzinfo=MSK), NOW, "ru") == "пн 18.01 в 09:00"
