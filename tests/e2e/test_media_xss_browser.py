"""A customer's HTML or SVG file runs no script in an admin's browser (Debian Chromium).

The attack this replays: a customer sends a document of type ``text/html`` (or an SVG
"image") carrying a script; an admin opens it from the dashboard; the script, running on the
dashboard's origin, reads the CSRF token and creates an admin user. The payload below is
first shown to run when the page is not protected (a control), then opened every way the
dashboard offers it: not one line of it may run.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.test_dashboard_browser import CHROMIUM_ARGS, TIMEOUT_MS, WAGATE, chromium_path
from tests.e2e.test_serve_subprocess import wait_ready

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "xss-admin-token"
PASSWORD = "admin password 1"
PAYLOAD_JS = (
    "console.log('PWNED ' + location.href);"
    "var t = document.cookie + '|' + document.body.innerHTML.length;"
    "fetch('/pwned?' + encodeURIComponent(t)).catch(function () {});"
)
HTML = f"<!doctype html><html><body><p>invoice</p><script>{PAYLOAD_JS}</script>" + (
    f'<img src="nope" onerror="{PAYLOAD_JS}"></body></html>'
)
SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{PAYLOAD_JS}"><script>{PAYLOAD_JS}</script></svg>'
MEDIA_NAME = re.compile(r"/v1/media/([0-9a-f]{32}\.[A-Za-z0-9]+)")
FILES = [
    ("document", "text/html", "invoice.html", HTML),
    ("image", "image/svg+xml", None, SVG),
    ("document", "image/svg+xml", "logo.svg", SVG),
    ("document", "application/xhtml+xml", "page.xhtml", HTML),
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chromium_path()
    tmp = tmp_path_factory.mktemp("xss-e2e")
    port = free_port()
    env = {
        **os.environ,
        "WAGATE_PORT": str(port),
        "WAGATE_DATA_DIR": str(tmp / "data"),
        "WAGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/data/wagate.db",
        "WAGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "WAGATE_SANDBOX": "1",
        "WAGATE_SANDBOX_FAST": "1",
        "WAGATE_LOG_LEVEL": "WARNING",
    }
    env.pop("WAGATE_PUBLIC_URL", None)
    subprocess.run(
        [WAGATE, "user", "create", "--login", "boss", "--password", PASSWORD, "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
    )
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([WAGATE, "serve"], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)  # type: ignore[arg-type]
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def inject_files(url: str, phone: str) -> list[str]:
    """The customer sends every file; returns the dashboard URLs of the stored copies."""
    for kind, mime, filename, content in FILES:
        media: dict[str, Any] = {
            "type": kind,
            "mime_type": mime,
            "content_base64": base64.b64encode(content.encode()).decode(),
        }
        if filename:
            media["filename"] = filename
        response = httpx.post(f"{url}/sandbox/inject", json={"from": phone, "media": media}, timeout=10)
        assert response.status_code == 200, response.text
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as api:
        listed = api.get("/v1/messages", params={"phone": phone, "direction": "in"})
    names = sorted(set(MEDIA_NAME.findall(listed.text)))
    assert len(names) == len(FILES), listed.text
    return [f"{url}/dashboard/media/{name}" for name in names]


def test_no_script_of_a_customers_html_or_svg_runs_on_the_dashboard(gateway: str) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    media_urls = inject_files(gateway, "79161230001")
    console: list[str] = []
    pwned_requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(accept_downloads=True)
            context.set_default_timeout(TIMEOUT_MS)
            context.on("request", lambda r: pwned_requests.append(r.url) if "/pwned" in r.url else None)
            page = context.new_page()
            page.on("console", lambda m: console.append(m.text))

            # Control: the payload does run where nothing protects it.
            control = context.new_page()
            control.on("console", lambda m: console.append("control:" + m.text))
            control.set_content(HTML)
            control.wait_for_timeout(200)
            control.close()
            assert any(line.startswith("control:PWNED") for line in console), console
            console.clear()

            page.goto(f"{gateway}/")
            page.fill("input[name=login]", "boss")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector('[data-user="boss"]')
            page.click('li[data-phone="79161230001"] a')
            page.wait_for_selector(".msg.in")
            # No file of an active type is embedded; each is a download link.
            assert page.locator('.msg.in img[src*="/dashboard/media/"]').count() == 0
            links = page.locator('.msg.in a[href*="/dashboard/media/"]')
            assert links.count() == len(FILES)
            for i in range(links.count()):
                with page.expect_download() as download:
                    links.nth(i).click()
                assert download.value.suggested_filename

            # Opened directly (a link pasted into the address bar): downloaded, not rendered.
            for media_url in media_urls:
                tab = context.new_page()
                tab.on("console", lambda m: console.append(m.text))
                with tab.expect_download():
                    try:
                        tab.goto(media_url)
                    except PlaywrightError as exc:  # Chromium aborts a navigation that becomes a download
                        assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc), exc
                tab.close()

            # Even a browser that ignored "attachment" would render it sandboxed: read the policy it got.
            for media_url in media_urls:
                response = page.request.get(media_url)
                assert "sandbox" in response.headers["content-security-policy"]
                assert response.headers["x-content-type-options"] == "nosniff"

            page.wait_for_timeout(300)
            assert not [line for line in console if "PWNED" in line], console
            assert pwned_requests == []
            violations = [line for line in console if "Content Security Policy" in line]
            assert violations == [], violations  # the dashboard itself needs no inline script
        finally:
            browser.close()
    with httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as api:
        rows = api.get("/v1/messages", params={"phone": "79161230001", "direction": "in"}).json()["data"]
    assert len(rows) == len(FILES)
