"""One outbound policy for media fetches and webhooks: every bypass form of the finding is refused.

The finding: only an IP-literal host of the first URL was checked, so a redirect, a decimal
(``2852039166``) or hex (``0xA9FEA9FE``) address, ``[::ffff:169.254.169.254]`` and
``metadata.google.internal`` all reached the metadata service. Names are resolved by the
system resolver (glibc reads the numeric forms itself, no network needed).
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, RedirectResponse

from tests.channels.cloud.live import serve
from tests.conftest import free_port
from wagate.channels.base import ChannelConfig
from wagate.channels.cloud.channel import CloudChannel
from wagate.errors import SendError
from wagate.outbound import GuardedResolver, OutboundPolicy, OutboundRefused, fetch, guarded_transport
from wagate.webhooks.sender import RESPONSE_EXCERPT, excerpt

STRICT = OutboundPolicy()
OPEN = OutboundPolicy(allow_private=True, allow_loopback=True)

ALWAYS_REFUSED = [
    "169.254.169.254",
    "169.254.170.2",
    "fe80::1",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "2002:a9fe:a9fe::1",  # 6to4 around the metadata address
    "64:ff9b::a9fe:a9fe",  # NAT64
    "fd00:ec2::254",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "255.255.255.255",
]


@pytest.mark.parametrize("address", ALWAYS_REFUSED)
def test_link_local_metadata_and_unroutable_addresses_are_refused_even_when_private_is_allowed(address: str) -> None:
    assert OPEN.refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_only_where_the_use_allows_it(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert STRICT.refusal(ip) is not None
    assert OutboundPolicy(allow_private=True).refusal(ip) is not None
    assert OutboundPolicy(allow_loopback=True).refusal(ip) is None


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.10", "172.16.5.4", "100.64.0.1", "fd12::1"])
def test_private_ranges_only_where_the_use_allows_them(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert STRICT.refusal(ip) is not None
    assert OutboundPolicy(allow_private=True).refusal(ip) is None


def test_public_addresses_are_allowed() -> None:
    assert STRICT.refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert STRICT.refusal(ipaddress.ip_address("2606:2800:220:1::1")) is None


@pytest.mark.parametrize(
    "host", ["2852039166", "0xA9FEA9FE", "0251.0376.0251.0376", "169.254.43518", "metadata.google.internal"]
)
async def test_numeric_spellings_and_metadata_names_are_refused_when_resolved(host: str) -> None:
    with pytest.raises(OutboundRefused):
        await OPEN.resolve(host, 80)
    with pytest.raises(OutboundRefused):
        await GuardedResolver(OPEN).resolve(host, 80)


@pytest.mark.parametrize("host", ["127.1", "localhost", "2130706433", "0x7f000001"])
async def test_loopback_spellings_are_refused_for_media(host: str) -> None:
    with pytest.raises(OutboundRefused):
        await STRICT.resolve(host, 80)


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://169.254.169.254/latest",
        "http://metadata.google.internal/computeMetadata/v1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
    ],
)
def test_urls_are_checked_before_any_connection(url: str) -> None:
    with pytest.raises(OutboundRefused):
        OPEN.check_url(url)


@pytest.fixture
async def redirector() -> AsyncIterator[str]:
    """A loopback server whose answers redirect elsewhere (each hop must be judged again)."""
    app = FastAPI()

    @app.get("/to")
    async def to(target: str) -> RedirectResponse:
        return RedirectResponse(target, status_code=302)

    @app.get("/file")
    async def file() -> PlainTextResponse:
        return PlainTextResponse("file bytes")

    async with serve(app, free_port()) as url:
        yield url


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest", "http://2852039166/latest", "http://[::ffff:a9fe:a9fe]/x"]
)
async def test_a_redirect_to_a_refused_address_is_not_followed(redirector: str, target: str) -> None:
    policy = OutboundPolicy(allow_loopback=True)  # the first hop (loopback) is allowed on purpose
    async with httpx.AsyncClient(transport=guarded_transport(policy), follow_redirects=False) as client:
        with pytest.raises((OutboundRefused, httpx.ConnectError)):
            await fetch(client, f"{redirector}/to?target={target}", policy, max_bytes=1000)


async def test_an_allowed_redirect_is_followed_and_the_size_is_capped(redirector: str) -> None:
    policy = OutboundPolicy(allow_loopback=True)
    async with httpx.AsyncClient(transport=guarded_transport(policy), follow_redirects=False) as client:
        status, body, _type = await fetch(client, f"{redirector}/to?target={redirector}/file", policy, max_bytes=100)
        assert (status, body) == (200, b"file bytes")
        with pytest.raises(ValueError, match="larger than"):
            await fetch(client, f"{redirector}/file", policy, max_bytes=3)


async def test_the_cloud_channel_refuses_a_media_url_on_loopback_by_default(redirector: str) -> None:
    config = ChannelConfig(
        id=1, tenant_id=1, name="c", kind="cloud", settings={"phone_number_id": "1", "access_token": "t"}
    )
    channel = CloudChannel(config, None)
    await channel.start()
    try:
        for url in (f"{redirector}/file", "http://0xA9FEA9FE/latest", "http://127.1/"):
            with pytest.raises(SendError) as caught:
                await channel._fetch(url, 1000, "document")
            assert caught.value.code == "media_url_refused", (url, caught.value.message)
    finally:
        await channel.close()


def test_the_delivery_log_keeps_a_short_text_excerpt_only() -> None:
    assert excerpt("text/plain", b"x" * 5000) == "x" * RESPONSE_EXCERPT
    assert excerpt("application/json; charset=utf-8", b'{"ok":true}') == '{"ok":true}'
    assert excerpt("application/octet-stream", b"\x00secret") == "(7 bytes of application/octet-stream)"
    assert excerpt("text/html", b"") is None
    assert "\x00" not in (excerpt("text/plain", b"a\x00b") or "")
