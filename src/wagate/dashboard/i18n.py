"""The dashboard's texts in English and Russian, and how times and durations read in each.

A gettext-style catalogue kept as one dict per locale: the keys are short English ids, the
values may use ``str.format`` fields. A test checks both locales have the same keys and fields.
A user's locale is their profile setting; the sign-in page follows ``Accept-Language``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LOCALES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "app": "wagate",
        "sign_in": "Sign in",
        "sign_in_title": "Sign in to the dashboard",
        "login": "Login",
        "password": "Password",
        "bad_credentials": "Wrong login or password.",
        "too_many_attempts": "Too many attempts. Wait a few minutes and try again.",
        "expired_form": "The form has expired. Please try again.",
        "no_users_hint": "No users yet? Create the first admin with `wagate user create` or with the admin token.",
        "setup": "First admin",
        "setup_title": "Create the first admin",
        "admin_token": "Admin API token",
        "setup_done": "The admin was created: sign in.",
        "setup_closed": "Set-up is closed: this tenant has users already.",
        "bad_token": "That is not an admin token.",
        "logout": "Sign out",
        "inbox": "Inbox",
        "analytics": "Analytics",
        "operations": "Operations",
        "templates": "Templates",
        "consents": "Consents",
        "users": "Users",
        "settings": "Settings",
        "language": "Language",
        "filter_all": "All",
        "filter_mine": "Mine",
        "filter_unassigned": "Unassigned",
        "filter_waiting": "Waiting for reply",
        "filter_closed": "Closed",
        "all_channels": "All channels",
        "no_conversations": "No conversations here yet.",
        "state_waiting": "waiting",
        "state_open": "open",
        "state_closed": "closed",
        "unassigned": "unassigned",
        "unread": "{count} unread",
        "client_wrote": "client wrote {ago}",
        "ago": "{ago} ago",
        "waiting_for": "waiting for a reply for {elapsed}",
        "assignee": "Assignee",
        "assign": "Assign",
        "take": "Take it",
        "nobody": "— nobody —",
        "close": "Close",
        "reopen": "Reopen",
        "notes": "Internal notes",
        "notes_hint": "Visible to operators only; never sent to the client.",
        "add_note": "Add note",
        "no_notes": "No notes.",
        "reply": "Reply",
        "send": "Send",
        "type_message": "Type a message",
        "window_open": "24-hour window open until {until}.",
        "window_closed": "The 24-hour window is closed: only an approved template can be sent.",
        "window_closed_not_enforced": "The 24-hour window is closed, but this channel does not enforce it.",
        "template": "Template",
        "choose_template": "Choose a template",
        "no_templates": "No approved template for this channel.",
        "param": "Parameter {n}",
        "send_template": "Send template",
        "contact": "Contact",
        "email": "Email",
        "info": "Notes from the CRM",
        "sync": "Sync from the Cloud API",
        "default_channel": "default",
        "whatsapp_profile": "WhatsApp profile",
        "name": "Name",
        "phone": "Phone",
        "channel": "Channel",
        "consent": "Consent",
        "consent_in": "opted in ({scopes})",
        "consent_out": "opted out",
        "consent_none": "no record",
        "status_queued": "queued",
        "status_sending": "sending",
        "status_sent": "sent",
        "status_delivered": "delivered",
        "status_read": "read",
        "status_failed": "failed",
        "status_expired": "expired",
        "status_cancelled": "cancelled",
        "status_unknown": "unknown",
        "status_received": "received",
        "by_operator": "by {name}",
        "automated": "automated",
        "download": "Download",
        "open_map": "Location",
        "period": "Period",
        "since": "From",
        "until": "To",
        "show": "Show",
        "export_csv": "Export CSV",
        "operator": "Operator",
        "team": "Whole team",
        "conversations_handled": "Conversations",
        "messages_sent": "Messages sent",
        "responses": "Responses",
        "response_median": "Response, median",
        "response_p90": "Response, p90",
        "first_response_median": "First response, median",
        "first_response_p90": "First response, p90",
        "within_sla": "Within SLA ({sla})",
        "unanswered": "Left unanswered",
        "unassigned_unanswered": "Unanswered and unassigned: {count}",
        "chart_response": "Response time per day (median and p90)",
        "chart_volume": "Messages per day",
        "client_messages": "Client messages",
        "operator_messages": "Operator messages",
        "median": "median",
        "p90": "p90",
        "no_data": "No data for this period.",
        "working_hours_note": "Response times count working hours only: {hours}.",
        "round_the_clock_note": "Response times count round the clock (no working hours set).",
        "channels": "Channels",
        "kind": "Kind",
        "state": "State",
        "queue": "Queue",
        "queued": "queued",
        "sending": "sending",
        "errors_24h": "Failed (24 h)",
        "sent_1h": "Sent (1 h)",
        "devices": "Devices",
        "online": "online",
        "offline": "offline",
        "battery": "battery {level}%",
        "unknown_messages": "Messages in unknown state",
        "unknown_hint": "The process stopped while a channel held these messages: they may or may not have gone out. "
        "Check the phone or the provider, then resolve each one.",
        "no_unknown": "None.",
        "resolve_sent": "It was sent",
        "resolve_failed": "It was not sent",
        "webhooks": "Webhook delivery log",
        "webhooks_api": "Webhook subscriptions, deliveries and replay are in the API: /v1/webhooks.",
        "create": "Create",
        "save": "Save",
        "role": "Role",
        "role_admin": "admin",
        "role_operator": "operator",
        "locale": "Language",
        "disabled": "disabled",
        "disable": "Disable",
        "enable": "Enable",
        "new_password": "New password",
        "new_user": "New user",
        "user_created": "User {login} created.",
        "saved": "Saved.",
        "body": "Text",
        "category": "Category",
        "status": "Status",
        "approve": "Approve",
        "reject": "Reject",
        "new_template": "New local template",
        "template_created": "Template {name} created.",
        "scopes": "Scopes",
        "source": "Source",
        "opt_in": "Record opt-in",
        "opt_out": "Opt out",
        "sla_minutes": "SLA, minutes",
        "working_hours": "Working hours",
        "working_hours_hint": "Leave the time zone empty to count round the clock.",
        "tz": "Time zone",
        "days": "Days",
        "start": "Opens",
        "end": "Closes",
        "dialogue_gap": "New dialogue after silence of, hours",
        "analytics_settings": "Analytics settings",
        "error": "Something is wrong",
        "not_found": "Not found.",
        "forbidden": "Only an admin may do this.",
        "back": "Back",
        "live": "live",
        "reconnecting": "reconnecting…",
        "load_more": "More",
        "day_1": "Mon",
        "day_2": "Tue",
        "day_3": "Wed",
        "day_4": "Thu",
        "day_5": "Fri",
        "day_6": "Sat",
        "day_7": "Sun",
        "unit_s": "{n} s",
        "unit_min": "{n} min",
        "unit_h": "{n} h",
        "unit_d": "{n} d",
        "unit_h_min": "{h} h {m} min",
        "unit_min_s": "{m} min {s} s",
        "just_now": "just now",
    },
    "ru": {
        "app": "wagate",
        "sign_in": "Войти",
        "sign_in_title": "Вход в панель",
        "login": "Логин",
        "password": "Пароль",
        "bad_credentials": "Неверный логин или пароль.",
        "too_many_attempts": "Слишком много попыток. Подождите несколько минут.",
        "expired_form": "Форма устарела. Попробуйте ещё раз.",
        "no_users_hint": "Пользователей ещё нет? Создайте первого администратора командой `wagate user create` "
        "или с токеном администратора.",
        "setup": "Первый администратор",
        "setup_title": "Создать первого администратора",
        "admin_token": "API-токен администратора",
        "setup_done": "Администратор создан: войдите.",
        "setup_closed": "Настройка закрыта: у этого арендатора уже есть пользователи.",
        "bad_token": "Это не токен администратора.",
        "logout": "Выйти",
        "inbox": "Входящие",
        "analytics": "Аналитика",
        "operations": "Работа шлюза",
        "templates": "Шаблоны",
        "consents": "Согласия",
        "users": "Пользователи",
        "settings": "Настройки",
        "language": "Язык",
        "filter_all": "Все",
        "filter_mine": "Мои",
        "filter_unassigned": "Без исполнителя",
        "filter_waiting": "Ждут ответа",
        "filter_closed": "Закрытые",
        "all_channels": "Все каналы",
        "no_conversations": "Здесь пока нет диалогов.",
        "state_waiting": "ждёт ответа",
        "state_open": "открыт",
        "state_closed": "закрыт",
        "unassigned": "без исполнителя",
        "unread": "непрочитанных: {count}",
        "client_wrote": "клиент писал {ago}",
        "ago": "{ago} назад",
        "waiting_for": "ждёт ответа {elapsed}",
        "assignee": "Исполнитель",
        "assign": "Назначить",
        "take": "Взять себе",
        "nobody": "— никто —",
        "close": "Закрыть",
        "reopen": "Открыть снова",
        "notes": "Внутренние заметки",
        "notes_hint": "Видны только операторам; клиенту не отправляются.",
        "add_note": "Добавить заметку",
        "no_notes": "Заметок нет.",
        "reply": "Ответ",
        "send": "Отправить",
        "type_message": "Введите сообщение",
        "window_open": "24-часовое окно открыто до {until}.",
        "window_closed": "24-часовое окно закрыто: можно отправить только одобренный шаблон.",
        "window_closed_not_enforced": "24-часовое окно закрыто, но этот канал его не соблюдает.",
        "template": "Шаблон",
        "choose_template": "Выберите шаблон",
        "no_templates": "Для этого канала нет одобренных шаблонов.",
        "param": "Параметр {n}",
        "send_template": "Отправить шаблон",
        "contact": "Контакт",
        "email": "Email",
        "info": "Заметки из CRM",
        "sync": "Синхронизировать с Cloud API",
        "default_channel": "по умолчанию",
        "whatsapp_profile": "профиль WhatsApp",
        "name": "Имя",
        "phone": "Телефон",
        "channel": "Канал",
        "consent": "Согласие",
        "consent_in": "подписан ({scopes})",
        "consent_out": "отписался",
        "consent_none": "нет записи",
        "status_queued": "в очереди",
        "status_sending": "отправляется",
        "status_sent": "отправлено",
        "status_delivered": "доставлено",
        "status_read": "прочитано",
        "status_failed": "ошибка",
        "status_expired": "просрочено",
        "status_cancelled": "отменено",
        "status_unknown": "неизвестно",
        "status_received": "получено",
        "by_operator": "отправил(а) {name}",
        "automated": "автоматически",
        "download": "Скачать",
        "open_map": "Местоположение",
        "period": "Период",
        "since": "С",
        "until": "По",
        "show": "Показать",
        "export_csv": "Выгрузить CSV",
        "operator": "Оператор",
        "team": "Вся команда",
        "conversations_handled": "Диалоги",
        "messages_sent": "Отправлено сообщений",
        "responses": "Ответы",
        "response_median": "Ответ, медиана",
        "response_p90": "Ответ, p90",
        "first_response_median": "Первый ответ, медиана",
        "first_response_p90": "Первый ответ, p90",
        "within_sla": "В пределах SLA ({sla})",
        "unanswered": "Остались без ответа",
        "unassigned_unanswered": "Без ответа и без исполнителя: {count}",
        "chart_response": "Время ответа по дням (медиана и p90)",
        "chart_volume": "Сообщения по дням",
        "client_messages": "Сообщения клиентов",
        "operator_messages": "Сообщения операторов",
        "median": "медиана",
        "p90": "p90",
        "no_data": "За этот период данных нет.",
        "working_hours_note": "Время ответа считается только в рабочие часы: {hours}.",
        "round_the_clock_note": "Время ответа считается круглосуточно (рабочие часы не заданы).",
        "channels": "Каналы",
        "kind": "Тип",
        "state": "Состояние",
        "queue": "Очередь",
        "queued": "в очереди",
        "sending": "отправляется",
        "errors_24h": "Ошибки (24 ч)",
        "sent_1h": "Отправлено (1 ч)",
        "devices": "Устройства",
        "online": "в сети",
        "offline": "не в сети",
        "battery": "батарея {level}%",
        "unknown_messages": "Сообщения в неизвестном состоянии",
        "unknown_hint": "Процесс остановился, пока канал держал эти сообщения: они могли уйти, а могли и нет. "
        "Проверьте телефон или провайдера и отметьте каждое.",
        "no_unknown": "Нет.",
        "resolve_sent": "Отправлено",
        "resolve_failed": "Не отправлено",
        "webhooks": "Журнал доставки вебхуков",
        "webhooks_api": "Подписки на вебхуки, доставки и повторная отправка — в API: /v1/webhooks.",
        "create": "Создать",
        "save": "Сохранить",
        "role": "Роль",
        "role_admin": "администратор",
        "role_operator": "оператор",
        "locale": "Язык",
        "disabled": "отключён",
        "disable": "Отключить",
        "enable": "Включить",
        "new_password": "Новый пароль",
        "new_user": "Новый пользователь",
        "user_created": "Пользователь {login} создан.",
        "saved": "Сохранено.",
        "body": "Текст",
        "category": "Категория",
        "status": "Статус",
        "approve": "Одобрить",
        "reject": "Отклонить",
        "new_template": "Новый локальный шаблон",
        "template_created": "Шаблон {name} создан.",
        "scopes": "Темы",
        "source": "Источник",
        "opt_in": "Записать согласие",
        "opt_out": "Отписать",
        "sla_minutes": "SLA, минут",
        "working_hours": "Рабочие часы",
        "working_hours_hint": "Оставьте часовой пояс пустым, чтобы считать круглосуточно.",
        "tz": "Часовой пояс",
        "days": "Дни",
        "start": "Начало",
        "end": "Конец",
        "dialogue_gap": "Новый диалог после тишины, часов",
        "analytics_settings": "Настройки аналитики",
        "error": "Что-то не так",
        "not_found": "Не найдено.",
        "forbidden": "Это может сделать только администратор.",
        "back": "Назад",
        "live": "онлайн",
        "reconnecting": "переподключение…",
        "load_more": "Ещё",
        "day_1": "Пн",
        "day_2": "Вт",
        "day_3": "Ср",
        "day_4": "Чт",
        "day_5": "Пт",
        "day_6": "Сб",
        "day_7": "Вс",
        "unit_s": "{n} с",
        "unit_min": "{n} мин",
        "unit_h": "{n} ч",
        "unit_d": "{n} дн",
        "unit_h_min": "{h} ч {m} мин",
        "unit_min_s": "{m} мин {s} с",
        "just_now": "только что",
    },
}

Translate = Callable[..., str]


def pick_locale(value: str | None, accept_language: str | None = None) -> str:
    """The user's locale, or the first supported language the browser asks for, else English."""
    if value in LOCALES:
        return str(value)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LOCALES:
            return code
    return "en"


def translator(locale: str) -> Translate:
    texts = TEXTS.get(locale, TEXTS["en"])

    def translate(key: str, **fields: Any) -> str:
        text = texts.get(key) or TEXTS["en"].get(key) or key
        return text.format(**fields) if fields else text

    return translate


def duration(seconds: float | None, t: Translate) -> str:
    """``95`` → "1 min 35 s"; ``None`` → "—"."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return t("unit_s", n=whole)
    if whole < 3600:
        minutes, secs = divmod(whole, 60)
        return t("unit_min_s", m=minutes, s=secs) if secs else t("unit_min", n=minutes)
    if whole < 86400:
        hours, minutes = divmod(whole // 60, 60)
        return t("unit_h_min", h=hours, m=minutes) if minutes else t("unit_h", n=hours)
    return t("unit_d", n=round(whole / 86400, 1))


def elapsed(moment: datetime | None, now: datetime, t: Translate) -> str:
    """Coarse elapsed time for lists: "1 min", "3 h", "2 d"."""
    if moment is None:
        return "—"
    seconds = max(0.0, (now - moment).total_seconds())
    if seconds < 3600:
        return t("unit_min", n=max(1, round(seconds / 60)))
    if seconds < 86400:
        return t("unit_h", n=int(seconds // 3600))
    return t("unit_d", n=int(seconds // 86400))


def ago(moment: datetime | None, now: datetime, t: Translate) -> str:
    """ "just now", "5 min ago", "3 h ago"."""
    if moment is None:
        return "—"
    if (now - moment).total_seconds() < 45:
        return t("just_now")
    return t("ago", ago=elapsed(moment, now, t))


def local_time(moment: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """``HH:MM`` for today, ``DD.MM HH:MM`` otherwise, in the tenant's zone."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    if now is not None and local.date() == now.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%d.%m.%Y %H:%M")


def short_duration(delta: timedelta, t: Translate) -> str:
    return duration(delta.total_seconds(), t)
