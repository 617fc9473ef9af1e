"""Black box, through the sandbox: a client writes at night and gets the away message, chooses
"2", leaves a time, and the CRM's webhook receives ``callback.requested`` (signed, verified).

Everything real but the clock's position: the tenant's zone is chosen so that it is night
there now (a fixed-offset zone), so the real clock, the dispatcher, the simulator and the
webhook sender all run as in production.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.channels.cloud.live import Live, live_gateway, sandbox_plugins
from tests.conftest import free_port, make_settings
from tests.webhooks.receiver import Receiver
from wagate.dashboard.automations import automations_plugin
from wagate.dashboard.plugin import dashboard_plugin
from wagate.webhooks.plugin import webhooks_plugin

CLIENT = "79001234567"


def night_zone(now: datetime) -> str:
    """A fixed-offset zone where it is between 01:00 and 03:00 now (``Etc/GMT-3`` is UTC+3)."""
    offset = 2 - now.hour
    if offset < -12:
        offset += 24
    return "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}" if offset < 0 else "")


async def bot_replies(live: Live, count: int, timeout: float = 15.0) -> list[str]:
    """The bot's messages to the client, once at least ``count`` of them were sent to the simulator."""
    deadline = time.monotonic() + timeout
    while True:
        response = await live.client.get("/v1/messages", params={"phone": CLIENT, "direction": "out", "limit": 50})
        rows = [m for m in reversed(response.json()["data"]) if m["origin"] == "automation"]
        if len(rows) >= count and all(m["status"] in ("sent", "delivered", "read") for m in rows):
            return [m["text"] for m in rows]
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} bot replies, have {rows}")
        await asyncio.sleep(0.05)


async def inject(live: Live, text: str) -> None:
    response = await live.client.post("/sandbox/inject", json={"from": CLIENT, "text": text})
    assert response.status_code < 300, response.text


async def test_night_message_then_callback_request_reaches_the_crm(sqlite_url: str, tmp_path: Path) -> None:
    zone = night_zone(datetime.now(UTC))
    settings = make_settings(sqlite_url, tmp_path, sandbox=True, port=free_port())
    plugins = [*sandbox_plugins(), dashboard_plugin, automations_plugin, webhooks_plugin]
    receiver = await Receiver().start()
    try:
        async with live_gateway(settings, plugins=plugins) as live:
            created = await live.client.post(
                "/v1/webhooks", json={"url": receiver.url, "events": ["callback.requested"]}
            )
            assert created.status_code == 201, created.text
            receiver.secret = created.json()["secret"]
            automations: dict[str, Any] = {
                "working_hours": {
                    "timezone": zone,
                    "week": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                },
                "away_message": "Мы сейчас не работаем.",
                "menu": {
                    "text": "Чем помочь?",
                    "items": [
                        {"key": "1", "title": "Цены", "reply": "От 300 ₽"},
                        {"key": "2", "title": "Перезвоните мне", "action": "callback"},
                    ],
                },
            }
            assert (await live.client.put("/v1/automations", json=automations)).status_code == 200
            # The channel's one-message-per-6-s-per-recipient pacing holds for the bot too; off here for speed.
            relaxed = await live.client.patch("/v1/channels/sandbox", json={"pacing": {"recipient_interval_s": 0}})
            assert relaxed.status_code == 200, relaxed.text

            await inject(live, "Добрый вечер")
            [first] = await bot_replies(live, 1)
            assert first == (
                "Мы сейчас не работаем.\nМы снова на связи сегодня в 09:00.\n\nЧем помочь?\n1. Цены\n2. Перезвоните мне"
            )

            await inject(live, "2")
            ask = (await bot_replies(live, 2))[-1]
            assert "+79001234567" in ask

            await inject(live, "завтра после 15")
            confirm = (await bot_replies(live, 3))[-1]
            assert confirm == "Спасибо! Позвоним на +79001234567 завтра в 15:00."

            for _ in range(300):
                if receiver.delivered():
                    break
                await asyncio.sleep(0.05)
            [hook] = receiver.delivered()
            assert hook.verified
            assert hook.json["type"] == "callback.requested"
            data = hook.json["data"]
            assert data["phone"] == CLIENT and data["text"] == "завтра после 15"
            assert data["when"].endswith(":00") and "T15:00:00" in data["when"]
            conversations = (await live.client.get("/v1/conversations", params={"phone": CLIENT})).json()["data"]
            assert data["conversation_id"] == conversations[0]["id"]
    finally:
        await receiver.stop()
