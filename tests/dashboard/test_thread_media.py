"""Media in the thread: raster thumbnails, documents with name and size (caption once), players,
locations as a map link, contact cards; an SVG "image" stays a download link."""

from __future__ import annotations

import re

from tests.dashboard.conftest import Desk
from wagate.services import media as media_service

PHONE = "79001234567"


async def test_the_thread_renders_each_kind_of_media_properly(desk_sqlite: Desk) -> None:
    desk = desk_sqlite
    settings = desk.rt.settings
    tenant = await desk.tenant()

    async def stored(content: bytes, mime: str) -> str:
        return media_service.media_url(settings, (await media_service.store(settings, tenant.id, content, mime)).name)

    photo = await stored(b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")
    pdf = await stored(b"%PDF-1.4 " + b"x" * 3000, "application/pdf")
    voice = await stored(b"OggS" + b"0" * 50, "audio/ogg")
    svg = await stored(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml")
    await desk.inbound(PHONE, "", type="image", media={"url": photo, "mime_type": "image/png", "caption": "my cat"})
    doc = {"url": pdf, "mime_type": "application/pdf", "filename": "invoice-42.pdf", "caption": "Your invoice"}
    await desk.inbound(PHONE, "", type="document", media=doc)
    await desk.inbound(PHONE, "", type="audio", media={"url": voice, "mime_type": "audio/ogg"})
    await desk.inbound(PHONE, "", type="image", media={"url": svg, "mime_type": "image/svg+xml"})
    place = {"latitude": 55.7539, "longitude": 37.6208, "name": "Red Square", "address": "Moscow"}
    await desk.inbound(PHONE, "", type="location", location=place)
    card = {"name": {"formatted_name": "Ivan Petrov"}, "phones": [{"phone": "+79161234567", "type": "CELL"}]}
    await desk.inbound(PHONE, "", type="contacts", contacts=[card])
    await desk.user("anna")
    session = await desk.sign_in("anna")
    cid = (await desk.client.get("/v1/conversations")).json()["data"][0]["id"]
    thread = (await session.get(f"/dashboard/conversations/{cid}/thread", htmx=True)).text

    photo_name = photo.rsplit("/", 1)[-1]
    assert f'<img src="/dashboard/media/{photo_name}" class="thumb" alt="my cat"' in thread
    assert thread.count("Your invoice") == 1  # the caption once, as the message's text
    assert re.search(r"data-file-name>invoice-42\.pdf</a>", thread)
    assert 'data-file-size="3009"' in thread and "3 KB" in thread
    assert '<audio controls preload="none" src="/dashboard/media/' in thread
    svg_name = svg.rsplit("/", 1)[-1]
    assert f'<img src="/dashboard/media/{svg_name}"' not in thread  # never embedded: a download link
    assert f'href="/dashboard/media/{svg_name}" download' in thread
    assert (
        'href="https://www.openstreetmap.org/?mlat=55.753900&amp;mlon=37.620800#map=16/55.753900/37.620800"' in thread
    )
    assert "Red Square" in thread
    assert "Ivan Petrov" in thread and 'href="tel:+79161234567"' in thread


async def test_a_location_without_real_coordinates_gets_no_link(desk_sqlite: Desk) -> None:
    await desk_sqlite.inbound(PHONE, "", type="location", location={"latitude": "javascript:alert(1)", "longitude": 1})
    await desk_sqlite.user("anna")
    session = await desk_sqlite.sign_in("anna")
    cid = (await desk_sqlite.client.get("/v1/conversations")).json()["data"][0]["id"]
    thread = (await session.get(f"/dashboard/conversations/{cid}/thread", htmx=True)).text
    assert "data-location" not in thread and "javascript:" not in thread
