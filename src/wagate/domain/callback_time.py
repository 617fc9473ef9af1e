"""Understanding "when should we call you?" in Russian and English: a small rule-based parser.

``parse_callback_time(text, now, zone)`` turns a client's answer into the earliest moment they
asked to be called, in their (the tenant's) zone, or ``None`` when the answer is unclear — the
bot then asks once more. It understands:

* now: "now", "asap", "сейчас", "прямо сейчас", "в любое время", "any time";
* relative: "через час", "через 2 часа", "через 30 минут", "через полчаса", "in an hour",
  "in 20 min", "in half an hour";
* a day: "сегодня", "завтра", "послезавтра", "today", "tomorrow", a weekday ("в понедельник",
  "в пятницу", "on monday", "fri");
* a time: "в 15", "после 15", "к 10:30", "15:00", "at 5pm", "5 pm", "after 3", "в 3 дня",
  "в 8 вечера", "в 9 утра", "noon", "в полдень";
* a part of the day: "утром"/"morning" (10:00), "в обед" (13:00), "днём"/"после обеда"/
  "afternoon" (14:00), "вечером"/"evening"/"tonight" (18:00).

Rules of thumb, the ones a person taking the call would apply: an hour from 1 to 7 without
"утра"/"am" is in the afternoon (nobody asks for a call at 3 a.m.); a time without a day is
today if still ahead, else tomorrow; a day without a time is 10:00 (or now, for "today"); a
weekday is its next occurrence (today only if the time is still ahead). "после 15" (after 15)
means from 15:00: the earliest moment is what a call list sorts by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_TEXT = 300

_ASAP = re.compile(
    r"^(?:now|right now|asap|as soon as possible|any ?time|immediately|сейчас|прямо сейчас|срочно|"
    r"как можно скорее|как можно быстрее|в любое время|когда угодно|любое время)$"
)
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "один": 1,
    "одну": 1,
    "два": 2,
    "две": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
}
_RELATIVE = re.compile(
    r"(?:через|in)\s+(?:(\d{1,3}|a|an|one|two|three|four|five|один|одну|два|две|три|четыре|пять)\s*)?"
    r"(полчаса|half an? hour|час(?:а|ов)?|hours?|hrs?|h\b|минут(?:у|ы)?|мин\b|minutes?|mins?\b|"
    r"д(?:ень|ня|ней)\b|days?\b)"
)
_DAYS = {
    "сегодня": 0,
    "today": 0,
    "tonight": 0,
    "послезавтра": 2,
    "day after tomorrow": 2,
    "завтра": 1,
    "tomorrow": 1,
    "tmrw": 1,
}
_WEEKDAYS: tuple[tuple[str, int], ...] = (
    (r"понедельник\w*|\bпн\b|\bmon(?:day)?\b", 0),
    (r"вторник\w*|\bвт\b|\btue(?:s|sday)?\b", 1),
    (r"сред[ау]\b|\bср\b|\bwed(?:nesday)?\b", 2),
    (r"четверг\w*|\bчт\b|\bthu(?:rs|rsday)?\b", 3),
    (r"пятниц[аеу]\b|\bпт\b|\bfri(?:day)?\b", 4),
    (r"суббот[аеу]\b|\bсб\b|\bsat(?:urday)?\b", 5),
    (r"воскресень[ея]\b|\bвс\b|\bsun(?:day)?\b", 6),
)
#: (pattern, local time) for parts of the day; the first that matches wins.
_PARTS: tuple[tuple[str, time], ...] = (
    (r"полдень|\bnoon\b|midday", time(12)),
    (r"в обед|\bобед\b|lunch ?time|at lunch", time(13)),
    (r"после обеда|after lunch|\bднем\b|\bднём\b|afternoon", time(14)),
    (r"вечером|\bвечер\b|evening|tonight", time(18)),
    (r"утром|\bутро\b|morning", time(10)),
)
_AMPM = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?!\w)")
_CLOCK = re.compile(r"(?<![\d:.])(\d{1,2})[:.](\d{2})(?![\d:.])")
_AFTER_WORD = re.compile(
    r"(?:^|\s)(?:в|во|к|после|с|со|около|at|after|from|around|by|about)\s+(\d{1,2})(?![\d:.])"
    r"(?:\s*(?:ч\b|час\w*|h\b))?(?:\s*(утра|дня|вечера|ночи))?"
)
_BARE_HOUR = re.compile(r"(?<![\d:.])(\d{1,2})(?![\d:.])(?:\s*(?:ч\b|час\w*|h\b))?(?:\s*(утра|дня|вечера|ночи))?")
_NOW_WORD = re.compile(r"(?<!\w)(?:now|asap|сейчас|срочно)(?!\w)")
_DEFAULT_DAY_TIME = time(10)


@dataclass(frozen=True, slots=True)
class CallbackTime:
    """The earliest moment the client asked for, in the tenant's zone; ``asap`` for "now"."""

    at: datetime
    asap: bool = False


def _normalise(text: str) -> str:
    folded = text.casefold().replace("ё", "е")
    folded = re.sub(r"[!?,;«»\"'()]+", " ", folded)
    return re.sub(r"\s+", " ", folded).strip(" .")


def _hour(hour: int, suffix: str | None, *, explicit: bool) -> int | None:
    """Apply "утра/дня/вечера/ночи" and the afternoon rule; ``None`` for an impossible hour."""
    if suffix in ("дня", "вечера"):
        if not 1 <= hour <= 12:
            return None
        return hour if hour == 12 else hour + 12
    if suffix in ("утра", "ночи"):
        return hour if hour < 12 else (0 if hour == 12 else None)
    if hour > 23:
        return None
    if not explicit and 1 <= hour <= 7:
        return hour + 12
    return hour


def _time_of(text: str) -> time | None:
    match = _AMPM.search(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        hour = hour % 12 + (12 if match.group(3).startswith("p") else 0)
        return time(hour, minute)
    match = _CLOCK.search(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        fixed = _hour(hour, None, explicit=hour >= 10 or match.group(1).startswith("0"))
        return time(fixed, minute) if fixed is not None and minute < 60 else None
    match = _AFTER_WORD.search(text) or _BARE_HOUR.search(text)
    if match:
        value = _hour(int(match.group(1)), match.group(2), explicit=False)
        return time(value) if value is not None else None
    for pattern, moment in _PARTS:
        if re.search(pattern, text):
            return moment
    return None


def _day_offset(text: str, today: int) -> tuple[int | None, bool]:
    """Days from today the text names, and whether it named a weekday."""
    for word, offset in sorted(_DAYS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(?<!\w){word}(?!\w)", text):
            return offset, False
    for pattern, weekday in _WEEKDAYS:
        if re.search(pattern, text):
            return (weekday - today) % 7, True
    return None, False


def parse_callback_time(text: object, now: datetime, zone: ZoneInfo) -> CallbackTime | None:
    """The earliest moment ``text`` asks to be called at (aware, in ``zone``), or ``None`` if unclear."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return None
    cleaned = _normalise(text)
    local_now = now.astimezone(zone)
    if _ASAP.match(cleaned):
        return CallbackTime(local_now, asap=True)
    relative = _RELATIVE.search(cleaned)
    if relative:
        count_text, unit = relative.group(1), relative.group(2)
        if unit.startswith(("пол", "half")):
            return CallbackTime(local_now + timedelta(minutes=30))
        count = int(count_text) if count_text and count_text.isdigit() else _NUMBER_WORDS.get(count_text or "", 1)
        if unit.startswith(("д", "day")):
            delta = timedelta(days=count)
        elif unit.startswith(("час", "hour", "hr", "h")):
            delta = timedelta(hours=count)
        else:
            delta = timedelta(minutes=count)
        if delta > timedelta(days=14) or count == 0:
            return None
        return CallbackTime(local_now + delta)
    offset, weekday = _day_offset(cleaned, local_now.weekday())
    moment = _time_of(cleaned)
    if offset is None and moment is None:
        return CallbackTime(local_now, asap=True) if _NOW_WORD.search(cleaned) else None
    if moment is None:
        if offset == 0:
            return CallbackTime(local_now, asap=True)
        moment = _DEFAULT_DAY_TIME
    day = local_now.date() + timedelta(days=offset or 0)
    at = datetime.combine(day, moment).replace(tzinfo=zone)
    if at <= local_now:
        if offset is None:
            at += timedelta(days=1)  # "в 10" said at 15:00 means tomorrow at 10
        elif weekday:
            at += timedelta(days=7)  # "в понедельник в 10" said on Monday at 15:00: next Monday
        elif local_now - at < timedelta(hours=1):
            at = local_now  # "today at 15" said at 15:20: call now
        else:
            return None  # "today at 9" said in the evening: ask again
    return CallbackTime(at)


def format_when(at: datetime, now: datetime, language: str) -> str:
    """A moment as a person says it: "сегодня в 15:00", "tomorrow at 09:00", "в пн 12.01 в 09:00"."""
    local_now = now.astimezone(at.tzinfo)
    days = (at.date() - local_now.date()).days
    clock = at.strftime("%H:%M")
    if language == "ru":
        if days == 0:
            return f"сегодня в {clock}"
        if days == 1:
            return f"завтра в {clock}"
        weekday = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")[at.weekday()]
        return f"{weekday} {at.strftime('%d.%m')} в {clock}"
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    return f"{at.strftime('%a %d %b')} at {clock}"
