"""The bot's rules, one client message at a time, with a fixed clock: no database, no network."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wagate.domain.automations import BotState, Reaction, Settings, parse_settings, react
from wagate.errors import ValidationError

MSK = ZoneInfo("Europe/Moscow")
PHONE = "79001234567"
BODY: dict[str, Any] = {
    "working_hours": {
        "timezone": "Europe/Moscow",
        "week": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2027-01-15"],
    },
    "away_message": {"ru": "Сейчас мы не работаем.", "en": "We are closed now."},
    "greeting": {"ru": "Здравствуйте!", "en": "Hello!"},
    "menu": {
        "text": {"ru": "Выберите:", "en": "Choose:"},
        "items": [
            {
                "key": "1",
                "title": {"ru": "Цены", "en": "Prices"},
                "menu": {
                    "text": {"ru": "Какие цены?", "en": "Which prices?"},
                    "items": [
                        {"key": "1", "title": {"ru": "Доставка", "en": "Delivery"}, "reply": "300 ₽"},
                        {"key": "2", "title": {"ru": "Сборка", "en": "Assembly"}, "reply": "500 ₽"},
                    ],
                },
            },
            {"key": "2", "title": {"ru": "Перезвоните мне", "en": "Call me back"}, "action": "callback"},
            {"key": "3", "title": {"ru": "Оператор", "en": "A person"}, "action": "handoff"},
            {"key": "4", "title": "Адрес", "reply": "Москва, Тверская 1", "keywords": ["адрес", "address"]},
        ],
    },
    "keywords": [
        {"match": "часы работы", "mode": "word", "reply": "9–18 по будням"},
        {"match": "спасибо", "mode": "exact", "reply": "Пожалуйста!"},
        {"match": r"заказ\s*№?\s*\d+", "mode": "regex", "reply": "Проверяем заказ"},
    ],
}
SETTINGS = parse_settings(BODY)
#: Wednesday 13 January 2027.
DAY = datetime(2027, 1, 13, 11, 0, tzinfo=MSK)
NIGHT = datetime(2027, 1, 13, 23, 30, tzinfo=MSK)


class Chat:
    """One client talking to the bot: the state carried from message to message, as the service does."""

    def __init__(self, settings: Settings = SETTINGS, now: datetime = DAY) -> None:
        self.settings, self.now, self.state = settings, now, None
        self.reactions: list[Reaction] = []

    def say(self, text: str | None, after: timedelta = timedelta(minutes=1)) -> Reaction:
        if self.reactions:
            self.now += after
        reaction = react(self.settings, self.state, text, phone=PHONE, now=self.now)
        self.state = reaction.state  # type: ignore[assignment]
        self.reactions.append(reaction)
        return reaction


def test_a_new_conversation_in_hours_gets_the_greeting_and_the_menu() -> None:
    reaction = Chat().say("Здравствуйте, подскажите")
    assert reaction.replies[0] == "Здравствуйте!"
    assert reaction.replies[1].startswith("Выберите:\n1. Цены\n2. Перезвоните мне")
    assert reaction.rules == ("greeting", "menu")


def test_the_menu_speaks_the_clients_language() -> None:
    reaction = Chat().say("Hi there")
    assert reaction.replies == ("Hello!", "Choose:\n1. Prices\n2. Call me back\n3. A person\n4. Адрес")


def test_at_night_the_away_message_says_when_the_team_is_back() -> None:
    reaction = Chat(now=NIGHT).say("Добрый вечер")
    assert reaction.replies[0] == "Сейчас мы не работаем.\nМы снова на связи завтра в 09:00."
    assert "greeting" not in reaction.rules


def test_the_away_message_goes_once_per_closed_period() -> None:
    chat = Chat(now=NIGHT)
    chat.say("Добрый вечер")
    assert "away_message" not in chat.say("алло", after=timedelta(minutes=40)).rules  # after midnight, same night
    # Thursday 18:30: a new closed period (the team is back on Monday: Friday is a holiday).
    evening = chat.say("снова я", after=timedelta(hours=19))
    assert evening.replies[0].endswith("Мы снова на связи пн 18.01 в 09:00.")


def test_the_away_message_placeholder() -> None:
    settings = parse_settings({**BODY, "away_message": "Closed. Back {back}, see you!"})
    assert Chat(settings, NIGHT).say("hello").replies[0] == "Closed. Back tomorrow at 09:00, see you!"


def test_sub_menu_and_back() -> None:
    chat = Chat()
    chat.say("привет")
    assert chat.say("1").replies == ("Какие цены?\n1. Доставка\n2. Сборка\n0. Назад",)
    assert chat.say("2").replies == ("500 ₽",)
    assert chat.say("0").replies[0].startswith("Выберите:")
    assert chat.say("4").replies == ("Москва, Тверская 1",)


def test_an_item_keyword_chooses_it() -> None:
    chat = Chat()
    chat.say("hello")
    assert chat.say("what is your address?").replies == ("Москва, Тверская 1",)


def test_keyword_replies_exact_word_regex() -> None:
    chat = Chat()
    chat.say("привет")
    assert chat.say("Какие у вас часы работы?").replies == ("9–18 по будням",)
    assert chat.say("Спасибо!").replies == ("Пожалуйста!",)
    assert chat.say("спасибо, а ещё вопрос").rules[-1] == "menu"  # exact means the whole message
    assert chat.say("где мой заказ № 1234").replies == ("Проверяем заказ",)


def test_an_unmatched_question_gets_the_menu_again() -> None:
    chat = Chat()
    chat.say("привет")
    reaction = chat.say("а у вас есть синие диваны")
    assert reaction.rules == ("not_understood", "menu")


def test_asking_for_a_person_hands_off_and_the_bot_stops() -> None:
    chat = Chat()
    chat.say("привет")
    reaction = chat.say("позовите оператора")
    assert reaction.handoff and reaction.state.mode == "human"
    assert reaction.replies == ("Передаю ваш вопрос сотруднику, он ответит здесь.",)
    assert chat.say("1").replies == ()


def test_handoff_at_night_says_when_a_person_answers() -> None:
    chat = Chat(now=NIGHT)
    chat.say("hello")
    assert chat.say("3").replies == ("A colleague will answer you here tomorrow at 09:00.",)


def test_a_new_session_after_silence_starts_over_in_bot_mode() -> None:
    chat = Chat()
    chat.say("привет")
    chat.say("оператор")
    assert chat.say("снова здравствуйте", after=timedelta(hours=22)).rules == ("greeting", "menu")


def test_callback_request_with_the_writers_number() -> None:
    chat = Chat(now=NIGHT)
    chat.say("Добрый вечер")
    ask = chat.say("2")
    assert "+79001234567" in ask.replies[0] and ask.state.step == "callback"
    done = chat.say("завтра после 15")
    assert done.callback is not None
    assert (done.callback.phone, done.callback.at, done.callback.text) == (
        PHONE,
        datetime(2027, 1, 14, 15, 0, tzinfo=MSK),
        "завтра после 15",
    )
    assert done.replies == ("Спасибо! Позвоним на +79001234567 завтра в 15:00.",)
    assert done.state.step == "idle"


def test_callback_with_another_number_in_the_answer() -> None:
    chat = Chat()
    chat.say("hello")
    chat.say("2")
    done = chat.say("+7 (916) 555-44-33 today 5pm")
    assert done.callback is not None and done.callback.phone == "79165554433"
    assert done.callback.at == datetime(2027, 1, 13, 17, 0, tzinfo=MSK)


def test_an_unclear_time_gets_one_clarifying_question() -> None:
    chat = Chat()
    chat.say("привет")
    chat.say("2")
    clarify = chat.say("ну как-нибудь потом")
    assert clarify.callback is None and clarify.rules == ("callback:clarify",)
    done = chat.say("в понедельник утром")
    assert done.callback is not None and done.callback.at == datetime(2027, 1, 18, 10, 0, tzinfo=MSK)
    assert done.callback.text == "ну как-нибудь потом / в понедельник утром"


def test_a_second_unclear_answer_is_recorded_for_a_person() -> None:
    chat = Chat()
    chat.say("hello")
    chat.say("2")
    chat.say("whenever")
    done = chat.say("dunno")
    assert done.callback is not None and done.callback.at is None
    assert done.replies == ("Thank you! A colleague will call +79001234567 to agree on a time.",)


def test_now_is_as_soon_as_possible() -> None:
    chat = Chat()
    chat.say("hello")
    chat.say("2")
    done = chat.say("now")
    assert done.callback is not None and done.callback.asap and done.callback.at == chat.now


def test_a_pathological_regex_times_out_instead_of_hanging() -> None:
    settings = parse_settings({"keywords": [{"match": "(a+)+$", "mode": "regex", "reply": "x"}]})
    started = time.monotonic()
    reaction = react(settings, None, "a" * 40 + "!", phone=PHONE, now=DAY)
    assert reaction.replies == () and time.monotonic() - started < 1.0


def test_a_channel_override_has_its_own_hours() -> None:
    body = {**BODY, "channels": {"night": {"working_hours": {"timezone": "Europe/Moscow", "week": {}}}}}
    settings = parse_settings(body).for_channel("night")
    assert settings.working_hours.always_open
    assert "away_message" not in react(settings, None, "hi", phone=PHONE, now=NIGHT).rules


def test_state_round_trips_through_json() -> None:
    chat = Chat()
    chat.say("привет")
    chat.say("1")
    assert chat.state is not None
    stored: BotState = chat.state
    assert BotState.of(stored.as_json(), stored.last_at) == stored


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"menu": {"items": [{"key": "1", "title": "x"}]}}, "menu.items[0]"),
        ({"menu": {"items": [{"key": "1", "title": "x", "action": "dance"}]}}, "menu.items[0].action"),
        ({"menu": {"items": [{"key": "1", "title": "", "reply": "x"}]}}, "menu.items[0].title"),
        (
            {"menu": {"items": [{"key": "1", "title": "a", "reply": "x"}, {"key": "1", "title": "b", "reply": "y"}]}},
            "menu.items[1].key",
        ),
        ({"keywords": [{"match": "(", "mode": "regex", "reply": "x"}]}, "keywords[0].match"),
        ({"keywords": [{"match": "x", "mode": "fuzzy", "reply": "x"}]}, "keywords[0].mode"),
        ({"keywords": [{"match": "x" * 300, "mode": "word", "reply": "x"}]}, "keywords[0].match"),
        ({"greeting": {"de": "Hallo"}}, "greeting.de"),
        ({"language": "de"}, "language"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_validation_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_settings({**BODY, **change})
    assert caught.value.field == field
