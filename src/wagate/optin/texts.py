"""The opt-in page's built-in texts in English and Russian (the hosted services' audience).

Tenants override the company name, an extra description and the notification types
(``PATCH /v1/policy`` → ``optin``); the rest stays as written here, so the version of the
form a client saw is identified by ``optin.text_version`` plus a hash of the texts shown.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "WhatsApp notifications from {company}",
        "intro": "Choose what {company} may send you on WhatsApp. We send only the types you tick, "
        "and you can stop them at any time.",
        "phone_label": "Your WhatsApp number (with country code)",
        "scopes_legend": "What would you like to receive?",
        "agree": "I agree to receive the notifications I chose from {company} on WhatsApp at this number.",
        "rules": "Under WhatsApp's rules we send no advertising you did not ask for and no spam. "
        "To unsubscribe, send STOP in the chat at any time.",
        "submit": "Subscribe",
        "done_title": "You are subscribed",
        "done_text": "You will receive: {scopes}. To unsubscribe, send STOP in the WhatsApp chat.",
        "open_chat": "Open the chat in WhatsApp",
        "expired": "This form has expired. Please reload the page and try again.",
        "bad_phone": "Please enter a valid phone number with its country code.",
        "no_scopes": "Please choose at least one type of notification.",
        "no_agree": "Please confirm that you agree.",
        "not_found": "There is no such page.",
    },
    "ru": {
        "title": "Уведомления {company} в WhatsApp",
        "intro": "Выберите, что {company} может присылать вам в WhatsApp. Мы присылаем только то, "
        "что вы отметите, и вы можете отписаться в любой момент.",
        "phone_label": "Ваш номер WhatsApp (с кодом страны)",
        "scopes_legend": "Что вы хотите получать?",
        "agree": "Я согласен(на) получать выбранные уведомления от {company} в WhatsApp на этот номер.",
        "rules": "По правилам WhatsApp мы не присылаем рекламу, о которой вы не просили, и спам. "
        "Чтобы отписаться, в любой момент напишите в чат СТОП.",
        "submit": "Подписаться",
        "done_title": "Вы подписаны",
        "done_text": "Вы будете получать: {scopes}. Чтобы отписаться, напишите СТОП в чат WhatsApp.",
        "open_chat": "Открыть чат в WhatsApp",
        "expired": "Срок действия формы истёк. Обновите страницу и попробуйте ещё раз.",
        "bad_phone": "Введите правильный номер телефона с кодом страны.",
        "no_scopes": "Выберите хотя бы один тип уведомлений.",
        "no_agree": "Подтвердите согласие.",
        "not_found": "Такой страницы нет.",
    },
}


def pick_language(requested: str | None, accept_language: str | None, region: str) -> str:
    """``?lang=`` first, then the browser's preference, then the tenant's region (RU → Russian)."""
    if requested in LANGUAGES:
        return str(requested)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "ru" if region.upper() in ("RU", "BY", "KZ", "KG") else "en"


def localized(value: Any, language: str) -> str:
    """A tenant text: a plain string, or ``{"en": …, "ru": …}``."""
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or next(iter(value.values()), ""))
    return str(value or "")
