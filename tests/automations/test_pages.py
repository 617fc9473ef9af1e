"""The dashboard's automations editor (save, errors naming the field, live preview) and the
callback requests list (take, done), through a signed-in browser session."""

from __future__ import annotations

from tests.automations.conftest import moscow
from tests.dashboard.conftest import Desk

FORM = {
    "enabled": "on",
    "language": "ru",
    "timezone": "Europe/Moscow",
    "week_mon": "09:00-13:00, 14:00-18:00",
    "week_tue": "9:00-18:00",
    "holidays": "2027-01-01, 2027-01-07",
    "away_message": "Мы закрыты, вернёмся {back}.",
    "greeting": "",
    "menu": '{"text": "Меню", "items": [{"key": "1", "title": "Цены", "reply": "300 ₽"}]}',
    "keywords": "",
}


async def test_the_editor_saves_the_form_as_the_api_would(bot_desk_sqlite: Desk) -> None:
    desk = bot_desk_sqlite
    await desk.user("boss", role="admin")
    session = await desk.sign_in("boss")
    page = await session.get("/dashboard/automations")
    assert page.status_code == 200 and "09:00-13:00, 14:00-18:00" in page.text
    saved = await session.post("/dashboard/automations", {**FORM, "csrf": session.csrf}, htmx=False)
    assert saved.status_code == 303
    body = (await desk.client.get("/v1/automations")).json()
    assert body["working_hours"]["week"] == {
        "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
        "tue": [["09:00", "18:00"]],
    }
    assert body["working_hours"]["holidays"] == ["2027-01-01", "2027-01-07"]
    assert body["menu"]["items"][0]["reply"] == "300 ₽" and body["greeting"] is None


async def test_an_error_names_the_field_and_keeps_the_form(bot_desk_sqlite: Desk) -> None:
    desk = bot_desk_sqlite
    await desk.user("boss", role="admin")
    session = await desk.sign_in("boss")
    bad = {**FORM, "week_wed": "nine to five", "csrf": session.csrf}
    response = await session.post("/dashboard/automations", bad, htmx=False)
    assert response.status_code == 422
    assert 'data-error-field="working_hours.week.wed"' in response.text
    assert "nine to five" in response.text


async def test_the_preview_answers_with_the_unsaved_form(bot_desk_sqlite: Desk) -> None:
    desk = bot_desk_sqlite
    await desk.user("boss", role="admin")
    session = await desk.sign_in("boss")
    form = {**FORM, "preview_text": "привет", "preview_at": "2027-01-11T23:10", "csrf": session.csrf}
    response = await session.post("/dashboard/automations/preview", form)
    assert response.status_code == 200
    assert "Мы закрыты, вернёмся завтра в 09:00." in response.text
    assert "away_message · menu" in response.text
    broken = await session.post("/dashboard/automations/preview", {**form, "menu": "{"})
    assert "data-preview-error" in broken.text and "menu" in broken.text


async def test_callbacks_list_take_and_done(bot_desk_sqlite: Desk) -> None:
    desk = bot_desk_sqlite
    desk.clock.set(moscow("2027-01-13 23:10"))
    for text in ("добрый вечер", "2", "завтра после 15"):
        await desk.inbound("79001234567", text)
        desk.clock.advance(30)
    await desk.user("anna")
    session = await desk.sign_in("anna")
    page = await session.get("/dashboard/callbacks")
    assert "завтра после 15" in page.text and "+79001234567" in page.text
    callback_id = (await desk.client.get("/v1/callbacks")).json()["data"][0]["id"]
    taken = await session.post(f"/dashboard/callbacks/{callback_id}/take", {"csrf": session.csrf}, htmx=False)
    assert taken.status_code == 303
    [row] = (await desk.client.get("/v1/callbacks")).json()["data"]
    assert (row["status"], row["taken_by"]) == ("taken", "anna")
    await session.post(f"/dashboard/callbacks/{callback_id}/done", {"csrf": session.csrf}, htmx=False)
    assert (await desk.client.get("/v1/callbacks")).json()["data"] == []
    done = await session.get("/dashboard/callbacks?status=done")
    assert f'data-callback="{callback_id}"' in done.text


async def test_the_conversation_page_hands_a_conversation_back_to_the_bot(bot_desk_sqlite: Desk) -> None:
    desk = bot_desk_sqlite
    desk.clock.set(moscow("2027-01-13 10:00"))
    await desk.inbound("79001234567", "позовите оператора")
    [convo] = (await desk.client.get("/v1/conversations")).json()["data"]
    await desk.user("anna")
    session = await desk.sign_in("anna")
    page = await session.get(f"/dashboard/conversations/{convo['id']}")
    assert f'hx-get="/dashboard/conversations/{convo["id"]}/bot"' in page.text
    panel = await session.get(f"/dashboard/conversations/{convo['id']}/bot", htmx=True)
    assert 'data-bot-mode="human"' in panel.text and 'data-bot="hand-back"' in panel.text
    back = await session.post(f"/dashboard/conversations/{convo['id']}/bot", {"active": "true"})
    assert 'data-bot-mode="bot"' in back.text
    desk.clock.advance(60)
    await desk.inbound("79001234567", "1")
    response = await desk.client.get("/v1/messages", params={"phone": "79001234567", "direction": "out"})
    assert response.json()["data"][0]["text"] == "Пн–пт 9–18"


async def test_recurring_campaigns_page_lists_schedules_and_runs(bot_desk_sqlite: Desk) -> None:
    desk = bot_desk_sqlite
    template = {"name": "news", "language": "en", "category": "utility", "body": "Hi {{1}}", "status": "approved"}
    assert (await desk.client.post("/v1/templates", json=template)).status_code == 201
    created = await desk.client.post(
        "/v1/campaigns",
        data={"template": "news", "name": "Weekly"},
        files={"file": ("a.csv", b"phone,p1\n79001234567,A\n")},
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    rule = {"every_days": 7, "at": "10:00", "timezone": "Europe/Moscow"}
    assert (await desk.client.put(f"/v1/campaigns/{campaign_id}/recurrence", json=rule)).status_code == 200
    await desk.user("anna")
    session = await desk.sign_in("anna")
    page = await session.get("/dashboard/recurring")
    assert f'data-schedule="{campaign_id}"' in page.text and "every 7 d at 10:00" in page.text
