"""A desk (dashboard plug-in, FakeClock, memory channel ``main``) with the automations plug-in, on both dialects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.dashboard.conftest import Desk, open_desk
from wagate.api.v1.recurring import recurring_plugin
from wagate.dashboard.automations import automations_plugin
from wagate.dispatch.campaigns import campaigns_plugin
from wagate.webhooks.plugin import webhooks_plugin

MSK = ZoneInfo("Europe/Moscow")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
SETTINGS: dict[str, Any] = {
    "working_hours": {
        "timezone": "Europe/Moscow",
        "week": {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in WEEKDAYS},
        "holidays": ["2027-01-01"],
    },
    "away_message": "Мы сейчас не работаем.",
    "greeting": "Здравствуйте!",
    "menu": {
        "text": "Чем помочь?",
        "items": [
            {"key": "1", "title": "Часы работы", "reply": "Пн–пт 9–18"},
            {"key": "2", "title": "Перезвоните мне", "action": "callback"},
            {"key": "3", "title": "Оператор", "action": "handoff"},
        ],
    },
    "keywords": [{"match": "адрес", "mode": "word", "reply": "Москва, Тверская 1"}],
}


def moscow(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MSK)


@pytest.fixture
async def bot_desk(db_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(db_url, tmp_path, plugins=[automations_plugin, webhooks_plugin]) as desk:
        response = await desk.client.put("/v1/automations", json=SETTINGS)
        assert response.status_code == 200, response.text
        yield desk


async def events_of(desk: Desk, type_: str) -> list[dict[str, Any]]:
    """The events feed once the fan-out has moved its horizon past everything committed."""
    await desk.rt.extras["webhooks"].fanout.drain()
    response = await desk.client.get("/v1/events", params={"types": type_, "limit": 1000})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


@pytest.fixture
async def bot_desk_sqlite(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    """The same on SQLite only: for rules that no SQL dialect changes (validation, dry run, roles)."""
    plugins = [
        automations_plugin,
        webhooks_plugin,
        campaigns_plugin(background=False),
        recurring_plugin(background=False),
    ]
    async with open_desk(sqlite_url, tmp_path, plugins=plugins) as desk:
        response = await desk.client.put("/v1/automations", json=SETTINGS)
        assert response.status_code == 200, response.text
        yield desk
