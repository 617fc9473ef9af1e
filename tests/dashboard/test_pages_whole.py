"""Dashboard v2 correctness: set-up closes, the sign-in hint, HTML error pages, whole pages by URL,
and the language of the browser for signed-out pages and users who chose none."""

from __future__ import annotations

from tests.dashboard.conftest import PASSWORD, Desk

PHONE = "79001234567"


async def test_setup_is_offered_only_while_there_are_no_users(desk_sqlite: Desk) -> None:
    browser = desk_sqlite.browser()
    login = (await browser.get("/dashboard/login")).text
    assert "data-no-users" in login and 'href="/dashboard/setup"' in login
    assert 'action="/dashboard/setup"' in (await browser.get("/dashboard/setup")).text
    form = {"token": "test-admin-token", "login": "root", "password": PASSWORD}
    assert (await browser.post("/dashboard/setup", data=form)).status_code == 200
    closed = await browser.get("/dashboard/setup")
    assert closed.status_code == 200
    assert "data-setup-closed" in closed.text
    assert 'action="/dashboard/setup"' not in closed.text
    assert "data-no-users" not in (await browser.get("/dashboard/login")).text


async def test_unknown_dashboard_pages_are_html_in_the_dashboards_style_and_api_stays_json(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("anna")
    session = await desk_sqlite.sign_in("anna")
    missing = await session.get("/dashboard/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert 'href="/dashboard/static/dashboard.css"' in missing.text
    assert 'data-user="anna"' in missing.text  # the navigation is there: one can go on
    assert "There is no such page." in missing.text
    assert "default-src 'self'" in missing.headers["content-security-policy"]
    signed_out = await desk_sqlite.browser().get("/dashboard/nothing", headers={"Accept-Language": "ru"})
    assert signed_out.status_code == 404
    assert "Такой страницы нет." in signed_out.text
    forbidden = await session.get("/dashboard/users")
    assert forbidden.status_code == 403
    assert 'href="/dashboard/static/dashboard.css"' in forbidden.text
    api = await desk_sqlite.client.get("/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    assert (await session.get("/dashboard/static/nope.js")).headers["content-type"].startswith("application/json")


async def test_every_fragment_url_opened_directly_gives_the_whole_page(desk_sqlite: Desk) -> None:
    await desk_sqlite.inbound(PHONE, "hi")
    await desk_sqlite.user("anna")
    session = await desk_sqlite.sign_in("anna")
    whole = await session.get("/dashboard/inbox")
    assert whole.status_code == 200
    assert "<!doctype html>" in whole.text and 'id="inbox"' in whole.text
    fragment = await session.client.get("/dashboard/inbox", headers={"HX-Request": "true"})
    assert "<!doctype html>" not in fragment.text and "data-conversation" in fragment.text
    cid = (await desk_sqlite.client.get("/v1/conversations")).json()["data"][0]["id"]
    for part in ("thread", "side", "reply"):
        direct = await session.get(f"/dashboard/conversations/{cid}/{part}")
        assert direct.status_code == 303, part
        assert direct.headers["location"] == f"/dashboard/conversations/{cid}"
        htmx = await session.client.get(f"/dashboard/conversations/{cid}/{part}", headers={"HX-Request": "true"})
        assert htmx.status_code == 200 and "<!doctype html>" not in htmx.text, part


async def test_the_language_follows_the_browser_until_the_user_chooses_one(desk_sqlite: Desk) -> None:
    ru = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    signed_out = await desk_sqlite.browser().get("/dashboard/login", headers=ru)
    assert '<html lang="ru">' in signed_out.text
    await desk_sqlite.user("olga")  # no locale given: none saved
    session = await desk_sqlite.sign_in("olga")
    assert '<html lang="ru">' in (await session.client.get("/", headers=ru)).text
    assert '<html lang="en">' in (await session.client.get("/", headers={"Accept-Language": "en-GB"})).text
    await session.post("/dashboard/profile", {"locale": "en", "next": "/"})
    desk_sqlite.rt.caches.sessions.clear()
    assert '<html lang="en">' in (await session.client.get("/", headers=ru)).text


async def test_a_thread_that_marks_messages_read_asks_the_list_to_drop_its_badge(desk_sqlite: Desk) -> None:
    await desk_sqlite.inbound(PHONE, "hi")
    await desk_sqlite.user("anna")
    session = await desk_sqlite.sign_in("anna")
    cid = (await desk_sqlite.client.get("/v1/conversations")).json()["data"][0]["id"]
    first = await session.get(f"/dashboard/conversations/{cid}/thread", htmx=True)
    assert '"inbox"' in first.headers["hx-trigger"]
    again = await session.get(f"/dashboard/conversations/{cid}/thread", htmx=True)
    assert "hx-trigger" not in again.headers  # nothing was unread: no refresh
