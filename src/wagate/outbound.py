"""One policy for every request the gateway makes to a URL someone else chose.

Media URLs (fetched so they can be uploaded to Meta) and webhook targets (subscriptions and
per-message ``callback_url``) are chosen by API callers, so a request to them must not reach
what only the gateway's host can reach. The policy judges the *addresses a name resolves to*,
at connection time (so a name that resolves differently a second later — DNS rebinding — is
judged again), not the spelling of the URL:

* always refused: link-local (169.254.0.0/16, fe80::/10 — cloud metadata services live there),
  known metadata addresses and names, unspecified, multicast, broadcast and reserved ranges,
  and any IPv4 address hidden in an IPv6 one (``::ffff:169.254.169.254``, 6to4, Teredo, NAT64)
  is judged as that IPv4 address. Decimal (``2852039166``), hex (``0xA9FEA9FE``) and short
  (``127.1``) forms resolve to the same addresses and are judged as such;
* private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and loopback (127/8, ::1):
  refused unless the use allows them. Webhooks (``WAGATE_WEBHOOK_ALLOW_PRIVATE``, default on)
  may reach both: a self-hosted gateway's CRM often runs on the same host or network and only
  admins and API tokens of the tenant choose the targets. Media fetches may reach private
  ranges (``WAGATE_MEDIA_ALLOW_PRIVATE``, default on: files on an intranet server are what
  ``upload_media: auto`` exists for) but not loopback (``WAGATE_MEDIA_ALLOW_LOOPBACK``, default
  off: the gateway's own host runs its database, admin tools and the gateway itself, and a
  fetched file is forwarded to a recipient);
* every name's addresses are all checked: one refused address refuses the name.

Redirects are not followed by the webhook sender; the media fetcher follows at most
``MAX_REDIRECTS``, each hop judged again by the same connection-time check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 3
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(OSError):
    """The policy refuses this destination (an ``OSError``, so HTTP clients report a failed connect)."""


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Whether private and loopback addresses may be reached (link-local and metadata: never)."""

    allow_private: bool = False
    allow_loopback: bool = False

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or ``None`` if it may."""
        embedded = _embedded_v4(address)
        if embedded is not None:
            return self.refusal(embedded)
        if address in METADATA_ADDRESSES or address.is_link_local:
            return "link-local / metadata address"
        if address.is_loopback:
            return None if self.allow_loopback else "loopback address"
        if address.is_unspecified or address.is_multicast or address.is_reserved or address in THIS_NETWORK:
            return "unroutable address"
        if isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address("255.255.255.255"):
            return "broadcast address"
        if address.is_private or address in CGNAT:
            return None if self.allow_private else "private address"
        if not address.is_global:
            return "non-public address"
        return None

    def check_addresses(self, host: str, addresses: Iterable[str]) -> list[str]:
        """All of ``addresses`` (those ``host`` resolved to) if every one is allowed, else refused."""
        found = list(addresses)
        if not found:
            raise OutboundRefused(f"{host} resolves to no address")
        for text in found:
            reason = self.refusal(ipaddress.ip_address(text.split("%", 1)[0]))
            if reason is not None:
                raise OutboundRefused(f"{host} resolves to {text}: {reason} refused by the outbound policy")
        return found

    def check_host_name(self, host: str) -> None:
        name = host.strip("[]").rstrip(".").lower()
        if name in METADATA_NAMES:
            raise OutboundRefused(f"{host} is a cloud metadata service name")

    def check_url(self, url: str) -> None:
        """Scheme and literal host of ``url`` (names are judged when resolved, at connect time)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise OutboundRefused(f"only http(s) URLs may be fetched, not {parts.scheme or 'none'}")
        host = parts.hostname or ""
        if not host:
            raise OutboundRefused("the URL has no host")
        self.check_host_name(host)
        literal = _literal(host)
        if literal is not None:
            reason = self.refusal(literal)
            if reason is not None:
                raise OutboundRefused(f"{host}: {reason} refused by the outbound policy")

    async def resolve(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and check every address; the checked addresses, for connecting to."""
        self.check_host_name(host)
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve {host}: {exc}") from exc
        return self.check_addresses(host, dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    packed = address.packed
    if packed[:12] == bytes(12) and int(address) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed[12:])
    return None


# -- aiohttp (the webhook sender) ---------------------------------------------------------------


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver with every answer checked; IP-literal hosts skip resolvers, so callers
    also run ``OutboundPolicy.check_url`` before the request."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.policy.check_host_name(host)
        results = await self._inner.resolve(host, port, family)
        self.policy.check_addresses(host, [r["host"] for r in results])
        return results

    async def close(self) -> None:
        await self._inner.close()


# -- httpx (the media fetcher) -------------------------------------------------------------------


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, resolving the name itself (TLS still
    verifies the certificate against the name, which httpcore passes to ``start_tls``)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = _literal(host)
        if literal is not None:
            reason = self.policy.refusal(literal)
            if reason is not None:
                raise httpcore.ConnectError(f"{host}: {reason} refused by the outbound policy")
            addresses = [str(literal)]
        else:
            try:
                addresses = await self.policy.resolve(host, port)
            except OSError as exc:
                raise httpcore.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise httpcore.ConnectError(str(last) if last else f"cannot connect to {host}")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not outbound destinations")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(policy: OutboundPolicy) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection is judged by ``policy``."""
    transport = httpx.AsyncHTTPTransport()
    # httpx builds its pool without a way to pass a network backend; this is the pool it would
    # build (same TLS context), with the guarded backend.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=GuardedNetworkBackend(policy),
    )
    return transport


async def fetch(
    client: httpx.AsyncClient, url: str, policy: OutboundPolicy, *, max_bytes: int
) -> tuple[int, bytes, str | None]:
    """GET ``url`` with ``client`` (built on ``guarded_transport``, redirects off): each redirect
    hop is checked and followed by hand, at most ``MAX_REDIRECTS``; the body is read up to
    ``max_bytes`` (``ValueError`` beyond). Returns (status, body, content type)."""
    for _hop in range(MAX_REDIRECTS + 1):
        policy.check_url(url)
        async with client.stream("GET", url) as response:
            if response.is_redirect and "location" in response.headers:
                url = str(response.url.join(response.headers["location"]))
                continue
            if response.status_code >= 400:
                return response.status_code, b"", response.headers.get("content-type")
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise ValueError(f"larger than {max_bytes} bytes")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks), response.headers.get("content-type")
    raise OutboundRefused(f"more than {MAX_REDIRECTS} redirects")
