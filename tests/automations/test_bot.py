"""The bot inside a gateway, on both databases: replies stored with ``origin: "automation"``,
callback requests with their event, hand-off, hand-back, analytics, the opt-out keyword's priority."""

from __future__ import annotations

from typing import Any

from tests.automations.conftest import SETTINGS, events_of, moscow
from tests.dashboard.conftest import Desk
from wagate.store.repos import tenants as tenant_repo

PHONE = "79001234567"


async def bot_texts(desk: Desk, phone: str = PHONE) -> list[str]:
    response = await desk.client.get("/v1/messages", params={"phone": phone, "direction": "out", "limit": 100})
    rows = [m for m in reversed(response.json()["data"]) if m["origin"] == "automation"]
    return [m["text"] for m in rows]


async def conversation(desk: Desk, phone: str = PHONE) -> dict[str, Any]:
    listing = (await desk.client.get("/v1/conversations", params={"phone": phone})).json()["data"]
    assert len(listing) == 1
    return dict((await desk.client.get(f"/v1/conversations/{listing[0]['id']}")).json())


async def test_settings_round_trip(bot_desk_sqlite: Desk) -> None:
    body = (await bot_desk_sqlite.client.get("/v1/automations")).json()
    assert body["working_hours"] == SETTINGS["working_hours"]
    assert body["menu"] == SETTINGS["menu"]
    assert body["keywords"] == SETTINGS["keywords"]
    assert (body["away_message"], body["greeting"]) == (SETTINGS["away_message"], SETTINGS["greeting"])


async def test_an_invalid_body_is_refused_naming_the_field(bot_desk_sqlite: Desk) -> None:
    bad = {**SETTINGS, "keywords": [{"match": "([", "mode": "regex", "reply": "x"}]}
    response = await bot_desk_sqlite.client.put("/v1/automations", json=bad)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "keywords[0].match"
    assert (await bot_desk_sqlite.client.get("/v1/automations")).json()["keywords"] == SETTINGS["keywords"]


async def test_at_night_away_message_then_a_callback_request(bot_desk: Desk) -> None:
    bot_desk.clock.set(moscow("2027-01-13 23:10"))  # a Wednesday night
    await bot_desk.inbound(PHONE, "Добрый вечер, нужна консультация")
    [answer] = await bot_texts(bot_desk)
    assert answer.startswith("Мы сейчас не работаем.\nМы снова на связи завтра в 09:00.\n\nЧем помочь?\n1. Часы работы")

    bot_desk.clock.advance(60)
    await bot_desk.inbound(PHONE, "2")
    assert "+79001234567" in (await bot_texts(bot_desk))[-1]
    bot_desk.clock.advance(60)
    await bot_desk.inbound(PHONE, "завтра после 15")
    assert (await bot_texts(bot_desk))[-1] == "Спасибо! Позвоним на +79001234567 завтра в 15:00."

    events = await events_of(bot_desk, "callback.requested")
    assert len(events) == 1
    data = events[0]["data"]
    convo = await conversation(bot_desk)
    assert {k: data[k] for k in ("phone", "when", "conversation_id", "text")} == {
        "phone": PHONE,
        "when": "2027-01-14T15:00:00+03:00",
        "conversation_id": convo["id"],
        "text": "завтра после 15",
    }
    callbacks = (await bot_desk.client.get("/v1/callbacks")).json()["data"]
    assert [(c["phone"], c["status"], c["when"]) for c in callbacks] == [(PHONE, "open", "2027-01-14T12:00:00+00:00")]
    assert any("Callback requested" in n["text"] for n in convo["notes"])

    taken = await bot_desk.client.post(f"/v1/callbacks/{callbacks[0]['id']}", json={"status": "taken", "by": "anna"})
    assert (taken.json()["status"], taken.json()["taken_by"]) == ("taken", "anna")


async def test_the_away_message_goes_once_per_night(bot_desk: Desk) -> None:
    bot_desk.clock.set(moscow("2027-01-13 22:00"))
    await bot_desk.inbound(PHONE, "привет")
    bot_desk.clock.set(moscow("2027-01-14 01:00"))  # after midnight: the same closed period
    await bot_desk.inbound(PHONE, "адрес")
    texts = await bot_texts(bot_desk)
    assert sum("Мы сейчас не работаем" in t for t in texts) == 1
    assert texts[-1] == "Москва, Тверская 1"


async def test_an_operator_reply_stops_the_bot_and_hand_back_restarts_it(bot_desk: Desk) -> None:
    bot_desk.clock.set(moscow("2027-01-13 10:00"))
    await bot_desk.inbound(PHONE, "привет")
    assert len(await bot_texts(bot_desk)) == 1  # the greeting and the menu, in one message
    await bot_desk.api_reply(PHONE, "Добрый день, это Анна", operator="anna")
    bot_desk.clock.advance(60)
    await bot_desk.inbound(PHONE, "1")
    assert len(await bot_texts(bot_desk)) == 1

    convo = await conversation(bot_desk)
    response = await bot_desk.client.post(f"/v1/conversations/{convo['id']}/bot", json={"active": True})
    assert response.status_code == 200, response.text
    bot_desk.clock.advance(60)
    await bot_desk.inbound(PHONE, "1")
    assert (await bot_texts(bot_desk))[-1] == "Пн–пт 9–18"


async def test_handoff_puts_the_conversation_in_the_waiting_queue_with_the_transcript(bot_desk: Desk) -> None:
    bot_desk.clock.set(moscow("2027-01-13 10:00"))
    await bot_desk.inbound(PHONE, "привет")
    bot_desk.clock.advance(30)
    await bot_desk.inbound(PHONE, "3")
    convo = await conversation(bot_desk)
    assert convo["state"] == "waiting"
    note = next(n["text"] for n in convo["notes"] if n["text"].startswith("Handed to a person"))
    assert "client: привет" in note and "bot: Здравствуйте!" in note
    bot_desk.clock.advance(30)
    await bot_desk.inbound(PHONE, "1")
    assert (await bot_texts(bot_desk))[-1].startswith("Передаю ваш вопрос")


async def test_bot_replies_are_not_operator_replies(bot_desk_sqlite: Desk) -> None:
    bot_desk_sqlite.clock.set(moscow("2027-01-13 10:00"))
    await bot_desk_sqlite.inbound(PHONE, "привет")
    await bot_desk_sqlite.inbound("79001112233", "hello")
    report = (await bot_desk_sqlite.client.get("/v1/analytics/operators")).json()
    assert report["operators"] == [] or all(o["replies"] == 0 for o in report["operators"])
    assert (await conversation(bot_desk_sqlite))["state"] == "waiting"


async def test_an_opt_out_keyword_gets_no_bot_reply(bot_desk_sqlite: Desk) -> None:
    bot_desk_sqlite.clock.set(moscow("2027-01-13 23:00"))
    await bot_desk_sqlite.inbound(PHONE, "СТОП")
    response = await bot_desk_sqlite.client.get("/v1/messages", params={"phone": PHONE, "direction": "out"})
    assert [m["origin"] for m in response.json()["data"]] == ["optout"]


async def test_dry_run_answers_without_storing(bot_desk_sqlite: Desk) -> None:
    response = await bot_desk_sqlite.client.post(
        "/v1/automations/dry-run", json={"text": "привет", "at": "2027-01-16T12:00:00+03:00"}
    )
    body = response.json()
    assert body["open"] is False and body["back_at"] == "2027-01-18T09:00:00+03:00"
    assert body["rules"] == ["away_message", "menu"]
    assert body["replies"][0].endswith("пн 18.01 в 09:00.")
    unsaved = {**SETTINGS, "greeting": "Hi!"}
    preview = await bot_desk_sqlite.client.post(
        "/v1/automations/dry-run", json={"text": "hello", "at": "2027-01-13T10:00:00+03:00", "settings": unsaved}
    )
    assert preview.json()["replies"][0] == "Hi!"
    assert await bot_texts(bot_desk_sqlite) == []


async def test_an_api_token_may_read_callbacks_but_not_change_automations(bot_desk_sqlite: Desk) -> None:
    tenant = await bot_desk_sqlite.tenant()
    now = bot_desk_sqlite.clock.now()
    await bot_desk_sqlite.rt.db.write(lambda c: tenant_repo.store_token(c, tenant.id, "crm", "api", "crm-token", now))
    headers = {"Authorization": "Bearer crm-token"}
    assert (await bot_desk_sqlite.client.put("/v1/automations", json=SETTINGS, headers=headers)).status_code == 403
    assert (await bot_desk_sqlite.client.get("/v1/callbacks", headers=headers)).status_code == 200
