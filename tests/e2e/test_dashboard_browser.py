"""The dashboard in a real headless Chromium against a real ``wagate serve`` (sandbox on, fast).

Debian's ``chromium`` driven by Playwright (never a downloaded browser: ``executable_path``).
Without Chromium the tests skip only when ``CI`` is unset; in CI they fail (``.ci/run``
installs it). Screenshots go to ``test-artifacts/``; with ``WAGATE_DOC_SCREENSHOTS=1`` they
are also copied to ``docs/img/`` for the README.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.test_serve_subprocess import wait_ready

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOC_IMAGES = ROOT / "docs" / "img"
WAGATE = str(Path(sys.executable).parent / "wagate")
ADMIN_TOKEN = "e2e-admin-token"
PASSWORD = "operator password"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed and CI is set (.ci/run installs it)")
        pytest.skip("chromium is not installed (and CI is unset)")
    return path


@dataclass
class Server:
    url: str
    env: dict[str, str]

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)

    def inject(self, phone: str, text: str, name: str = "Customer") -> None:
        response = httpx.post(
            f"{self.url}/sandbox/inject", json={"from": phone, "text": text, "name": name}, timeout=10
        )
        assert response.status_code == 200, response.text
        assert response.json()["webhook"]["delivered"], response.text


def create_user(env: dict[str, str], login: str, name: str, tenant: str = "default", locale: str = "en") -> None:
    command = [WAGATE, "user", "create", "--login", login, "--password", PASSWORD, "--role", "operator"]
    subprocess.run(
        [*command, "--name", name, "--tenant", tenant, "--locale", locale],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    chromium_path()
    tmp = tmp_path_factory.mktemp("dashboard-e2e")
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
    create_user(env, "anna", "Anna Petrova")
    create_user(env, "olga", "Olga (another company)", tenant="other")
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([WAGATE, "serve"], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield Server(url, env)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="en-US")  # type: ignore[attr-defined]
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def screenshot(page: object, name: str, *, for_docs: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=False)  # type: ignore[attr-defined]
    if for_docs and os.environ.get("WAGATE_DOC_SCREENSHOTS"):
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, DOC_IMAGES / f"{name}.png")


def sign_in(page: object, server: Server, login: str) -> None:
    page.goto(f"{server.url}/")  # type: ignore[attr-defined]
    page.fill("input[name=login]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector(f'[data-user="{login}"]')  # type: ignore[attr-defined]
    page.wait_for_selector('#live[data-state="live"]')  # type: ignore[attr-defined]


def test_an_operator_answers_a_customer_live_and_sees_the_response_time(page: object, server: Server) -> None:
    p: object = page
    sign_in(p, server, "anna")
    # Marks this document: a reload would lose it, so seeing it later proves the update came live.
    p.evaluate("window.__sameDocument = 'yes'")  # type: ignore[attr-defined]
    server.inject("79161112233", "Hello! Has my order #5512 shipped yet?", name="Maria")
    row = p.wait_for_selector('li[data-phone="79161112233"]')  # type: ignore[attr-defined]
    assert p.evaluate("window.__sameDocument") == "yes"  # type: ignore[attr-defined]
    assert "Hello! Has my order #5512 shipped yet?" in row.inner_text()
    assert p.locator('li[data-phone="79161112233"] [data-unread="1"]').count() == 1  # type: ignore[attr-defined]
    server.inject("79035554411", "Can I change the delivery address?", name="Ivan")
    p.wait_for_selector('li[data-phone="79035554411"]')  # type: ignore[attr-defined]
    screenshot(p, "inbox")

    p.click('li[data-phone="79161112233"] a')  # type: ignore[attr-defined]
    p.wait_for_selector("#reply textarea[name=text]")  # type: ignore[attr-defined]
    p.fill("#reply textarea[name=text]", "Hi Maria! Yes, it left our warehouse this morning.")  # type: ignore[attr-defined]
    p.click("#reply-text button[type=submit]")  # type: ignore[attr-defined]
    read_tick = p.wait_for_selector('.msg.out .tick[data-status="read"]')  # type: ignore[attr-defined]
    assert read_tick.get_attribute("title") == "read"
    assert "Anna Petrova" in p.inner_text(".msg.out .foot")  # type: ignore[attr-defined]
    server.inject("79161112233", "Great, thank you!", name="Maria")
    p.wait_for_selector('.msg.in >> text="Great, thank you!"')  # type: ignore[attr-defined]
    screenshot(p, "conversation")

    p.goto(f"{server.url}/dashboard/analytics")  # type: ignore[attr-defined]
    median = p.inner_text('tr[data-operator="anna"] td[data-metric="response_median"]')  # type: ignore[attr-defined]
    assert median not in ("", "—")
    assert median.endswith(" s") or " min" in median
    assert p.locator("svg.chart").count() == 2  # type: ignore[attr-defined]
    screenshot(p, "analytics")

    p.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    p.goto(f"{server.url}/")  # type: ignore[attr-defined]
    p.wait_for_selector('li[data-phone="79161112233"]')  # type: ignore[attr-defined]
    width = p.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390, "the inbox must fit a phone screen without sideways scrolling"
    screenshot(p, "inbox-phone")


def test_an_operator_of_another_tenant_sees_none_of_its_conversations(page: object, server: Server) -> None:
    server.inject("79267778899", "A private question", name="Secret")
    with server.api() as api:
        listed = api.get("/v1/conversations", params={"phone": "79267778899"}).json()["data"]
    conversation_id = listed[0]["id"]
    p: object = page
    sign_in(p, server, "olga")
    assert p.locator("li[data-phone]").count() == 0  # type: ignore[attr-defined]
    assert p.locator("[data-empty]").count() == 1  # type: ignore[attr-defined]
    response = p.goto(f"{server.url}/dashboard/conversations/{conversation_id}")  # type: ignore[attr-defined]
    assert response.status == 404
    assert "A private question" not in p.content()  # type: ignore[attr-defined]


def test_a_closed_window_offers_only_templates(page: object, server: Server) -> None:
    phone = "79998887766"
    with server.api() as api:
        patched = api.patch("/v1/channels/sandbox", json={"policy": {"service_window": True}})
        assert patched.status_code == 200, patched.text
        try:
            # The business writes first with a template: the client has never written, the window is closed.
            sent = api.post(
                "/v1/messages",
                json={
                    "to": phone,
                    "type": "template",
                    "template": {"name": "hello_world", "language": "en_US"},
                    "operator": "anna",
                },
            )
            assert sent.status_code == 202, sent.text
            conversation_id = api.get("/v1/conversations", params={"phone": phone}).json()["data"][0]["id"]
            p: object = page
            sign_in(p, server, "anna")
            p.goto(f"{server.url}/dashboard/conversations/{conversation_id}")  # type: ignore[attr-defined]
            p.wait_for_selector('#reply [data-window="closed"]')  # type: ignore[attr-defined]
            assert p.locator("#reply textarea[name=text]").count() == 0  # type: ignore[attr-defined]
            options = p.locator("#template-select option").all_inner_texts()  # type: ignore[attr-defined]
            assert any(o.startswith("order_update") for o in options), options
            value = p.locator("#template-select option", has_text="order_update (en").first.get_attribute("value")  # type: ignore[attr-defined]
            p.select_option("#template-select", value)  # type: ignore[attr-defined]
            inputs = p.locator(f'[data-template-params="{value}"] input[name=param]')  # type: ignore[attr-defined]
            assert inputs.count() == 2
            inputs.nth(0).fill("Maria")
            inputs.nth(1).fill("5512")
            p.click("#reply-template button[type=submit]")  # type: ignore[attr-defined]
            sent_template = p.wait_for_selector('.msg.out:has-text("5512")')  # type: ignore[attr-defined]
            assert "order_update" in sent_template.inner_text()
            p.wait_for_selector('.msg.out:has-text("5512") .tick[data-status="read"]')  # type: ignore[attr-defined]
            screenshot(p, "closed-window", for_docs=False)
        finally:
            api.patch("/v1/channels/sandbox", json={"policy": {"service_window": False}})


def test_the_two_pane_inbox_keeps_the_reply_in_view_and_answers_keys(page: object, server: Server) -> None:
    p: object = page
    for n in range(25):
        server.inject("79260000001", f"Line {n} of a long question", name="Pavel")
    server.inject("79260000002", "A second client", name="Sofia")
    sign_in(p, server, "anna")
    assert p.locator("[data-pane-empty]").is_visible()  # type: ignore[attr-defined]
    p.click('li[data-phone="79260000001"] a')  # type: ignore[attr-defined]
    p.wait_for_selector('#inbox li.current[data-phone="79260000001"]')  # type: ignore[attr-defined]
    assert p.locator("#inbox").is_visible()  # type: ignore[attr-defined]  # the list stays on the left
    assert p.locator('.day-sep[data-day="Today"]').count() == 1  # type: ignore[attr-defined]
    box = p.locator("#reply textarea[name=text]").bounding_box()  # type: ignore[attr-defined]
    assert box is not None and box["y"] + box["height"] <= 820, "the reply box must be in view"
    p.keyboard.press("r")  # type: ignore[attr-defined]
    assert p.evaluate("document.activeElement.name") == "text"  # type: ignore[attr-defined]
    p.keyboard.press("Escape")  # type: ignore[attr-defined]
    p.evaluate("document.activeElement.blur()")  # type: ignore[attr-defined]
    first = p.get_attribute(".conversation", "data-conversation")  # type: ignore[attr-defined]
    p.keyboard.press("j")  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        f"document.querySelector('.conversation') && document.querySelector('.conversation')"
        f".getAttribute('data-conversation') !== '{first}'"
    )
    p.wait_for_selector("#inbox li.current")  # type: ignore[attr-defined]
    p.keyboard.press("k")  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        f"document.querySelector('.conversation') && document.querySelector('.conversation')"
        f".getAttribute('data-conversation') === '{first}'"
    )
    screenshot(p, "conversation-two-pane", for_docs=False)
    p.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    assert not p.locator("#inbox").is_visible()  # type: ignore[attr-defined]  # one pane on a phone
    assert p.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
