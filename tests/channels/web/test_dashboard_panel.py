"""The web channel's dashboard page: the QR drawn locally, the state updating itself, the buttons."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.channels.web.conftest import FAST, eventually, web_registry
from tests.conftest import make_settings, running_app
from tests.dashboard.conftest import CSRF_RE, LOGIN_TOKEN_RE, PASSWORD
from wagate.channels.web import web_plugin
from wagate.channels.web.fake import FakeWhatsApp
from wagate.dashboard.plugin import dashboard_plugin
from wagate.services import users as user_service


async def test_the_session_page_shows_the_qr_then_the_linked_number(sqlite_url: str, tmp_path: Path) -> None:
    world = FakeWhatsApp()
    settings = make_settings(sqlite_url, tmp_path)
    plugins = [dashboard_plugin, web_plugin(world.factory, renew_seconds=0.5, scan_gap=0.05)]
    async with running_app(settings, registry=web_registry(), plugins=plugins) as (app, rt, client):  # type: ignore[list-item]
        assert (
            await client.post("/v1/channels", json={"name": "wa", "kind": "web", "pacing": FAST})
        ).status_code == 201
        await user_service.create_user(rt, 1, {"login": "boss", "password": PASSWORD, "role": "admin"})
        browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wagate.test")
        async with browser:
            login = await browser.get("/dashboard/login")
            token = LOGIN_TOKEN_RE.search(login.text)
            assert token is not None
            signed = await browser.post(
                "/dashboard/login", data={"login": "boss", "password": PASSWORD, "csrf": token.group(1), "next": "/"}
            )
            assert signed.status_code == 303

            async def pairing_page() -> str | None:
                page = await browser.get("/dashboard/channels/wa/session")
                return page.text if 'data-state="pairing"' in page.text else None

            page = await eventually(pairing_page)
            assert "<svg" in page and 'class="segno"' in page
            assert 'hx-get="/dashboard/channels/wa/session/panel"' in page and 'hx-trigger="every 3s"' in page
            assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script (strict CSP)
            world.session(1).pair("79001112233")

            async def connected_panel() -> str | None:
                panel = await browser.get("/dashboard/channels/wa/session/panel")
                return panel.text if 'data-state="connected"' in panel.text else None

            panel = await eventually(connected_panel)
            assert "+79001112233" in panel and "<svg" not in panel
            csrf = CSRF_RE.search((await browser.get("/dashboard/channels/wa/session")).text)
            assert csrf is not None
            out = await browser.post("/dashboard/channels/wa/session/logout", data={"csrf": csrf.group(1)})
            assert out.status_code == 303
            assert (await client.get("/v1/channels/wa/session")).json()["state"] == "logged_out"
