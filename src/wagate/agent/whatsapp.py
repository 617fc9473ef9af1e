"""What the agent knows about WhatsApp on Android: ids of its views, its dialogs, and how
``dumpsys`` shows its notifications and the battery. Pure functions, no device needed."""

from __future__ import annotations

import re

from wagate.agent.driver import Notification

PACKAGE = "com.whatsapp"
PACKAGES = frozenset({"com.whatsapp", "com.whatsapp.w4b"})
#: The chat's input field (the hosted services' ``existsElementById("com.whatsapp:id/entry")``).
ENTRY = "com.whatsapp:id/entry"
SEND = "com.whatsapp:id/send"
#: The caption field of the media preview (sharing a file into a chat).
CAPTION = "com.whatsapp:id/caption"
#: A sent or received message bubble in a chat.
MESSAGE_TEXT = "com.whatsapp:id/message_text"
#: The positive button of an Android dialog (WhatsApp's "OK").
DIALOG_OK = "android:id/button1"
#: "WhatsApp keeps stopping" — Android's crash dialog.
CRASH_CLOSE = "android:id/aerr_close"
#: WhatsApp's dialog for a ``wa.me`` link to a number without an account, in the languages we met.
NOT_ON_WHATSAPP = (
    r"(?i).*(isn.t on WhatsApp|is not on WhatsApp|not registered on WhatsApp|shared via url is invalid"
    r"|нет в WhatsApp|не зарегистрирован|no está en WhatsApp|não está no WhatsApp).*"
)

_RECORD = re.compile(r"^\s*NotificationRecord\(", re.MULTILINE)
_EXTRA = re.compile(r"^\s*(android\.[\w.]+)=(.*)$")
_TYPED = re.compile(r"^(?:String|SpannableString|SpannedString|CharSequence)\s\((.*)\)$", re.DOTALL)
_REDACTED = re.compile(r"^\w+ \[length=\d+\]$")
_GROUP_SUMMARY = 0x200


def _field(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text, re.MULTILINE)
    return found.group(1) if found else None


def _extras(block: str) -> dict[str, str]:
    """The ``extras={…}`` of one record, values unwrapped (multi-line texts kept)."""
    start = block.find("extras={")
    if start < 0:
        return {}
    values: dict[str, str] = {}
    current: str | None = None
    for line in block[start + len("extras={") :].splitlines()[1:]:
        if line.strip() == "}":
            break
        found = _EXTRA.match(line)
        if found:
            current = found.group(1)
            values[current] = found.group(2)
        elif current is not None:
            values[current] += "\n" + line.strip()
    out = {}
    for key, raw in values.items():
        typed = _TYPED.match(raw.strip())
        if _REDACTED.match(raw.strip()):
            continue
        if typed:
            out[key] = typed.group(1)
        elif raw.strip() not in ("null", ""):
            out[key] = raw.strip()
    return out


def parse_notifications(dump: str, packages: frozenset[str] = PACKAGES) -> list[Notification]:
    """WhatsApp's active notifications from ``dumpsys notification --noredact``.

    Without ``--noredact`` Android hides the texts (``String [length=5]``); such records are
    skipped rather than forwarded as garbage.
    """
    starts = [m.start() for m in _RECORD.finditer(dump)]
    found = []
    for i, start in enumerate(starts):
        block = dump[start : starts[i + 1] if i + 1 < len(starts) else len(dump)]
        package = _field(r"pkg=(\S+)", block)
        if package not in packages:
            continue
        key = _field(r"^\s+key=(\S+)", block) or _field(r"key=(\S+?):\s", block)
        extras = _extras(block)
        title = extras.get("android.title")
        text = extras.get("android.bigText") or extras.get("android.text")
        if not key or title is None or text is None:
            continue
        flags = _field(r"^\s+flags=0x([0-9a-fA-F]+)", block)
        is_group = extras.get("android.isGroupConversation") == "Boolean (true)"
        group = extras.get("android.conversationTitle") if is_group else None
        when = _field(r"^\s+when=(\d+)", block)
        chat = _field(r"shortcut=([\w.\-]+@[\w.]+)", block)
        found.append(
            Notification(
                key=key,
                package=package,
                title=title,
                text=text,
                when=int(when) if when else 0,
                chat=chat,
                group=group,
                summary=bool(flags and int(flags, 16) & _GROUP_SUMMARY),
            )
        )
    return found


def parse_battery(dump: str) -> tuple[int | None, bool | None]:
    """``(level %, charging)`` from ``dumpsys battery``."""
    level = _field(r"^\s*level:\s*(\d+)", dump)
    scale = _field(r"^\s*scale:\s*(\d+)", dump)
    percent = None
    if level is not None:
        percent = round(int(level) * 100 / int(scale)) if scale and int(scale) > 0 else int(level)
    powered = re.findall(r"^\s*(?:AC|USB|Wireless|Dock) powered:\s*(true|false)", dump, re.MULTILINE)
    status = _field(r"^\s*status:\s*(\d+)", dump)
    if not powered and status is None:
        return percent, None
    return percent, "true" in powered or status in ("2", "5")
