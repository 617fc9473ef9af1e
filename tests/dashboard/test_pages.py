"""The dashboard over HTTP: sign-in, sessions, CSRF, tenants, replies through the policy, pages.

On SQLite only: nothing here depends on the SQL dialect (the API tests run on both).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings, running_app
from tests.dashboard.conftest import LOGIN_TOKEN_RE, PASSWORD, Desk, open_desk
from wagate.dashboard.plugin import dashboard_plugin
from wagate.services import media as media_service
from wagate.store.repos import messages as message_repo

PHONE = "79001234567"


async def conversation_id(desk: Desk) -> int:
    data = (await desk.client.get("/v1/conversations")).json()["data"]
    return int(data[0]["id"])


# ---------------------------------------------------------------- sign-in and sessions


async def test_the_root_is_the_sign_in_page_when_not_signed_in(desk_sqlite: Desk) -> None:
    response = await desk_sqlite.browser().get("/")
    assert response.status_code == 200
    assert 'action="/dashboard/login"' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_pages_redirect_to_sign_in_and_htmx_gets_a_redirect_header(desk_sqlite: Desk) -> None:
    browser = desk_sqlite.browser()
    page = await browser.get("/dashboard/analytics")
    assert page.status_code == 303
    assert page.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fanalytics"
    partial = await browser.get("/dashboard/inbox", headers={"HX-Request": "true"})
    assert partial.headers["hx-redirect"].startswith("/dashboard/login")


async def test_sign_in_sets_an_httponly_lax_session_cookie(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    browser = desk_sqlite.browser()
    token = LOGIN_TOKEN_RE.search((await browser.get("/dashboard/login")).text)
    assert token is not None
    response = await browser.post(
        "/dashboard/login", data={"login": "Anna", "password": PASSWORD, "csrf": token.group(1), "next": "/x"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/x"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "wagate_session=" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert 'data-user="anna"' in (await browser.get("/")).text


async def test_the_session_cookie_is_secure_behind_https(sqlite_url: str, tmp_path: Path) -> None:
    async with open_desk(sqlite_url, tmp_path, public_url="https://desk.example.com") as desk:
        await desk.user("anna")
        browser = desk.browser("https://desk.example.com")
        token = LOGIN_TOKEN_RE.search((await browser.get("/dashboard/login")).text)
        assert token is not None
        response = await browser.post(
            "/dashboard/login", data={"login": "anna", "password": PASSWORD, "csrf": token.group(1)}
        )
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "session" in v)
        assert cookie.startswith("__Host-wagate_session=")
        assert "Secure" in cookie


async def attempt(browser: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    """One sign-in through the form, as a browser does it (each form carries a fresh token)."""
    token = LOGIN_TOKEN_RE.search((await browser.get("/dashboard/login")).text)
    assert token is not None
    return await browser.post("/dashboard/login", data={"login": login, "password": password, "csrf": token.group(1)})


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    browser = desk_sqlite.browser()
    wrong = await attempt(browser, "anna", "nope-nope")
    unknown = await attempt(browser, "ghost", "nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong login or password." in wrong.text
    assert "Wrong login or password." in unknown.text


async def test_repeated_failures_block_sign_in_for_a_while(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    browser = desk_sqlite.browser()
    for _ in range(5):
        assert (await attempt(browser, "anna", "bad-bad-bad")).status_code == 401
    assert (await attempt(browser, "anna", PASSWORD)).status_code == 429


async def test_the_sign_in_form_needs_its_own_token(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    response = await desk_sqlite.browser().post("/dashboard/login", data={"login": "anna", "password": PASSWORD})
    assert response.status_code == 403


async def test_logout_ends_the_session_for_good(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    session = await desk_sqlite.sign_in("anna")
    cookie = dict(session.client.cookies)
    out = await session.post("/dashboard/logout", htmx=False)
    assert out.status_code == 303
    replay = desk_sqlite.browser()
    replay.cookies.update(cookie)
    desk_sqlite.rt.caches.sessions.clear()
    assert (await replay.get("/dashboard/analytics")).status_code == 303


async def test_a_disabled_user_is_signed_out(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("boss", role="admin")
    anna_id = await desk_sqlite.user("anna")
    anna = await desk_sqlite.sign_in("anna")
    boss = await desk_sqlite.sign_in("boss")
    response = await boss.post(f"/dashboard/users/{anna_id}", {"disabled": "1"}, htmx=False)
    assert response.status_code == 303
    assert (await anna.get("/dashboard/analytics")).status_code == 303


async def test_the_first_admin_is_created_with_the_admin_token(desk_sqlite: Desk) -> None:
    browser = desk_sqlite.browser()
    form = {"token": "test-admin-token", "login": "root", "password": PASSWORD, "name": "Root"}
    wrong = await browser.post("/dashboard/setup", data={**form, "token": "guess"})
    assert wrong.status_code == 422
    created = await browser.post("/dashboard/setup", data=form)
    assert created.status_code == 200
    session = await desk_sqlite.sign_in("root")
    assert (await session.get("/dashboard/users")).status_code == 200
    again = await browser.post("/dashboard/setup", data={**form, "login": "second"})
    assert again.status_code == 422


# ---------------------------------------------------------------- CSRF


async def test_a_post_without_the_csrf_token_is_refused(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE)
    session = await desk_sqlite.sign_in("anna")
    cid = await conversation_id(desk_sqlite)
    response = await session.client.post(f"/dashboard/conversations/{cid}/reply", data={"text": "hi"})
    assert response.status_code == 403
    forged = await session.client.post(f"/dashboard/conversations/{cid}/reply", data={"text": "hi", "csrf": "0" * 64})
    assert forged.status_code == 403
    assert (await desk_sqlite.client.get("/v1/messages", params={"direction": "out"})).json()["data"] == []


async def test_a_post_from_another_site_is_refused_even_with_the_token(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE)
    session = await desk_sqlite.sign_in("anna")
    cid = await conversation_id(desk_sqlite)
    response = await session.client.post(
        f"/dashboard/conversations/{cid}/reply",
        data={"text": "hi"},
        headers={"X-CSRF-Token": session.csrf, "Origin": "https://evil.example"},
    )
    assert response.status_code == 403


# ---------------------------------------------------------------- the inbox and tenants


async def test_the_inbox_lists_conversations_with_unread_and_wait(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE, "hello there")
    desk_sqlite.clock.advance(300)
    session = await desk_sqlite.sign_in("anna")
    page = (await session.get("/")).text
    assert f'data-phone="{PHONE}"' in page
    assert 'data-unread="1"' in page
    assert "client wrote 5 min ago" in page
    assert "hello there" in page


async def test_inbox_filters_show_mine_and_unassigned(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound("79000000001")
    await desk_sqlite.inbound("79000000002")
    session = await desk_sqlite.sign_in("anna")
    cid = (await desk_sqlite.client.get("/v1/conversations", params={"phone": "79000000001"})).json()["data"][0]["id"]
    await session.post(f"/dashboard/conversations/{cid}/assign", {"assignee": "anna"})
    mine = (await session.get("/dashboard/inbox?filter=mine")).text
    assert 'data-phone="79000000001"' in mine
    assert 'data-phone="79000000002"' not in mine
    unassigned = (await session.get("/dashboard/inbox?filter=unassigned")).text
    assert 'data-phone="79000000002"' in unassigned
    assert 'data-phone="79000000001"' not in unassigned


async def test_an_operator_of_another_tenant_sees_none_of_its_conversations(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.user("olga", tenant="other")
    await desk_sqlite.inbound(PHONE)
    cid = await conversation_id(desk_sqlite)
    olga = await desk_sqlite.sign_in("olga")
    assert PHONE not in (await olga.get("/")).text
    assert (await olga.get(f"/dashboard/conversations/{cid}")).status_code == 404
    assert (await olga.post(f"/dashboard/conversations/{cid}/reply", {"text": "hi"})).headers["hx-retarget"] == "#flash"
    assert (await desk_sqlite.client.get("/v1/messages", params={"direction": "out"})).json()["data"] == []


# ---------------------------------------------------------------- the conversation view


async def test_opening_a_conversation_marks_it_read(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE)
    session = await desk_sqlite.sign_in("anna")
    cid = await conversation_id(desk_sqlite)
    page = await session.get(f"/dashboard/conversations/{cid}")
    assert page.status_code == 200
    assert (await desk_sqlite.client.get(f"/v1/conversations/{cid}")).json()["unread"] == 0


async def test_a_dashboard_reply_records_the_operator_and_its_door(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE)
    session = await desk_sqlite.sign_in("anna")
    cid = await conversation_id(desk_sqlite)
    response = await session.post(f"/dashboard/conversations/{cid}/reply", {"text": "We are on it"})
    assert response.status_code == 200
    assert "thread:main:" in response.headers["hx-trigger"]
    (message,) = (await desk_sqlite.client.get("/v1/messages", params={"direction": "out"})).json()["data"]
    assert message["operator"] == "anna"
    assert message["origin"] == "dashboard"
    assert message["text"] == "We are on it"
    conversation = (await desk_sqlite.client.get(f"/v1/conversations/{cid}")).json()
    assert conversation["state"] == "open"
    assert conversation["assignee"]["login"] == "anna"


async def test_the_thread_shows_ticks_and_failure_reasons(desk_sqlite: Desk) -> None:
    from wagate.domain.statuses import Status

    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE)
    session = await desk_sqlite.sign_in("anna")
    cid = await conversation_id(desk_sqlite)
    await session.post(f"/dashboard/conversations/{cid}/reply", {"text": "first"})
    await session.post(f"/dashboard/conversations/{cid}/reply", {"text": "second"})
    ids = [m["id"] for m in (await desk_sqlite.client.get("/v1/messages", params={"direction": "out"})).json()["data"]]
    now = desk_sqlite.clock.now()

    def move(conn: object) -> None:
        for status in (Status.SENDING, Status.SENT, Status.DELIVERED, Status.READ):
            message_repo.apply_status(conn, ids[1], status, now=now)  # type: ignore[arg-type]
        message_repo.apply_status(conn, ids[0], Status.SENDING, now=now)  # type: ignore[arg-type]
        message_repo.apply_status(  # type: ignore[arg-type]
            conn, ids[0], Status.FAILED, now=now, error_code="131026", error_message="not on WhatsApp"
        )

    await desk_sqlite.rt.db.write(move)
    thread = (await session.get(f"/dashboard/conversations/{cid}/thread", htmx=True)).text
    assert re.findall(r'data-status="(\w+)"', thread) == ["read", "failed"]
    assert "not on WhatsApp" in thread


async def test_a_closed_window_offers_only_templates(desk_sqlite: Desk) -> None:
    await desk_sqlite.client.patch("/v1/channels/main", json={"policy": {"service_window": True, "consent": "off"}})
    await desk_sqlite.client.post(
        "/v1/templates",
        json={
            "name": "follow_up",
            "language": "en",
            "category": "utility",
            "body": "Hi {{1}}, any news?",
            "status": "approved",
        },
    )
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE)
    desk_sqlite.clock.advance(25 * 3600)
    session = await desk_sqlite.sign_in("anna")
    cid = await conversation_id(desk_sqlite)
    page = (await session.get(f"/dashboard/conversations/{cid}")).text
    assert 'data-window="closed"' in page
    assert 'name="text"' not in page.split('id="reply"')[1].split("</section>")[0]
    assert 'value="follow_up|en"' in page
    refused = await session.post(f"/dashboard/conversations/{cid}/reply", {"text": "free text"})
    assert refused.headers["hx-retarget"] == "#flash"
    sent = await session.post(f"/dashboard/conversations/{cid}/reply", {"template": "follow_up|en", "param": "Ivan"})
    assert sent.status_code == 200
    assert "hx-retarget" not in sent.headers
    (message,) = (await desk_sqlite.client.get("/v1/messages", params={"direction": "out"})).json()["data"]
    assert message["type"] == "template"
    assert message["text"] == "Hi Ivan, any news?"


async def test_an_open_window_offers_free_text(desk_sqlite: Desk) -> None:
    await desk_sqlite.client.patch("/v1/channels/main", json={"policy": {"service_window": True}})
    await desk_sqlite.user("anna")
    await desk_sqlite.inbound(PHONE)
    session = await desk_sqlite.sign_in("anna")
    page = (await session.get(f"/dashboard/conversations/{await conversation_id(desk_sqlite)}")).text
    assert 'data-window="open"' in page
    assert 'name="text"' in page


async def test_assign_close_and_notes_from_the_side_panel(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.user("boris", name="Boris")
    await desk_sqlite.inbound(PHONE)
    session = await desk_sqlite.sign_in("anna")
    cid = await conversation_id(desk_sqlite)
    side = await session.post(f"/dashboard/conversations/{cid}/assign", {"assignee": "boris"})
    assert '<option value="boris" selected>' in side.text
    await session.post(f"/dashboard/conversations/{cid}/notes", {"text": "called him, no answer"})
    closed = await session.post(f"/dashboard/conversations/{cid}/close")
    assert 'data-state="closed"' in closed.text
    assert "called him, no answer" in closed.text
    detail = (await desk_sqlite.client.get(f"/v1/conversations/{cid}")).json()
    assert detail["assignee"]["login"] == "boris"
    assert detail["notes"][0]["author"] == "anna"


async def test_inbound_media_is_served_to_the_tenants_users_only(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.user("olga", tenant="other")
    tenant = await desk_sqlite.tenant()
    stored = await media_service.store(desk_sqlite.rt.settings, tenant.id, b"\x89PNG fake", "image/png")
    url = media_service.media_url(desk_sqlite.rt.settings, stored.name)
    await desk_sqlite.inbound(PHONE, "", type="image", media={"url": url, "mime_type": "image/png"})
    anna = await desk_sqlite.sign_in("anna")
    thread = (await anna.get(f"/dashboard/conversations/{await conversation_id(desk_sqlite)}/thread", htmx=True)).text
    assert f'<img src="/dashboard/media/{stored.name}"' in thread
    assert (await anna.get(f"/dashboard/media/{stored.name}")).content == b"\x89PNG fake"
    olga = await desk_sqlite.sign_in("olga")
    assert (await olga.get(f"/dashboard/media/{stored.name}")).status_code == 404


# ---------------------------------------------------------------- analytics, operations, admin


async def test_the_analytics_page_shows_each_operators_response_time(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna", name="Anna")
    await desk_sqlite.inbound(PHONE)
    desk_sqlite.clock.advance(125)
    await desk_sqlite.api_reply(PHONE, "hi", operator="anna")
    session = await desk_sqlite.sign_in("anna")
    page = (await session.get("/dashboard/analytics")).text
    row = page.split('data-operator="anna"')[1].split("</tr>")[0]
    assert "Anna" in row
    assert '<td class="num" data-metric="response_median">2 min 5 s</td>' in row
    assert page.count("<svg") == 2
    csv_text = (await session.get("/dashboard/analytics.csv")).text
    assert csv_text.splitlines()[0].startswith("day,operator,name")


async def test_pages_speak_the_users_language(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("ivan", locale="ru")
    session = await desk_sqlite.sign_in("ivan")
    page = (await session.get("/")).text
    assert '<html lang="ru">' in page
    assert "Входящие" in page
    await session.post("/dashboard/profile", {"locale": "en", "next": "/"})
    desk_sqlite.rt.caches.sessions.clear()
    assert "Inbox" in (await session.get("/")).text


async def test_operators_cannot_open_admin_pages_or_change_users(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    session = await desk_sqlite.sign_in("anna")
    assert (await session.get("/dashboard/users")).status_code == 403
    created = await session.post("/dashboard/users", {"login": "mallory", "password": PASSWORD}, htmx=False)
    assert created.status_code == 403


async def test_an_admin_creates_an_operator_who_can_sign_in(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("boss", role="admin")
    boss = await desk_sqlite.sign_in("boss")
    weak = await boss.post("/dashboard/users", {"login": "kate", "password": "short", "role": "operator"}, htmx=False)
    assert weak.status_code == 422
    created = await boss.post(
        "/dashboard/users", {"login": "kate", "password": PASSWORD, "role": "operator", "name": "Kate"}, htmx=False
    )
    assert created.status_code == 303
    kate = await desk_sqlite.sign_in("kate")
    assert 'data-user="kate"' in (await kate.get("/")).text


async def test_an_unknown_message_is_resolved_by_an_admin(desk_sqlite: Desk) -> None:
    from wagate.domain.statuses import Status

    await desk_sqlite.user("boss", role="admin")
    message_id = await desk_sqlite.api_reply(PHONE, "lost in a crash", operator=None)
    now = desk_sqlite.clock.now()

    def crash(conn: object) -> None:
        message_repo.apply_status(conn, message_id, Status.SENDING, now=now)  # type: ignore[arg-type]
        message_repo.apply_status(conn, message_id, Status.UNKNOWN, now=now)  # type: ignore[arg-type]

    await desk_sqlite.rt.db.write(crash)
    boss = await desk_sqlite.sign_in("boss")
    page = (await boss.get("/dashboard/operations")).text
    assert f'data-message="{message_id}"' in page
    done = await boss.post(f"/dashboard/messages/{message_id}/resolve", {"outcome": "sent"}, htmx=False)
    assert done.status_code == 303
    message = (await desk_sqlite.client.get(f"/v1/messages/{message_id}")).json()
    assert message["status"] == "sent"
    assert message["history"][-1]["reason"] == "resolved by boss"


async def test_operations_page_shows_queue_depth_per_channel(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    await desk_sqlite.api_reply(PHONE, "waiting in the queue", operator=None)
    session = await desk_sqlite.sign_in("anna")
    page = (await session.get("/dashboard/operations")).text
    row = page.split('data-channel="main"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', row)[0] == "1"


async def test_analytics_settings_are_saved_from_the_page(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("boss", role="admin")
    boss = await desk_sqlite.sign_in("boss")
    saved = await boss.post(
        "/dashboard/settings",
        {
            "sla_minutes": "10",
            "dialogue_gap_hours": "12",
            "tz": "Europe/Moscow",
            "days": ["1", "2"],
            "start": "10:00",
            "end": "19:00",
        },
        htmx=False,
    )
    assert saved.status_code == 303
    settings = (await desk_sqlite.client.get("/v1/analytics/settings")).json()
    assert settings["sla_minutes"] == 10
    assert settings["working_hours"] == {"tz": "Europe/Moscow", "days": [1, 2], "start": "10:00", "end": "19:00"}
    bad = await boss.post(
        "/dashboard/settings",
        {
            "sla_minutes": "10",
            "dialogue_gap_hours": "12",
            "tz": "Nowhere/Land",
            "days": ["1"],
            "start": "09:00",
            "end": "18:00",
        },
        htmx=False,
    )
    assert bad.status_code == 422
    assert "unknown time zone" in bad.text


@pytest.mark.parametrize("path", ["/dashboard/static/htmx.min.js", "/dashboard/static/dashboard.js"])
async def test_assets_are_served_by_wagate_itself(desk_sqlite: Desk, path: str) -> None:
    response = await desk_sqlite.browser().get(path)
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]


async def test_conversations_are_the_core_s_and_the_dashboard_plugin_adds_only_pages(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url, tmp_path)
    async with running_app(settings) as (_app, _rt, client):
        assert (await client.get("/v1/conversations")).status_code == 200
        assert (await client.get("/dashboard/login")).status_code == 404
    async with running_app(settings, plugins=[dashboard_plugin]) as (_app, _rt, client):
        assert (await client.get("/v1/conversations")).status_code == 200
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert {"/v1/conversations", "/v1/analytics/operators"} <= set(paths)
        assert "/dashboard/login" not in paths


async def test_the_thread_says_why_a_queued_reply_waits(desk_sqlite: Desk) -> None:
    desk = desk_sqlite
    await desk.user("anna", role="admin")
    await desk.inbound("79001234567", "hello")
    await desk.api_reply("79001234567", "on its way", operator="anna")
    paused = await desk.client.patch("/v1/channels/main", json={"status": "paused"})
    assert paused.status_code == 200, paused.text
    conversation_id = (await desk.client.get("/v1/conversations")).json()["data"][0]["id"]
    session = await desk.sign_in("anna")
    thread = await session.get(f"/dashboard/conversations/{conversation_id}/thread", htmx=True)
    assert thread.status_code == 200
    assert 'data-waiting="channel_paused"' in thread.text
    assert "the channel is paused" in thread.text
