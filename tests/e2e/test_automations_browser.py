"""The automations editor in a real headless Chromium under the dashboard's strict CSP: the
preview follows what the admin types (no inline script), and saving reaches the API."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.test_dashboard_browser import (  # noqa: F401  (module fixtures)
    PASSWORD,
    WAGATE,
    Server,
    browser,
    page,
    screenshot,
    server,
    sign_in,
)

pytestmark = pytest.mark.slow


def test_the_editor_previews_live_and_saves(page: object, server: Server) -> None:  # noqa: F811
    subprocess.run(
        [WAGATE, "user", "create", "--login", "boss", "--password", PASSWORD, "--role", "admin", "--locale", "en"],
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
    )
    violations: list[str] = []
    page.on(  # type: ignore[attr-defined]
        "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
    )
    sign_in(page, server, "boss")
    p: object = page
    p.goto(f"{server.url}/dashboard/automations")  # type: ignore[attr-defined]
    p.fill("input[name=timezone]", "Europe/Moscow")  # type: ignore[attr-defined]
    p.fill("textarea[name=away_message]", "We are closed, back {back}.")  # type: ignore[attr-defined]
    p.fill(  # type: ignore[attr-defined]
        "textarea[name=menu]",
        '{"text": "How can we help?", "items": [{"key": "1", "title": "Prices", "reply": "From $5"},'
        ' {"key": "2", "title": "Call me back", "action": "callback"}]}',
    )
    p.fill("input[name=week_mon]", "09:00-18:00")  # type: ignore[attr-defined]
    p.fill("input[name=preview_at]", "2027-01-11T23:30")  # type: ignore[attr-defined]
    p.fill("input[name=preview_text]", "hello")  # type: ignore[attr-defined]
    reply = p.wait_for_selector("#preview [data-preview-reply]:has-text('back Mon')")  # type: ignore[attr-defined]
    assert "We are closed, back" in reply.inner_text()
    p.fill("input[name=preview_text]", "1")  # type: ignore[attr-defined]
    p.wait_for_selector("#preview [data-preview-reply]:has-text('From $5')")  # type: ignore[attr-defined]
    screenshot(p, "automations")
    p.click("button[type=submit]:has-text('Save')")  # type: ignore[attr-defined]
    p.wait_for_selector(".flash")  # type: ignore[attr-defined]
    with server.api() as api:
        saved = api.get("/v1/automations").json()
    assert saved["menu"]["items"][1]["action"] == "callback"
    assert saved["working_hours"]["week"] == {"mon": [["09:00", "18:00"]]}
    assert violations == []
