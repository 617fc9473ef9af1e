"""The WAMM-style dialect: its error strings, emoji codes, states and message records.

Pure functions and tables, no I/O: ``wamm.py`` is the door that uses them. Every string here
is the original service's, word for word; where wagate knows more than the dialect can say, the answer
stays in the dialect and the native error code travels in the ``X-Wagate-Error`` header.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import unquote, unquote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wagate.domain import error_codes
from wagate.domain.statuses import Status
from wagate.errors import AuthError, ChannelError, PolicyError, ValidationError, WagateError

# The error strings of the original service's description, each exactly as a CRM compares it.
TOKEN_FAIL = "token fail"
ACC_NOT_AUTHORIZED = "acc not authorized"
PHONE_FAIL = "phone fail"
NO_WHATSAPP = "no WhatsApp on the number"
PHONE_NOT_CHECKED = "phone not checked for WhatsApp, please retry"
TEXT_FAIL = "text fail"
TEXT_TOO_LONG = "text fail, more 1500"
URL_FAIL = "url fail"
MSG_ID_FAIL = "msg_id fail"
MSG_NOT_BE = "msg not be"
COL_FAIL = "col fail or more 100"
MSGS_NOT_BE = "msgs not be"
NAME_FAIL = "name fail"
NAME_TOO_LONG = "name fail, more 250"
WEB_TOO_LONG = "web fail, more 150"
EMAIL_TOO_LONG = "email fail, more 150"
PHONE_NOT_FOUND = "phone not found"
FAIL_EXECUTION = "fail execution"
#: wagate's extension ``file_from_base64``: the file is missing, not base64, or larger than 100 MB.
FILE_FAIL = "file fail"

MAX_TEXT = 1500
MAX_COL = 100

#: The hosted services' emoji table. ``:sm02:`` and ``:sm17:`` are both 💐 there, and kept so.
#: ``:sm22:`` has no emoji in the original service's description: it is left in the text as typed.
EMOJI: dict[str, str] = {
    ":sm01:": "\U0001f917",  # 🤗
    ":sm02:": "\U0001f490",  # 💐
    ":sm03:": "\U0001f602",  # 😂
    ":sm04:": "\U0001f929",  # 🤩
    ":sm05:": "\U0001f62d",  # 😭
    ":sm06:": "\U0001f624",  # 😤
    ":sm07:": "\U0001f91d",  # 🤝
    ":sm08:": "\U0001f603",  # 😃
    ":sm09:": "\U0001f609",  # 😉
    ":sm10:": "\U0001f60d",  # 😍
    ":sm11:": "\U0001f618",  # 😘
    ":sm12:": "\U0001f637",  # 😷
    ":sm13:": "\U0001f615",  # 😕
    ":sm14:": "\U0001f64f",  # 🙏
    ":sm15:": "\U0001f449",  # 👉
    ":sm16:": "\U0001f44d",  # 👍
    ":sm17:": "\U0001f490",  # 💐
    ":sm18:": "\U0001f525",  # 🔥
    ":sm19:": "\U0001f552",  # 🕒
    ":sm20:": "\U0001f381",  # 🎁
    ":sm21:": "\U0001f4fa",  # 📺
}
_EMOJI_CODE = re.compile(r":sm\d\d:")
#: The hosted service's documented line break: the three characters ``%0A`` (a CRM that follows
#: the documentation URL-encodes them once more, so they reach the text literally).
_LITERAL_BREAK = re.compile(r"%0D%0A|%0A|%0D", re.IGNORECASE)

#: Parameters a method takes from the path after the token, in order
#: (``/api2/msg_to/{token}/{phone}/{text}``). The last one takes the rest of the path, slashes
#: included, so a text or a URL may contain ``/``.
PATH_PARAMS: dict[str, tuple[str, ...]] = {
    "msg_to": ("phone", "text"),
    "file_to": ("phone", "url"),
    "msg_state": ("msg_id",),
    "check_phone": ("phone",),
    "msg_get_last": ("col", "from_me"),
    "msg_get": ("phone", "col"),
    "contact_to": ("phone", "name"),
    "contact_delete": ("phone",),
}

#: wagate status → the state ``msg_state`` / ``msg_get*`` report.
STATES: dict[Status, str] = {
    Status.QUEUED: "sending",
    Status.SENDING: "sending",
    Status.SENT: "sent",
    Status.DELIVERED: "delivered",
    Status.READ: "viewed",
    Status.FAILED: "failed",
    Status.EXPIRED: "failed",
    Status.CANCELLED: "failed",
    Status.UNKNOWN: "unknown",
    Status.RECEIVED: "received",
}

#: Policy refusals (``PolicyError.code``) → the WAMM string, from the one table of failure
#: meanings (``wagate.domain.error_codes``). The dialect has no words for these rules, so each
#: is ``fail execution``; the header ``X-Wagate-Error`` names the rule.
POLICY_ERRORS: dict[str, str] = {
    code: error_codes.wamm_string(code)
    for code in (
        "template_not_found",
        "template_language_not_found",
        "template_not_approved",
        "template_param_count",
        "template_param_too_long",
        "template_param_invalid",
        "consent_required",
        "opted_out",
        "outside_service_window",
        "duplicate_message",
        "daily_cap_exceeded",
        "tier_limit_exceeded",
    )
}

#: Validation errors of the shared domain, by (field, code), → the WAMM string. ``None`` as the
#: code matches any code for that field.
_VALIDATION: dict[tuple[str, str | None], str] = {
    ("to", None): PHONE_FAIL,
    ("phone", None): PHONE_FAIL,
    ("text", None): TEXT_FAIL,
    ("media.url", None): URL_FAIL,
    ("name", "too_long"): NAME_TOO_LONG,
    ("name", "required"): NAME_FAIL,
    ("web", "too_long"): WEB_TOO_LONG,
    ("email", "too_long"): EMAIL_TOO_LONG,
    ("channel", None): ACC_NOT_AUTHORIZED,
}


class WammError(Exception):
    """An answer in the dialect: ``{"err": err}``. ``code`` is wagate's name for the reason."""

    status_code = 200

    def __init__(self, err: str, code: str | None = None) -> None:
        super().__init__(err)
        self.err = err
        self.code = code


def wamm_error_for(exc: WagateError) -> str:
    """The WAMM string for a wagate error raised by the shared services and domain."""
    if isinstance(exc, AuthError):
        return TOKEN_FAIL
    if isinstance(exc, PolicyError | ChannelError):
        return error_codes.wamm_string(exc.code)
    if isinstance(exc, ValidationError) and exc.field is not None:
        return _VALIDATION.get((exc.field, exc.code)) or _VALIDATION.get((exc.field, None)) or FAIL_EXECUTION
    return FAIL_EXECUTION


def decode_line_breaks(text: str) -> str:
    """A literal ``%0A`` (``%0D%0A``, ``%0D``; any case) in a text or caption → a line break."""
    if "%" not in text:
        return text
    return _LITERAL_BREAK.sub("\n", text)


def path_params(method: str, raw_segments: list[str]) -> dict[str, str]:
    """The parameters the path form carries after the token, by name.

    ``raw_segments`` are the path's segments still percent-encoded, so an encoded ``%2F`` stays
    inside its value. Each value is decoded as a query value would be (``+`` is a space), except
    ``url``, where ``+`` stays a plus. A trailing slash changes nothing.
    """
    names = PATH_PARAMS.get(method, ())
    segments = list(raw_segments)
    while segments and segments[-1] == "":
        segments.pop()
    if not names or not segments:
        return {}
    head, rest = segments[: len(names) - 1], segments[len(names) - 1 :]
    values = [*head, "/".join(rest)] if rest else head
    out: dict[str, str] = {}
    for name, value in zip(names, values, strict=False):
        decoded = unquote(value) if name == "url" else unquote_plus(value)
        if decoded != "":
            out[name] = decoded
    return out


def substitute_emoji(text: str) -> str:
    """``:sm01:`` → 🤗 and so on; unknown codes (``:sm22:``, ``:sm99:``) stay as typed."""
    if ":sm" not in text:
        return text
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(0), m.group(0)), text)


def wamm_state(status: str) -> str:
    try:
        return STATES[Status(status)]
    except ValueError:
        return status


#: Moscow has kept UTC+3 all year since 2014: the fallback where no tz database is installed.
_MSK = timezone(timedelta(hours=3), "MSK")


def resolve_timezone(name: str | None) -> tzinfo:
    """The zone WAMM dates are written in; unknown names fall back to UTC (Moscow to UTC+3)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _MSK if name == "Europe/Moscow" else UTC


def wamm_date(value: datetime | None, zone: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in ``zone``, as the original service's description writes ``date_ins``/``date_upd``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _text_of(payload: dict[str, Any]) -> str:
    if isinstance(payload.get("text"), str):
        return str(payload["text"])
    media = payload.get("media")
    if isinstance(media, dict):
        return str(media.get("caption") or media.get("filename") or "")
    template = payload.get("template")
    if isinstance(template, dict):
        params = ", ".join(str(p) for p in template.get("params") or [])
        return f"{template.get('name', '')}({params})" if params else str(template.get("name", ""))
    location = payload.get("location")
    if isinstance(location, dict):
        parts = [location.get("name"), location.get("address")]
        coords = f"{location.get('latitude')},{location.get('longitude')}"
        return " ".join(str(p) for p in [*parts, coords] if p)
    contacts = payload.get("contacts")
    if isinstance(contacts, list):
        names = []
        for contact in contacts:
            name = contact.get("name") if isinstance(contact, dict) else None
            if isinstance(name, dict):
                name = name.get("formatted_name") or name.get("first_name")
            if name:
                names.append(str(name))
        return ", ".join(names)
    return ""


def message_record(row: Any, chat_name: str | None, zone: tzinfo) -> dict[str, str]:
    """One message as ``msg_get_last``/``msg_get`` list it: every value a string, as in the original service's description."""
    payload: dict[str, Any] = row.payload or {}
    media = payload.get("media")
    is_file = isinstance(media, dict)
    link = str(media.get("url") or "") if isinstance(media, dict) else ""
    return {
        "msg_id": str(row.id),
        "from_me": "1" if row.direction == "out" else "0",
        "phone": row.phone,
        "chat_name": chat_name or str(payload.get("profile_name") or ""),
        "tip_msg": "file_link" if is_file else "textMessage",
        "msg_text": _text_of(payload),
        "msg_link": link,
        "date_ins": wamm_date(row.created_at, zone),
        "date_upd": wamm_date(row.updated_at, zone),
        "state": wamm_state(row.status),
    }
