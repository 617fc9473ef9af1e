"""The Devino-style dialect: request items → ``OutboundDraft``s, and errors → ``REJECTED`` results.

Pure functions and tables, no I/O: ``devino.py`` is the door that uses them. Keys, refs and
descriptions are the original service's, word for word; the few wagate adds (marked below) follow the
same pattern. A rejected item is ``{"code": "REJECTED", "reasons": [{"key", "ref"}, …],
"description"}``; all reasons found in one item are reported together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wagate.api.compat.media import file_name, guess_mime, media_class, normalize_mime
from wagate.domain import error_codes
from wagate.domain.messages import MAX_CALLBACK_DATA, OutboundDraft, is_http_url
from wagate.domain.phones import normalize_phone
from wagate.errors import AuthError, PolicyError, ValidationError, WagateError

BILLING = "billing.error"
FORBIDDEN = "forbidden"
UNKNOWN = "unknown"
INVALID = "invalid"
TOO_LONG = "length.too.long"
TOO_SHORT = "length.too.short"
NOT_NULL = "must.be.not.null"
NOT_AVAILABLE = "not.available"
TOO_MANY = "too.many.messages"

MAX_MESSAGES = 1000
MAX_CONTENT_NAME = 255
MIN_LANGUAGE, MAX_LANGUAGE = 2, 12
DEFAULT_LANGUAGE = "en"  # the original service's description: "Код языка, по умолчанию EN"

#: (key, field) → description. ``field`` is the part of ``ref`` after ``messages[i].``;
#: ``""`` is the item itself (``messages[i]``), ``"messages"`` the array, ``None`` no ref.
DESCRIPTIONS: dict[tuple[str, str | None], str] = {
    (BILLING, None): "Необходима оплата.",
    (FORBIDDEN, None): "Отправка запрещена.",
    (UNKNOWN, None): "Неизвестная ошибка.",
    (INVALID, "to"): "Неправильно указан номер телефона.",
    (INVALID, "validity"): "Неправильно указан срок жизни сообщения.",
    (INVALID, "callbackUrl"): "Неправильно указан URL.",
    (INVALID, "contentUrl"): "Неправильно указан URL контента.",
    (INVALID, "contentType"): "Неправильно указан тип контента.",
    (INVALID, "from"): "Неправильно указан отправитель.",
    (INVALID, "languageCode"): "Неправильно указан код языка.",
    (TOO_LONG, "to"): "Превышена максимальная длина номера телефона.",
    (TOO_LONG, "text"): "Превышена максимальная длина текста сообщения.",
    (TOO_LONG, "languageCode"): "Слишком длинный код языка.",
    (TOO_SHORT, "contentName"): "Слишком короткое название контента.",
    (TOO_SHORT, "languageCode"): "Слишком короткий код языка.",
    (NOT_NULL, "to"): "Получатель не указан.",
    (NOT_NULL, "messages"): "Массив messages не может быть пустым.",
    (NOT_NULL, "from"): "Отправитель не указан.",
    (NOT_NULL, ""): "Поле текста и контента не указано.",
    (NOT_AVAILABLE, "from"): "Некорректный адрес отправителя.",
    (TOO_MANY, "messages"): "Превышен максимальный размер массива messages.",
    # wagate's additions, for fields the original service's table does not cover:
    (INVALID, ""): "Неправильно указано сообщение.",
    (INVALID, "messages"): "Тело запроса должно быть JSON-объектом с массивом messages.",
    (INVALID, "text"): "Неправильно указан текст сообщения.",
    (INVALID, "templateId"): "Неправильно указан шаблон.",
    (INVALID, "templateParams"): (
        "Неправильно указаны параметры шаблона: в значении нельзя использовать переносы строки, "
        "табуляцию и 4 пробела подряд."
    ),
    (TOO_LONG, "templateParams"): "Превышение длины параметра шаблона.",
    (INVALID, "contentName"): "Неправильно указано название контента.",
    (TOO_LONG, "contentName"): "Слишком длинное название контента.",
    (INVALID, "callbackData"): "Неправильно указаны данные коллбэка.",
    (TOO_LONG, "callbackData"): "Слишком длинные данные коллбэка.",
}

#: ``PolicyError.code`` → (key, field, description). The dialect says "Отправка запрещена"
#: (``forbidden``) for refusals, with the original service's callback code for the same reason (from the one
#: table, ``wagate.domain.error_codes``) in the description; malformed template parameters get the validation key of
#: ``templateParams`` instead, as the request was wrong rather than refused.
POLICY: dict[str, tuple[str, str | None, str]] = {
    "template_not_found": (FORBIDDEN, None, "Отправка запрещена: шаблон не существует для указанного языка или локали"),
    "template_language_not_found": (
        FORBIDDEN,
        None,
        "Отправка запрещена: шаблон не существует для указанного языка или локали",
    ),
    "template_not_approved": (FORBIDDEN, None, "Отправка запрещена: шаблон не одобрен"),
    "template_param_count": (
        FORBIDDEN,
        None,
        "Отправка запрещена: количество указанных параметров шаблона не соответствует их ожидаемому количеству",
    ),
    "template_param_too_long": (TOO_LONG, "templateParams", "Превышение длины параметра шаблона"),
    "template_param_invalid": (
        INVALID,
        "templateParams",
        "В значении параметра шаблона нельзя использовать переносы строки, табуляцию и 4 пробела подряд",
    ),
    "consent_required": (FORBIDDEN, None, "Отправка запрещена: нет согласия получателя на сообщения"),
    "opted_out": (FORBIDDEN, None, "Отправка запрещена: получатель отказался от сообщений"),
    "outside_service_window": (
        FORBIDDEN,
        None,
        "Отправка запрещена: сообщение отправлено вне диалога и без указания шаблона",
    ),
    "duplicate_message": (FORBIDDEN, None, "Отправка запрещена: отклонено как дубликат"),
    "daily_cap_exceeded": (
        FORBIDDEN,
        None,
        "Отправка запрещена: за короткий промежуток времени было отправлено слишком много сообщений. "
        "Повторите отправку",
    ),
    "tier_limit_exceeded": (
        FORBIDDEN,
        None,
        "Отправка запрещена: за короткий промежуток времени было отправлено слишком много сообщений. "
        "Повторите отправку",
    ),
}

#: Errors of the shared domain, by (field, code) — ``None`` matches any code — → (key, field).
_VALIDATION: dict[tuple[str, str | None], tuple[str, str | None]] = {
    ("to", "required"): (NOT_NULL, "to"),
    ("to", "phone_too_long"): (TOO_LONG, "to"),
    ("to", None): (INVALID, "to"),
    ("text", "required"): (NOT_NULL, ""),
    ("text", "too_long"): (TOO_LONG, "text"),
    ("text", None): (INVALID, "text"),
    ("media", None): (NOT_NULL, ""),
    ("media.url", None): (INVALID, "contentUrl"),
    ("media.filename", "too_long"): (TOO_LONG, "contentName"),
    ("media.filename", None): (INVALID, "contentName"),
    ("media.caption", "too_long"): (TOO_LONG, "text"),
    ("media.mime_type", None): (INVALID, "contentType"),
    ("validity_seconds", None): (INVALID, "validity"),
    ("callback_url", None): (INVALID, "callbackUrl"),
    ("callback_data", "too_long"): (TOO_LONG, "callbackData"),
    ("callback_data", None): (INVALID, "callbackData"),
    ("template.name", None): (INVALID, "templateId"),
    ("template.language", None): (INVALID, "languageCode"),
    ("template.params", None): (INVALID, "templateParams"),
    ("channel", None): (NOT_AVAILABLE, "from"),
}

_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[_-]([A-Za-z0-9]{2,8}))?$")
_PARAM_FORBIDDEN = re.compile(r"[\n\r\t]| {4}")
_POSITION = re.compile(r"^[1-9][0-9]{0,2}$")


@dataclass(frozen=True, slots=True)
class Reason:
    key: str
    field: str | None  # None: no ref; "" the item; "messages" the array; else messages[i].field

    def ref(self, index: int | None) -> str | None:
        """The hosted services' ``ref``; an item's field has none when the whole request failed (``index=None``)."""
        if self.field is None or self.field == "messages":
            return self.field
        if index is None:
            return None
        return f"messages[{index}]" + (f".{self.field}" if self.field else "")

    def json(self, index: int | None) -> dict[str, str]:
        ref = self.ref(index)
        return {"key": self.key} if ref is None else {"key": self.key, "ref": ref}


def description(reason: Reason) -> str:
    return DESCRIPTIONS.get((reason.key, reason.field)) or DESCRIPTIONS.get((reason.key, None)) or ""


def rejected(reasons: list[Reason], index: int | None, text: str | None = None) -> dict[str, Any]:
    """A ``REJECTED`` result; without ``text`` the description joins the reasons' own."""
    if text is None:
        seen: list[str] = []
        for reason in reasons:
            line = description(reason)
            if line and line not in seen:
                seen.append(line)
        text = " ".join(seen)
    return {"code": "REJECTED", "reasons": [r.json(index) for r in reasons], "description": text}


def accepted(message_id: int) -> dict[str, str]:
    return {"code": "OK", "messageId": str(message_id)}


def policy_rejection(exc: PolicyError, index: int | None) -> dict[str, Any]:
    """The one place PolicyErrors become Devino results (see ``POLICY``)."""
    key, field, text = POLICY.get(exc.code, (FORBIDDEN, None, "Отправка запрещена"))
    known = error_codes.ERRORS.get(exc.code)
    status = known.devino if known is not None and known.devino != error_codes.DEVINO_UNKNOWN else None
    codes = f"{status}, {exc.code}" if status is not None else exc.code
    return rejected([Reason(key, field)], index, f"{text} ({codes}).")


def rejection_for(exc: WagateError, index: int | None) -> dict[str, Any]:
    """Any wagate error of an item (or of the whole request, ``index=None``) → a ``REJECTED`` result."""
    if isinstance(exc, PolicyError):
        return policy_rejection(exc, index)
    if isinstance(exc, AuthError):
        return rejected([Reason(FORBIDDEN, None)], index, "Отправка запрещена: неверный ключ авторизации.")
    if isinstance(exc, ValidationError) and exc.field is not None:
        match = _VALIDATION.get((exc.field, exc.code)) or _VALIDATION.get((exc.field, None))
        if match is not None:
            return rejected([Reason(*match)], index)
    return rejected([Reason(UNKNOWN, None)], index)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _language(value: Any, reasons: list[Reason]) -> str:
    """``EN`` → ``en``, ``en-us`` → ``en_US`` (the Cloud API's spelling of locales)."""
    if value is None:
        return DEFAULT_LANGUAGE
    if not isinstance(value, str):
        reasons.append(Reason(INVALID, "languageCode"))
        return DEFAULT_LANGUAGE
    code = value.strip()
    if len(code) < MIN_LANGUAGE:
        reasons.append(Reason(TOO_SHORT, "languageCode"))
        return DEFAULT_LANGUAGE
    if len(code) > MAX_LANGUAGE:
        reasons.append(Reason(TOO_LONG, "languageCode"))
        return DEFAULT_LANGUAGE
    match = _LANGUAGE.match(code)
    if match is None:
        reasons.append(Reason(INVALID, "languageCode"))
        return DEFAULT_LANGUAGE
    language, region = match.groups()
    return language.lower() + (f"_{region.upper()}" if region else "")


def template_params(value: Any) -> list[str] | None:
    """``{"1": "a", "2": "b"}`` → ``["a", "b"]``; ``None`` if malformed.

    Keys must be the positions 1…n; values strings (numbers are written as text) without
    newlines, tabs or four spaces in a row (the original service's rule for template values).
    """
    if not isinstance(value, dict):
        return None
    if not all(isinstance(k, str) and _POSITION.match(k) for k in value):
        return None
    positions = sorted(int(k) for k in value)
    if positions != list(range(1, len(positions) + 1)):
        return None
    params: list[str] = []
    for position in positions:
        item = value[str(position)]
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            return None
        text = str(item)
        if _PARAM_FORBIDDEN.search(text):
            return None
        params.append(text)
    return params


def parse_item(item: Any, region: str) -> tuple[OutboundDraft | None, list[Reason]]:
    """One element of ``messages`` → a draft (``channel`` = the raw ``from``) or its reasons.

    Every field is checked so that all reasons of an item are reported at once; the shared
    domain (``validate_outbound``) and policy then run on the draft in ``accept_messages``.
    """
    if item is None:
        return None, [Reason(NOT_NULL, "")]
    if not isinstance(item, dict):
        return None, [Reason(INVALID, "")]
    reasons: list[Reason] = []

    sender = item.get("from")
    if _blank(sender):
        reasons.append(Reason(NOT_NULL, "from"))
    elif not isinstance(sender, str):
        reasons.append(Reason(INVALID, "from"))

    to = item.get("to")
    phone: str | None = None
    if to is None or to == "":
        reasons.append(Reason(NOT_NULL, "to"))
    elif isinstance(to, bool) or not isinstance(to, str | int):
        reasons.append(Reason(INVALID, "to"))
    else:
        try:
            phone = normalize_phone(str(to), region, "to")
        except ValidationError as exc:
            reasons.append(Reason(TOO_LONG if exc.code == "phone_too_long" else INVALID, "to"))

    text = item.get("text")
    if text is not None and not isinstance(text, str):
        reasons.append(Reason(INVALID, "text"))
        text = None

    validity = item.get("validity")
    if validity is not None and (isinstance(validity, bool) or not isinstance(validity, int) or validity <= 0):
        reasons.append(Reason(INVALID, "validity"))

    callback_url = item.get("callbackUrl")
    if callback_url is not None and not is_http_url(callback_url):
        reasons.append(Reason(INVALID, "callbackUrl"))

    callback_data = item.get("callbackData")
    if callback_data is not None:
        if isinstance(callback_data, bool) or not isinstance(callback_data, str | int | float):
            reasons.append(Reason(INVALID, "callbackData"))
        elif len(str(callback_data)) > MAX_CALLBACK_DATA:
            reasons.append(Reason(TOO_LONG, "callbackData"))
        else:
            callback_data = str(callback_data)

    content_url = item.get("contentUrl")
    if content_url is not None and not is_http_url(content_url):
        reasons.append(Reason(INVALID, "contentUrl"))

    content_type = item.get("contentType")
    mime: str | None = None
    if content_type is not None:
        mime = normalize_mime(content_type) if isinstance(content_type, str) else None
        if mime is None:
            reasons.append(Reason(INVALID, "contentType"))

    content_name = item.get("contentName")
    if content_name is not None:
        if not isinstance(content_name, str):
            reasons.append(Reason(INVALID, "contentName"))
        elif not content_name.strip():
            reasons.append(Reason(TOO_SHORT, "contentName"))
        elif len(content_name) > MAX_CONTENT_NAME:
            reasons.append(Reason(TOO_LONG, "contentName"))

    template_id = item.get("templateId")
    if template_id is not None and (not isinstance(template_id, str) or not template_id.strip()):
        reasons.append(Reason(INVALID, "templateId"))
        template_id = None
    language = _language(item.get("languageCode"), reasons)
    raw_params = item.get("templateParams")
    params: list[str] = []
    if raw_params is not None:
        parsed = template_params(raw_params)
        if parsed is None:
            reasons.append(Reason(INVALID, "templateParams"))
        else:
            params = parsed

    if _blank(item.get("text")) and content_url is None and item.get("templateId") is None:
        reasons.append(Reason(NOT_NULL, ""))
    if template_id is not None and content_url is not None:
        reasons.append(Reason(INVALID, "contentUrl"))  # a template with a media header: not supported

    if reasons:
        return None, reasons

    draft = OutboundDraft(
        to=phone,
        channel=str(sender),
        validity_seconds=validity,
        callback_url=callback_url,
        callback_data=callback_data,
        origin="devino",
    )
    if template_id is not None:
        draft.type = "template"
        draft.template = {"name": template_id, "language": language, "params": params}
    elif content_url is not None:
        mime = mime or guess_mime(content_url)
        media: dict[str, Any] = {"url": content_url, "filename": content_name or file_name(content_url)}
        if mime:
            media["mime_type"] = mime
        if not _blank(text):
            media["caption"] = text
        draft.type = media_class(mime).value
        draft.media = media
    else:
        draft.type = "text"
        draft.text = text
    return draft, []
