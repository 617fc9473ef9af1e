"""``/docs`` renders every operation in Chromium with the network cut: no asset comes from outside."""

from __future__ import annotations

import pytest

from tests.e2e.test_dashboard_browser import CHROMIUM_ARGS, chromium_path

pytestmark = pytest.mark.slow


def test_docs_render_the_operations_without_internet(served_sqlite: str) -> None:
    from playwright.sync_api import Route, sync_playwright

    outside: list[str] = []

    def only_the_gateway(route: Route) -> None:
        if route.request.url.startswith(served_sqlite):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", only_the_gateway)
            page.goto(f"{served_sqlite}/docs", timeout=30_000)
            page.wait_for_selector(".opblock", timeout=30_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            title = page.locator(".info .title").inner_text()
        finally:
            browser.close()
    assert outside == []
    assert "wagate" in title
    assert len(paths) > 80
    assert any(p.replace("\u200b", "") == "/v1/messages" for p in paths)
