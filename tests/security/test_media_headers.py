"""Files customers send are served inert; every page carries a strict policy.

A customer's HTML or SVG opened from the dashboard's origin would run their script with the
signed-in user's rights. These tests read the headers a browser acts on; the browser itself
is exercised in ``tests/e2e/test_media_xss_browser.py``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.dashboard.conftest import Desk
from wagate.api import browser_safety
from wagate.services import media as media_service

HTML = b"<html><body><script>fetch('/dashboard/users',{method:'POST'})</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)
ACTIVE = [
    ("text/html", HTML),
    ("image/svg+xml", SVG),
    ("application/xhtml+xml", HTML),
    ("text/xml", SVG),
    ("application/javascript", b"alert(1)"),
    ("application/pdf", b"%PDF-1.4"),
    ("application/x-unknown-thing", HTML),
]


def assert_inert(response: httpx.Response, *, inline: bool) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("inline" if inline else "attachment"), disposition


async def stored_inbound(desk: Desk, mime: str, content: bytes, message_type: str = "document") -> str:
    tenant = await desk.tenant()
    stored = await media_service.store(desk.rt.settings, tenant.id, content, mime, "file")
    url = media_service.media_url(desk.rt.settings, stored.name)
    await desk.inbound("79001112233", "", type=message_type, media={"url": url, "mime_type": mime})
    return stored.name


async def test_active_media_is_a_sandboxed_download_on_the_dashboard_and_the_api(desk_sqlite: Desk) -> None:
    await desk_sqlite.user("admin1", role="admin")
    session = await desk_sqlite.sign_in("admin1")
    for mime, content in ACTIVE:
        name = await stored_inbound(desk_sqlite, mime, content)
        assert_inert(await session.get(f"/dashboard/media/{name}"), inline=False)
        assert_inert(await desk_sqlite.client.get(f"/v1/media/{name}"), inline=False)


async def test_a_raster_image_is_shown_inline_but_still_sandboxed(desk_sqlite: Desk) -> None:
    name = await stored_inbound(desk_sqlite, "image/png", PNG, "image")
    await desk_sqlite.user("op", role="operator")
    session = await desk_sqlite.sign_in("op")
    response = await session.get(f"/dashboard/media/{name}")
    assert_inert(response, inline=True)
    assert response.headers["content-type"] == "image/png"


async def test_the_thread_embeds_only_raster_images_and_links_other_files_as_downloads(desk_sqlite: Desk) -> None:
    svg = await stored_inbound(desk_sqlite, "image/svg+xml", SVG, "image")
    png = await stored_inbound(desk_sqlite, "image/png", PNG, "image")
    html = await stored_inbound(desk_sqlite, "text/html", HTML, "document")
    await desk_sqlite.user("op", role="operator")
    session = await desk_sqlite.sign_in("op")
    listed = (await desk_sqlite.client.get("/v1/conversations")).json()["data"]
    page = await session.get(f"/dashboard/conversations/{listed[0]['id']}")
    assert page.status_code == 200, page.text
    assert f'<img src="/dashboard/media/{png}"' in page.text
    assert f'<img src="/dashboard/media/{svg}"' not in page.text
    assert f'<a href="/dashboard/media/{svg}" download' in page.text
    assert f'<a href="/dashboard/media/{html}" download' in page.text


async def test_a_media_link_that_is_not_a_web_address_is_not_a_link(desk_sqlite: Desk) -> None:
    await desk_sqlite.inbound(
        "79001112244", "", type="document", media={"url": "javascript:alert(1)", "filename": "x.pdf"}
    )
    await desk_sqlite.user("op", role="operator")
    session = await desk_sqlite.sign_in("op")
    listed = (await desk_sqlite.client.get("/v1/conversations")).json()["data"]
    page = await session.get(f"/dashboard/conversations/{listed[0]['id']}")
    assert "javascript:" not in page.text


@pytest.mark.parametrize("path", ["/", "/dashboard/login", "/dashboard/no-such-page", "/dashboard/static/dashboard.js"])
async def test_every_dashboard_response_carries_the_strict_policy(desk_sqlite: Desk, path: str) -> None:
    response = await desk_sqlite.browser().get(path)
    policy = response.headers["content-security-policy"]
    assert policy == browser_safety.DASHBOARD_CSP
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_dashboard_pages_have_no_inline_script_or_style(desk_sqlite: Desk) -> None:
    await desk_sqlite.inbound("79001112255", "hello")
    await desk_sqlite.user("op", role="operator")
    session = await desk_sqlite.sign_in("op")
    listed = (await desk_sqlite.client.get("/v1/conversations")).json()["data"]
    for path in ("/", f"/dashboard/conversations/{listed[0]['id']}", "/dashboard/analytics", "/dashboard/login"):
        html = (await session.get(path)).text
        assert "<script>" not in html and "<style" not in html and " style=" not in html, path
        assert " onclick=" not in html and " onload=" not in html, path


async def test_the_optin_page_allows_no_script_and_no_inline_style(desk_sqlite: Desk) -> None:
    response = await desk_sqlite.browser().get("/optin/default")
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "script-src" not in policy and "default-src 'none'" in policy
    assert "<style" not in response.text
    sheet = await desk_sqlite.browser().get("/optin/static/optin.css")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
