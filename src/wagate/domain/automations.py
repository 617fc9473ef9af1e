"""Automations: what the bot answers a client, decided from the settings, the conversation's state and the clock.

Pure Python (no I/O). ``parse_settings`` validates ``PUT /v1/automations`` and names the field at
fault; ``react`` takes one client message and returns the replies, the next state and what to
record (a hand-off, a callback request). The service (``wagate.services.automations``) stores
the state and sends the replies through the same policy as every message.

The order of the rules for one client message:

1. outside working hours, the away message — once per closed period (the period is known by
   the moment the team is back), saying when; inside hours, a new conversation gets the greeting;
2. a conversation handed to a person gets nothing more from the bot (the away message aside)
   until an operator hands it back;
3. "a person, please" (оператор, человек, operator, human …) hands the conversation off;
4. an open callback request takes the answer as the number and time to call;
5. the current menu level: an item's key ("1") or one of its keywords; "0"/"назад"/"back" goes up,
   "меню"/"menu" to the top;
6. keyword replies (exact, word or regex);
7. otherwise the menu (again, for an unmatched question, with "I did not understand").

Opt-out keywords are not seen here: the service never calls ``react`` for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import regex

from wagate.domain.callback_time import format_when, parse_callback_time
from wagate.domain.phones import normalize_phone
from wagate.domain.working_hours import WorkingHours
from wagate.errors import ValidationError

LANGUAGES = ("ru", "en")
MODES = ("word", "exact", "regex")
ACTIONS = ("callback", "handoff")
MAX_TEXT = 4096
MAX_ITEMS = 20
MAX_DEPTH = 3
MAX_KEYWORDS = 200
MAX_PATTERN = 200
#: Only this much of a client's text is given to a regular expression; with the timeout, a
#: pathological pattern cannot hold the inbound transaction.
REGEX_INPUT = 1000
REGEX_TIMEOUT_S = 0.05
#: A client silent this long starts a new conversation with the bot (greeting, top menu, bot mode).
SESSION_GAP = timedelta(hours=12)

Text = str | Mapping[str, str]

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_PERSON = re.compile(
    r"(?<!\w)(?:оператор\w*|живой человек|живого человека|человек[ау]?|менеджер[ау]?|сотрудник[ау]?|"
    r"operator|human|agent|a person|real person|representative|manager)(?!\w)"
)
_BACK = frozenset({"0", "назад", "back"})
_TOP = frozenset({"меню", "menu", "главное меню", "main menu", "start", "старт", "начать"})
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s()\-]{8,17}\d")

# ---------------------------------------------------------------- what the bot says by itself

TEXTS: dict[str, dict[str, str]] = {
    "back_at": {"ru": "Мы снова на связи {back}.", "en": "We are back {back}."},
    "handoff": {"ru": "Передаю ваш вопрос сотруднику, он ответит здесь.", "en": "A colleague will answer you here."},
    "handoff_closed": {
        "ru": "Передаю ваш вопрос сотруднику, он ответит {back}.",
        "en": "A colleague will answer you here {back}.",
    },
    "callback_ask": {
        "ru": "Когда вам удобно принять звонок? Позвоним на +{phone}; если удобнее другой номер, напишите его "
        "вместе со временем. Например: «завтра после 15», «сегодня в 17:00» или «сейчас».",
        "en": "When would you like us to call? We will call +{phone}; to use another number, send it with the "
        "time. For example: “tomorrow after 3pm”, “today 5pm” or “now”.",
    },
    "callback_clarify": {
        "ru": "Не понял время. Напишите, пожалуйста, например: «завтра в 11», «в понедельник утром» или «сейчас».",
        "en": "Sorry, I did not catch the time. Please write, for example: “tomorrow 11am”, “Monday morning” or “now”.",
    },
    "callback_done": {"ru": "Спасибо! Позвоним на +{phone} {when}.", "en": "Thank you! We will call +{phone} {when}."},
    "callback_asap": {
        "ru": "Спасибо! Позвоним на +{phone} в ближайшее время.",
        "en": "Thank you! We will call +{phone} shortly.",
    },
    "callback_unclear": {
        "ru": "Спасибо! Сотрудник позвонит на +{phone} и уточнит время.",
        "en": "Thank you! A colleague will call +{phone} to agree on a time.",
    },
    "not_understood": {
        "ru": "Не понял вопрос. Выберите пункт меню:",
        "en": "Sorry, I did not understand. Please choose:",
    },
    "menu_hint_back": {"ru": "0. Назад", "en": "0. Back"},
}


def say(key: str, language: str, **values: str) -> str:
    texts = TEXTS[key]
    return (texts.get(language) or texts["en"]).format(**values)


def detect_language(text: str | None) -> str | None:
    """``ru`` for Cyrillic, ``en`` for Latin letters, ``None`` for digits and emoji (keep what we knew)."""
    if not text:
        return None
    if _CYRILLIC.search(text):
        return "ru"
    if _LATIN.search(text):
        return "en"
    return None


def fold(text: str) -> str:
    folded = text.casefold().replace("ё", "е")
    folded = re.sub(r"[!?.,;:«»\"'()]+", " ", folded)
    return re.sub(r"\s+", " ", folded).strip()


def localized(value: Text | None, language: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(language) or value.get("en") or value.get("ru") or next(iter(value.values()), "")


# ---------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class Keyword:
    match: str
    mode: str
    reply: Text
    pattern: Any = None  # a compiled ``regex`` pattern for mode "regex"

    def matches(self, text: str) -> bool:
        if self.mode == "regex":
            try:
                return self.pattern.search(text[:REGEX_INPUT], timeout=REGEX_TIMEOUT_S) is not None
            except TimeoutError:
                return False
        folded, wanted = fold(text), fold(self.match)
        if self.mode == "exact":
            return folded == wanted
        return bool(wanted) and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", folded) is not None


@dataclass(frozen=True, slots=True)
class MenuItem:
    key: str
    title: Text
    reply: Text | None = None
    action: str | None = None
    menu: Menu | None = None
    keywords: tuple[str, ...] = ()

    def chosen_by(self, folded: str) -> bool:
        if folded == fold(self.key):
            return True
        return any(re.search(rf"(?<!\w){re.escape(fold(k))}(?!\w)", folded) for k in self.keywords if fold(k))


@dataclass(frozen=True, slots=True)
class Menu:
    text: Text
    items: tuple[MenuItem, ...]

    def render(self, language: str, *, nested: bool) -> str:
        lines = [localized(self.text, language)] if localized(self.text, language) else []
        lines += [f"{item.key}. {localized(item.title, language)}" for item in self.items]
        if nested:
            lines.append(say("menu_hint_back", language))
        return "\n".join(lines)

    def at(self, path: tuple[str, ...]) -> Menu:
        """The sub-menu a path of keys leads to (the deepest still valid level)."""
        level = self
        for key in path:
            item = next((i for i in level.items if i.key == key and i.menu is not None), None)
            if item is None or item.menu is None:
                return level
            level = item.menu
        return level


@dataclass(frozen=True, slots=True)
class Override:
    """One channel's own hours, away message or greeting (``None``: the tenant's)."""

    enabled: bool | None = None
    working_hours: WorkingHours | None = None
    away_message: Text | None = None
    greeting: Text | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    enabled: bool = True
    language: str = "en"
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    away_message: Text = ""
    greeting: Text | None = None
    menu: Menu | None = None
    keywords: tuple[Keyword, ...] = ()
    channels: Mapping[str, Override] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.enabled and (
            bool(self.away_message) or bool(self.greeting) or self.menu is not None or bool(self.keywords)
        )

    def for_channel(self, name: str) -> Settings:
        """The settings as one channel sees them (its override applied)."""
        override = self.channels.get(name)
        if override is None:
            return self
        return replace(
            self,
            enabled=self.enabled if override.enabled is None else override.enabled,
            working_hours=override.working_hours or self.working_hours,
            away_message=self.away_message if override.away_message is None else override.away_message,
            greeting=self.greeting if override.greeting is None else override.greeting,
            channels={},
        )


def _text(value: object, field: str, *, required: bool = True) -> Text:
    if isinstance(value, str):
        if required and not value.strip():
            raise ValidationError("must not be empty", field=field)
        if len(value) > MAX_TEXT:
            raise ValidationError(f"at most {MAX_TEXT} characters", field=field)
        return value
    if isinstance(value, Mapping) and value:
        for language, text in value.items():
            if language not in LANGUAGES:
                raise ValidationError(f"languages are {', '.join(LANGUAGES)}", field=f"{field}.{language}")
            _text(text, f"{field}.{language}")
        return {str(k): str(v) for k, v in value.items()}
    raise ValidationError('a text, or {"ru": "…", "en": "…"}', field=field)


def _menu(body: object, field: str, depth: int) -> Menu:
    if not isinstance(body, Mapping):
        raise ValidationError('menu is an object {"text", "items"} or null', field=field)
    _only(body, {"text", "items"}, field)
    text = _text(body.get("text", ""), f"{field}.text", required=False)
    items_body = body.get("items")
    if not isinstance(items_body, list) or not items_body or len(items_body) > MAX_ITEMS:
        raise ValidationError(f"items is a list of 1 to {MAX_ITEMS} items", field=f"{field}.items")
    items: list[MenuItem] = []
    for index, item in enumerate(items_body):
        where = f"{field}.items[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError("an item is an object", field=where)
        _only(item, {"key", "title", "reply", "action", "menu", "keywords"}, where)
        key = item.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[1-9]\d?|[A-Za-zА-Яа-я]", key):
            raise ValidationError("key is a number 1–99 or a single letter", field=f"{where}.key")
        if any(i.key == key for i in items):
            raise ValidationError(f"key {key!r} is used twice", field=f"{where}.key")
        title = _text(item.get("title"), f"{where}.title")
        given = [name for name in ("reply", "action", "menu") if item.get(name) is not None]
        if len(given) != 1:
            raise ValidationError("an item has exactly one of reply, action, menu", field=where)
        action = item.get("action")
        if action is not None and action not in ACTIONS:
            raise ValidationError(f"action is one of {', '.join(ACTIONS)}", field=f"{where}.action")
        sub = None
        if item.get("menu") is not None:
            if depth >= MAX_DEPTH:
                raise ValidationError(f"menus nest at most {MAX_DEPTH} deep", field=f"{where}.menu")
            sub = _menu(item["menu"], f"{where}.menu", depth + 1)
        keywords = item.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(k, str) and 0 < len(k) <= 100 for k in keywords):
            raise ValidationError("keywords is a list of words", field=f"{where}.keywords")
        reply = _text(item["reply"], f"{where}.reply") if item.get("reply") is not None else None
        items.append(MenuItem(key, title, reply, action, sub, tuple(keywords)))
    return Menu(text, tuple(items))


def _keywords(body: object, field: str) -> tuple[Keyword, ...]:
    if body is None:
        return ()
    if not isinstance(body, list) or len(body) > MAX_KEYWORDS:
        raise ValidationError(f"keywords is a list of at most {MAX_KEYWORDS}", field=field)
    out: list[Keyword] = []
    for index, entry in enumerate(body):
        where = f"{field}[{index}]"
        if not isinstance(entry, Mapping):
            raise ValidationError("a keyword is an object {match, mode, reply}", field=where)
        _only(entry, {"match", "mode", "reply"}, where)
        match, mode = entry.get("match"), entry.get("mode", "word")
        if mode not in MODES:
            raise ValidationError(f"mode is one of {', '.join(MODES)}", field=f"{where}.mode")
        if not isinstance(match, str) or not match.strip() or len(match) > MAX_PATTERN:
            raise ValidationError(f"match is 1 to {MAX_PATTERN} characters", field=f"{where}.match")
        pattern = None
        if mode == "regex":
            try:
                pattern = regex.compile(match, regex.IGNORECASE | regex.V0)
            except regex.error as exc:
                raise ValidationError(f"not a regular expression: {exc}", field=f"{where}.match") from exc
        out.append(Keyword(match, str(mode), _text(entry.get("reply"), f"{where}.reply"), pattern))
    return tuple(out)


def _only(body: Mapping[str, Any], allowed: set[str], field: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=f"{field}.{unknown[0]}" if field else unknown[0])


def parse_settings(body: object, default_timezone: str = "UTC") -> Settings:
    """Validate the whole ``PUT /v1/automations`` body; the error names the field at fault."""
    if not isinstance(body, Mapping):
        raise ValidationError("the body is a JSON object", field="body")
    _only(
        body,
        {"enabled", "language", "working_hours", "away_message", "greeting", "menu", "keywords", "channels"},
        "",
    )
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError("enabled is true or false", field="enabled")
    language = body.get("language", "en")
    if language not in LANGUAGES:
        raise ValidationError(f"language is one of {', '.join(LANGUAGES)}", field="language")
    hours_body = body.get("working_hours")
    hours = WorkingHours.parse(hours_body) if hours_body is not None else WorkingHours(timezone=default_timezone)
    away = body.get("away_message")
    greeting = body.get("greeting")
    channels_body = body.get("channels") or {}
    if not isinstance(channels_body, Mapping):
        raise ValidationError("channels maps a channel name to its overrides", field="channels")
    channels: dict[str, Override] = {}
    for name, override in channels_body.items():
        where = f"channels.{name}"
        if not isinstance(override, Mapping):
            raise ValidationError("an override is an object", field=where)
        _only(override, {"enabled", "working_hours", "away_message", "greeting"}, where)
        if "enabled" in override and not isinstance(override["enabled"], bool):
            raise ValidationError("enabled is true or false", field=f"{where}.enabled")
        channels[str(name)] = Override(
            enabled=override.get("enabled"),
            working_hours=WorkingHours.parse(override["working_hours"], f"{where}.working_hours")
            if override.get("working_hours") is not None
            else None,
            away_message=_text(override["away_message"], f"{where}.away_message", required=False)
            if override.get("away_message") is not None
            else None,
            greeting=_text(override["greeting"], f"{where}.greeting", required=False)
            if override.get("greeting") is not None
            else None,
        )
    return Settings(
        enabled=enabled,
        language=str(language),
        working_hours=hours,
        away_message=_text(away, "away_message", required=False) if away is not None else "",
        greeting=_text(greeting, "greeting") if greeting is not None else None,
        menu=_menu(body["menu"], "menu", 1) if body.get("menu") is not None else None,
        keywords=_keywords(body.get("keywords"), "keywords"),
        channels=channels,
    )


# ---------------------------------------------------------------- a conversation with the bot


@dataclass(frozen=True, slots=True)
class BotState:
    """What the bot remembers of one conversation (stored per conversation by the service)."""

    #: ``bot`` answers; ``human``: handed to a person (by the client, or an operator answered).
    mode: str = "bot"
    #: ``idle``, ``menu`` (the menu was shown), ``callback`` (asked when to call), ``clarify`` (asked again).
    step: str = "idle"
    path: tuple[str, ...] = ()
    language: str | None = None
    #: The closed period an away message was sent for: the moment the team is back, or "never".
    away_for: str | None = None
    last_at: datetime | None = None
    callback_phone: str | None = None
    callback_text: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "step": self.step,
            "path": list(self.path),
            "language": self.language,
            "away_for": self.away_for,
            "callback_phone": self.callback_phone,
            "callback_text": self.callback_text,
        }

    @classmethod
    def of(cls, data: Mapping[str, Any], last_at: datetime | None) -> BotState:
        return cls(
            mode=str(data.get("mode", "bot")),
            step=str(data.get("step", "idle")),
            path=tuple(str(k) for k in data.get("path") or ()),
            language=data.get("language"),
            away_for=data.get("away_for"),
            last_at=last_at,
            callback_phone=data.get("callback_phone"),
            callback_text=data.get("callback_text"),
        )


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    phone: str
    #: The earliest moment asked for (aware, tenant's zone); ``None`` when the client's words stayed unclear.
    at: datetime | None
    #: The client's own words, kept for the person who calls.
    text: str
    #: "now", "as soon as possible": ``at`` is the moment they asked.
    asap: bool = False


@dataclass(frozen=True, slots=True)
class Reaction:
    replies: tuple[str, ...]
    state: BotState
    handoff: bool = False
    callback: CallbackRequest | None = None
    #: Why the bot answered as it did (shown by the dry run).
    rules: tuple[str, ...] = ()


@dataclass(slots=True)
class _Turn:
    settings: Settings
    state: BotState
    language: str
    now: datetime
    phone: str
    region: str
    replies: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def reply(self, text: str, rule: str) -> None:
        if text.strip():
            self.replies.append(text)
            self.rules.append(rule)

    def done(self, *, handoff: bool = False, callback: CallbackRequest | None = None) -> Reaction:
        return Reaction(tuple(self.replies), self.state, handoff, callback, tuple(self.rules))

    def back_at(self) -> datetime | None:
        hours = self.settings.working_hours
        if hours.always_open or hours.is_open(self.now):
            return None
        return hours.next_open(self.now)


def away_text(message: Text, language: str, back: datetime | None, now: datetime) -> str:
    """The away message with when the team is back: in its ``{back}`` placeholder, or as a sentence added."""
    text = localized(message, language)
    if back is None:
        return text.replace("{back}", "").strip()
    when = format_when(back, now, language)
    if "{back}" in text:
        return text.replace("{back}", when)
    return f"{text.rstrip()}\n{say('back_at', language, back=when)}"


def react(
    settings: Settings,
    state: BotState | None,
    text: str | None,
    *,
    phone: str,
    now: datetime,
    region: str = "RU",
) -> Reaction:
    """What the bot answers one client message (``text`` is ``None`` for media and the like)."""
    new = state is None or state.last_at is None or now - state.last_at > SESSION_GAP
    current = state or BotState()
    if new:
        current = BotState(away_for=current.away_for)
    language = detect_language(text) or current.language or settings.language
    turn = _Turn(settings, replace(current, language=language, last_at=now), language, now, phone, region)
    hours = settings.working_hours
    if not hours.always_open and not hours.is_open(now):
        back = hours.next_open(now)
        period = back.isoformat() if back else "never"
        if turn.state.away_for != period and localized(settings.away_message, language):
            turn.reply(away_text(settings.away_message, language, back, now), "away_message")
            turn.state = replace(turn.state, away_for=period)
    elif new and settings.greeting is not None:
        turn.reply(localized(settings.greeting, language), "greeting")
    if turn.state.mode == "human":
        turn.rules.append("handed_off")
        return turn.done()
    if text is None or not text.strip():
        if new and settings.menu is not None:
            _show_menu(turn, ())
        return turn.done()
    folded = fold(text)
    if len(folded.split()) <= 6 and _PERSON.search(folded):
        return _handoff(turn)
    if turn.state.step in ("callback", "clarify") and folded not in _BACK | _TOP:
        return _callback_answer(turn, text)
    menu = settings.menu
    if menu is not None:
        if folded in _TOP or (folded in _BACK and len(turn.state.path) <= 1):
            _show_menu(turn, ())
            return turn.done()
        if folded in _BACK:
            _show_menu(turn, turn.state.path[:-1])
            return turn.done()
        level = menu.at(turn.state.path)
        item = next((i for i in level.items if i.chosen_by(folded)), None)
        if item is not None:
            return _choose(turn, item)
    for keyword in settings.keywords:
        if keyword.matches(text):
            turn.reply(localized(keyword.reply, language), f"keyword:{keyword.match}")
            return turn.done()
    if menu is not None:
        if not new and turn.state.step == "menu":
            turn.reply(say("not_understood", language), "not_understood")
        _show_menu(turn, turn.state.path if not new else ())
    return turn.done()


def _show_menu(turn: _Turn, path: tuple[str, ...]) -> None:
    assert turn.settings.menu is not None
    level = turn.settings.menu.at(path)
    turn.reply(level.render(turn.language, nested=bool(path)), "menu")
    turn.state = replace(turn.state, step="menu", path=path)


def _choose(turn: _Turn, item: MenuItem) -> Reaction:
    rule = f"menu:{'/'.join((*turn.state.path, item.key))}"
    if item.menu is not None:
        _show_menu(turn, (*turn.state.path, item.key))
        turn.rules[-1] = rule
        return turn.done()
    if item.action == "handoff":
        return _handoff(turn)
    if item.action == "callback":
        turn.reply(say("callback_ask", turn.language, phone=turn.phone), rule)
        turn.state = replace(turn.state, step="callback", callback_phone=None, callback_text=None)
        return turn.done()
    turn.reply(localized(item.reply, turn.language), rule)
    return turn.done()


def _handoff(turn: _Turn) -> Reaction:
    back = turn.back_at()
    if back is None:
        turn.reply(say("handoff", turn.language), "handoff")
    else:
        turn.reply(say("handoff_closed", turn.language, back=format_when(back, turn.now, turn.language)), "handoff")
    turn.state = replace(turn.state, mode="human", step="idle", path=())
    return turn.done(handoff=True)


def split_phone(text: str, region: str) -> tuple[str | None, str]:
    """A phone number written inside an answer ("+7 900 123-45-67 завтра в 10"), and the rest of the text."""
    match = _PHONE_IN_TEXT.search(text)
    if match is None:
        return None, text
    try:
        phone = normalize_phone(match.group(0), region, "phone")
    except ValidationError:
        return None, text
    return phone, (text[: match.start()] + " " + text[match.end() :]).strip()


def _callback_answer(turn: _Turn, text: str) -> Reaction:
    phone, rest = split_phone(text, turn.region)
    phone = phone or turn.state.callback_phone or turn.phone
    words = " / ".join(t for t in (turn.state.callback_text, text.strip()) if t)
    zone = turn.settings.working_hours.zone
    parsed = parse_callback_time(rest, turn.now, zone) if rest.strip() else None
    if parsed is None and turn.state.step == "callback":
        turn.reply(say("callback_clarify", turn.language), "callback:clarify")
        turn.state = replace(turn.state, step="clarify", callback_phone=phone, callback_text=words)
        return turn.done()
    if parsed is None:
        turn.reply(say("callback_unclear", turn.language, phone=phone), "callback:recorded")
    elif parsed.asap:
        turn.reply(say("callback_asap", turn.language, phone=phone), "callback:recorded")
    else:
        when = format_when(parsed.at, turn.now, turn.language)
        turn.reply(say("callback_done", turn.language, phone=phone, when=when), "callback:recorded")
    turn.state = replace(turn.state, step="idle", callback_phone=None, callback_text=None)
    return turn.done(
        callback=CallbackRequest(phone, parsed.at if parsed else None, words, bool(parsed and parsed.asap))
    )
