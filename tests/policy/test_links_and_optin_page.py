"""Click-to-chat links with QR codes, and the public opt-in page with its CSRF-safe form."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.policy.conftest import Gateway

pytestmark = pytest.mark.asyncio

UA = "Mozilla/5.0 (Linux; Android 14) Mobile"


# ---------------------------------------------------------------- click-to-chat


async def test_click_to_chat_gives_a_wa_me_link_and_qr_codes(gw: Gateway) -> None:
    response = await gw.client.get(
        "/v1/links/click-to-chat", params={"phone": "+7 900 123-45-67", "text": "Hi! Заказ #5"}
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["url"] == "https://wa.me/79001234567?text=Hi%21%20%D0%97%D0%B0%D0%BA%D0%B0%D0%B7%20%235"
    assert data["qr"]["svg"].startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in data["qr"]["svg"]
    assert data["qr"]["png"].startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("fmt", "media_type", "magic"), [("png", "image/png", b"\x89PNG"), ("svg", "image/svg+xml", b"<svg")]
)
async def test_click_to_chat_qr_as_an_image(gw: Gateway, fmt: str, media_type: str, magic: bytes) -> None:
    response = await gw.client.get("/v1/links/click-to-chat", params={"phone": "79001234567", "format": fmt})
    assert response.headers["content-type"].startswith(media_type)
    assert response.content.startswith(magic)


async def test_click_to_chat_uses_the_channels_own_number(gw: Gateway) -> None:
    missing = await gw.client.get("/v1/links/click-to-chat")
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "phone"
    await gw.client.patch("/v1/channels/main", json={"settings": {"phone": "+7 (495) 646-00-54"}})
    assert (await gw.client.get("/v1/links/click-to-chat")).json()["url"] == "https://wa.me/74956460054"


async def test_optin_link_comes_with_qr_and_button(gw: Gateway) -> None:
    data = (await gw.client.get("/v1/links/optin", params={"lang": "ru"})).json()
    assert data["url"] == "http://127.0.0.1:8080/optin/default"
    assert data["qr_url"] == "http://127.0.0.1:8080/optin/default?src=qr"
    assert 'href="http://127.0.0.1:8080/optin/default"' in data["button_html"]
    assert "Получать уведомления в WhatsApp" in data["button_html"]
    assert "<script" not in data["button_html"]


# ---------------------------------------------------------------- the opt-in page


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


async def open_form(client: httpx.AsyncClient, query: str = "") -> tuple[httpx.Response, str]:
    page = await client.get(f"/optin/default{query}", headers={"User-Agent": UA})
    assert page.status_code == 200, page.text
    return page, csrf_of(page.text)


@pytest.fixture
async def visitor(gw: Gateway) -> Any:
    """A browser without the API token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://wagate.test") as client:
        yield client


async def test_the_page_explains_and_offers_the_notification_types(gw: Gateway, visitor: httpx.AsyncClient) -> None:
    page, _csrf = await open_form(visitor)
    html = page.text
    assert page.headers["content-type"].startswith("text/html")
    assert '<meta name="viewport"' in html
    assert "<script" not in html and "src=" not in html  # no CDN, nothing external
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="stylesheet" href="/optin/static/optin.css">']
    assert "Что вы хотите получать?" in html  # the tenant's region is RU
    assert html.count('type="checkbox" name="scopes"') == 3
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    english = await visitor.get("/optin/default", params={"lang": "en"})
    assert "What would you like to receive?" in english.text


async def test_submitting_records_consent_with_evidence(gw: Gateway, visitor: httpx.AsyncClient) -> None:
    _page, csrf = await open_form(visitor)
    response = await visitor.post(
        "/optin/default",
        data={
            "csrf": csrf,
            "lang": "ru",
            "src": "web_form",
            "phone": "8 (900) 123-45-67",
            "scopes": ["utility", "marketing"],
            "agree": "yes",
        },
        headers={"User-Agent": UA},
    )
    assert response.status_code == 200, response.text
    assert "Вы подписаны" in response.text
    consent = (await gw.client.get("/v1/consents/79001234567")).json()
    assert (consent["status"], consent["source"], consent["scopes"]) == ("active", "web_form", ["marketing", "utility"])
    evidence = consent["evidence"]
    assert evidence["user_agent"] == UA
    assert evidence["ip"] == "127.0.0.1"
    assert evidence["at"] == "2026-01-01T12:00:00+00:00"
    assert evidence["form_version"] == "1" and len(evidence["form_text_sha256"]) == 64
    assert consent["history"][0]["via"] == "optin_page"


async def test_a_qr_visit_is_recorded_as_qr(gw: Gateway, visitor: httpx.AsyncClient) -> None:
    _page, csrf = await open_form(visitor, "?src=qr")
    await visitor.post(
        "/optin/default",
        data={"csrf": csrf, "lang": "en", "src": "qr", "phone": "+79001234567", "scopes": ["utility"], "agree": "yes"},
    )
    assert (await gw.client.get("/v1/consents/79001234567")).json()["source"] == "qr"


async def test_a_post_without_the_cookie_is_refused(gw: Gateway, visitor: httpx.AsyncClient) -> None:
    _page, csrf = await open_form(visitor)
    visitor.cookies.clear()
    form = {"csrf": csrf, "lang": "en", "phone": "+79001234567", "scopes": ["utility"], "agree": "yes"}
    assert (await visitor.post("/optin/default", data=form)).status_code == 403
    assert (await gw.client.get("/v1/consents/79001234567")).status_code == 404


async def test_a_forged_or_expired_token_is_refused(gw: Gateway, visitor: httpx.AsyncClient) -> None:
    _page, csrf = await open_form(visitor)
    form = {"lang": "en", "phone": "+79001234567", "scopes": ["utility"], "agree": "yes"}
    forged = '{"t": "default", "n": "x", "i": 0}'
    assert (await visitor.post("/optin/default", data={**form, "csrf": forged})).status_code == 403
    gw.clock.advance(2 * 3600 + 1)
    assert (await visitor.post("/optin/default", data={**form, "csrf": csrf})).status_code == 403
    assert (await gw.client.get("/v1/consents/79001234567")).status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "+79001234567", "agree": "yes"}, "Please choose at least one type"),
        ({"phone": "+79001234567", "scopes": ["utility"]}, "Please confirm that you agree"),
        ({"phone": "12", "scopes": ["utility"], "agree": "yes"}, "Please enter a valid phone number"),
        ({"phone": "+79001234567", "scopes": ["made_up"], "agree": "yes"}, "Please choose at least one type"),
    ],
)
async def test_an_incomplete_form_is_shown_again(
    gw: Gateway, visitor: httpx.AsyncClient, fields: dict[str, Any], message: str
) -> None:
    _page, csrf = await open_form(visitor)
    response = await visitor.post("/optin/default", data={"csrf": csrf, "lang": "en", **fields})
    assert response.status_code == 422
    assert message in response.text
    assert csrf_of(response.text)  # a fresh token to try again with
    assert (await gw.client.get("/v1/consents/79001234567")).status_code == 404


async def test_unknown_or_disabled_tenant_has_no_page(gw: Gateway, visitor: httpx.AsyncClient) -> None:
    assert (await visitor.get("/optin/nobody")).status_code == 404
    await gw.client.patch("/v1/policy", json={"optin": {"enabled": False}})
    assert (await visitor.get("/optin/default")).status_code == 404


async def test_the_tenant_configures_the_page(gw: Gateway, visitor: httpx.AsyncClient) -> None:
    response = await gw.client.patch(
        "/v1/policy",
        json={
            "optin": {
                "company": "Пекарня «Утро»",
                "business_phone": "+7 900 000-11-22",
                "text_version": "2026-01",
                "scopes": [{"id": "bread", "label": {"ru": "Свежий хлеб", "en": "Fresh bread"}}],
            }
        },
    )
    assert response.status_code == 200, response.text
    page, csrf = await open_form(visitor)
    assert "Пекарня «Утро»" in page.text and "Свежий хлеб" in page.text
    done = await visitor.post(
        "/optin/default",
        data={"csrf": csrf, "lang": "ru", "phone": "+79001234567", "scopes": ["bread"], "agree": "yes"},
    )
    assert 'href="https://wa.me/79000001122"' in done.text
    consent = (await gw.client.get("/v1/consents/79001234567")).json()
    assert consent["scopes"] == ["bread"] and consent["evidence"]["form_version"] == "2026-01"


async def test_the_page_works_over_real_http(gw: Gateway) -> None:
    """A phone's browser against a real server socket: cookie round trip, form post, consent stored."""
    import asyncio

    import uvicorn

    from tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(gw.app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # up to 5 s for the socket to listen
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"User-Agent": UA}) as phone:
            page = await phone.get("/optin/default?src=qr")
            assert page.status_code == 200 and "wagate_optin" in page.headers["set-cookie"]
            done = await phone.post(
                "/optin/default",
                data={
                    "csrf": csrf_of(page.text),
                    "lang": "ru",
                    "src": "qr",
                    "phone": "+7 900 123-45-67",
                    "scopes": "utility",
                    "agree": "yes",
                },
            )
            assert done.status_code == 200, done.text
    finally:
        server.should_exit = True
        await task
    consent = (await gw.client.get("/v1/consents/79001234567")).json()
    assert (consent["source"], consent["evidence"]["user_agent"]) == ("qr", UA)
