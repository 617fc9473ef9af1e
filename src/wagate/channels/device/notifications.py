"""What a forwarded WhatsApp notification means: a client's message, a summary, or noise.

Pure functions, no I/O: the service looks up contacts for the sender this module names.

Android shows WhatsApp notifications in a few shapes, and automation apps forward them as
``title`` + ``text``:

* one chat: title = the contact's saved name, or the number as WhatsApp formats it
  (``+7 900 123-45-67``) when it is not saved; text = the message;
* a group: title ``Group: Person`` (older WhatsApp and most automation apps) or
  ``Person @ Group`` (newer WhatsApp), or title = the group and text ``Person: message``;
* counters: ``Ivan (2 messages)`` — the counter is not part of the name;
* summaries: ``5 new messages``, ``12 messages from 3 chats`` under the title ``WhatsApp`` —
  they repeat what the single notifications already said and become no message.

The notification key Android gives a WhatsApp notification usually carries the chat's JID
(``0|com.whatsapp|1|79001234567@s.whatsapp.net|10145``): when it does, the sender's number is
known for sure, and ``@g.us`` marks a group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

WHATSAPP_PACKAGES = frozenset({"com.whatsapp", "com.whatsapp.w4b"})
APP_TITLES = frozenset({"whatsapp", "whatsapp business"})

_COUNTER = re.compile(r"\s*\((\d+)\s+(?:new\s+)?(?:messages?|сообщени[а-яё]*)\)\s*$", re.IGNORECASE)
_SUMMARY = [
    re.compile(r"^\s*\d+\s+(?:new\s+|unread\s+)?messages?(?:\s+from\s+\d+\s+chats?)?\s*\.?\s*$", re.IGNORECASE),
    re.compile(r"^\s*\d+\s+(?:нов[а-яё]*\s+)?сообщени[а-яё]*(?:\s+из\s+\d+\s+чат[а-яё]*)?\s*\.?\s*$", re.IGNORECASE),
]
_PERSONAL_JID = re.compile(r"(\d{6,15})@s\.whatsapp\.net")
_GROUP_JID = re.compile(r"[\d\-]+@g\.us")
_PHONE_LIKE = re.compile(r"^\+?[\d\s()\-.\u00a0\u2011]+$")
_TEXT_SENDER = re.compile(r"^([^:\n]{1,80}):\s+(.+)$", re.DOTALL)


class Kind(StrEnum):
    MESSAGE = "message"
    SUMMARY = "summary"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Reading:
    """What a notification says: its kind, and for a message who wrote what, and where."""

    kind: Kind
    reason: str | None = None
    #: The sender as the phone shows them: a saved name or a formatted number.
    sender: str | None = None
    #: E.164 digits when the notification key names a personal chat.
    jid_phone: str | None = None
    group: str | None = None
    text: str = ""


def is_summary(text: str) -> bool:
    return any(p.match(text) for p in _SUMMARY)


def strip_counter(title: str) -> str:
    """``Ivan (2 messages)`` → ``Ivan``."""
    return _COUNTER.sub("", title).strip()


def looks_like_phone(value: str) -> bool:
    """True for a number as WhatsApp shows an unsaved sender: digits with the usual separators."""
    return bool(_PHONE_LIKE.match(value)) and sum(c.isdigit() for c in value) >= 7


def read_notification(package: str | None, title: str | None, text: str | None, key: str) -> Reading:
    """Classify one notification and split its title into sender and group."""
    if package and package not in WHATSAPP_PACKAGES:
        return Reading(Kind.IGNORED, reason=f"not a WhatsApp notification ({package})")
    title = (title or "").strip()
    text = (text or "").strip()
    if not text:
        return Reading(Kind.IGNORED, reason="no text")
    if is_summary(text) or is_summary(title):
        return Reading(Kind.SUMMARY, reason="summary of other notifications")
    if not title or title.lower() in APP_TITLES:
        return Reading(Kind.IGNORED, reason="an app notification, not a chat")
    title = strip_counter(title)
    personal = _PERSONAL_JID.search(key)
    group_chat = _GROUP_JID.search(key) is not None
    if personal and not group_chat:
        return Reading(Kind.MESSAGE, sender=title, jid_phone=personal.group(1), text=text)
    if " @ " in title:
        person, _, group = title.partition(" @ ")
        return Reading(Kind.MESSAGE, sender=strip_counter(person), group=strip_counter(group), text=text)
    if ": " in title:
        group, _, person = title.partition(": ")
        return Reading(Kind.MESSAGE, sender=strip_counter(person), group=strip_counter(group), text=text)
    if group_chat:
        found = _TEXT_SENDER.match(text)
        if found:
            return Reading(Kind.MESSAGE, sender=found.group(1).strip(), group=title, text=found.group(2).strip())
        return Reading(Kind.MESSAGE, sender=None, group=title, text=text)
    return Reading(Kind.MESSAGE, sender=title, text=text)
