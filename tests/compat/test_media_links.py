"""Media links handed to a CRM open as plain URLs: signed, expiring, refused when tampered with.

Replayed as a CRM does it: take the link from the answer (WAMM ``msg_link``, Devino
``contentUrl``, the events feed) and GET it with no headers at all.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.compat.conftest import Compat
from tests.webhooks.conftest import Hooks, eventually, hook_settings, hooks  # noqa: F401  (fixtures)
from tests.webhooks.receiver import Receiver
from wagate.services import media as media_service
from wagate.services.inbound import record_inbound

pytestmark = pytest.mark.asyncio

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


async def inbound_photo(rt: object, client: httpx.AsyncClient, channel_name: str = "main") -> str:
    """A customer's photo as the cloud channel stores one: the file kept, the message pointing at it."""
    from wagate.runtime import Runtime

    assert isinstance(rt, Runtime)
    stored = await media_service.store(rt.settings, 1, JPEG, "image/jpeg")
    url = media_service.media_url(rt.settings, stored.name)
    channel = (await rt.channels_of(1, fresh=True))[channel_name]
    await record_inbound(
        rt,
        channel,
        phone="79001234567",
        type="image",
        payload={"media": {"url": url, "mime_type": "image/jpeg", "caption": "чек"}},
        provider_id="wamid.PHOTO",
    )
    return url


async def fetch_without_headers(client: httpx.AsyncClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    request = client.build_request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
    del request.headers["Authorization"]
    return await client.send(request)


async def test_wamm_msg_link_opens_without_headers(compat: Compat) -> None:
    plain = await inbound_photo(compat.rt, compat.client)
    [record] = (await compat.api2("msg_get_last", col="1")).json()["msg_data"]
    link = record["msg_link"]
    assert link.startswith(plain + "?") and {"exp", "sig"} <= set(parse_qs(urlsplit(link).query))
    response = await fetch_without_headers(compat.client, link)
    assert response.status_code == 200 and response.content == JPEG


async def test_a_tampered_or_expired_link_is_403(compat_sqlite: Compat) -> None:
    c = compat_sqlite
    await inbound_photo(c.rt, c.client)
    link = (await c.api2("msg_get_last", col="1")).json()["msg_data"][0]["msg_link"]
    query = parse_qs(urlsplit(link).query)
    base = link.split("?", 1)[0]
    later = int(query["exp"][0]) + 3600
    for forged in (
        f"{base}?t={query['t'][0]}&exp={later}&sig={query['sig'][0]}",
        f"{base}?t=2&exp={query['exp'][0]}&sig={query['sig'][0]}",
        f"{base}?t={query['t'][0]}&exp={query['exp'][0]}&sig=AAAA{query['sig'][0][4:]}",
        f"{base}?exp={query['exp'][0]}",
    ):
        response = await fetch_without_headers(c.client, forged)
        assert response.status_code == 403, forged
        assert response.json()["error"]["code"] == "link_invalid"
    c.clock.advance(timedelta(days=7, seconds=1).total_seconds())
    assert (await fetch_without_headers(c.client, link)).status_code == 403


async def test_the_bearer_form_keeps_working_and_a_plain_link_without_it_is_401(compat_sqlite: Compat) -> None:
    plain = await inbound_photo(compat_sqlite.rt, compat_sqlite.client)
    path = urlsplit(plain).path
    assert (await compat_sqlite.client.get(path)).content == JPEG
    assert (await fetch_without_headers(compat_sqlite.client, plain)).status_code == 401


async def test_the_link_lifetime_is_configurable(compat_sqlite: Compat) -> None:
    compat_sqlite.rt.settings.media_link_ttl_seconds = 60
    await inbound_photo(compat_sqlite.rt, compat_sqlite.client)
    link = (await compat_sqlite.api2("msg_get_last", col="1")).json()["msg_data"][0]["msg_link"]
    compat_sqlite.clock.advance(59)
    assert (await fetch_without_headers(compat_sqlite.client, link)).status_code == 200
    compat_sqlite.clock.advance(2)
    assert (await fetch_without_headers(compat_sqlite.client, link)).status_code == 403


async def test_devino_content_url_and_the_events_feed_carry_signed_links(hooks: Hooks) -> None:  # noqa: F811
    receiver = await Receiver().start()
    try:
        await hooks.subscribe(receiver.url, ["message.received"], fmt="devino")
        native, _secret = await hooks.subscribe(receiver.url + "?native", ["message.received"])
        plain = await inbound_photo(hooks.rt, hooks.client)
        await eventually(lambda: len(receiver.delivered()) == 2, what="the incoming message in both formats")
        bodies = {("native" if "data" in item.json else "devino"): item.json for item in receiver.delivered()}
        links = [
            bodies["devino"]["contentUrl"],
            bodies["native"]["data"]["content"]["media"]["url"],
        ]
        feed = (await hooks.client.get("/v1/events", params={"types": "message.received"})).json()["data"]
        links.append(feed[0]["data"]["content"]["media"]["url"])
        for link in links:
            assert link.startswith(plain + "?"), link
            response = await fetch_without_headers(hooks.client, link)
            assert response.status_code == 200 and response.content == JPEG
        assert native
    finally:
        await receiver.stop()
