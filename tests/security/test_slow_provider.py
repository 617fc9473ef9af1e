"""A send whose answer never came back is ``unknown``, never sent again.

The finding: a Graph endpoint that accepts every send and answers after 3 s, a cloud channel
with a 1 s timeout — eight POSTs reached the provider and the message ended ``failed``. The
simulator's "slow answer" mode replays it over real HTTP; the smaller tests pin down which
failures prove that nothing was accepted (and may be retried) and which do not.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from tests.channels.cloud.live import live_gateway, sandbox_plugins
from tests.conftest import free_port, make_settings
from wagate.channels.base import ChannelConfig, OutgoingMessage, warn_if_lease_shorter
from wagate.channels.cloud.channel import CloudChannel
from wagate.errors import DeliveryUnknown, SendError
from wagate.sandbox.config import SimulatorOptions

MESSAGE = OutgoingMessage(id=1, tenant_id=1, phone="79001234567", type="text", payload={"text": "x"}, attempt=1)


async def test_a_send_accepted_but_answered_too_late_is_posted_once_and_ends_unknown(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url, tmp_path, sandbox=True, port=free_port(), dispatcher_workers=2)
    slow = SimulatorOptions(delays="0.05,0.05,0.05", answer_delay=2.5)
    async with live_gateway(settings, plugins=sandbox_plugins(slow)) as live:
        patched = await live.client.patch("/v1/channels/sandbox", json={"settings": {"timeout_seconds": 1}})
        assert patched.status_code == 200, patched.text
        accepted = await live.send({"to": "79001234567", "text": "once only"})
        final = await live.wait(int(accepted["id"]), timeout=20)
        assert final["status"] == "unknown", final
        await asyncio.sleep(1.5)  # a retry, had there been one, would have come by now (backoff 1–2 s)
        posted = [r for r in live.sim.sent.values() if r.to == "79001234567"]
        assert len(posted) == 1, posted
        again = await live.message(int(accepted["id"]))
        assert again["status"] == "unknown"


def channel_for(handler: httpx.MockTransport | None = None, graph_url: str = "http://graph.test") -> CloudChannel:
    config = ChannelConfig(
        id=1,
        tenant_id=1,
        name="c",
        kind="cloud",
        settings={"phone_number_id": "1", "access_token": "t", "graph_url": graph_url, "timeout_seconds": 1},
    )
    return CloudChannel(config, None, transport=handler)


async def outcome(channel: CloudChannel) -> object:
    await channel.start()
    try:
        return await channel.send(MESSAGE)
    except (SendError, DeliveryUnknown) as exc:
        return exc
    finally:
        await channel.close()


async def test_a_refused_connection_proves_nothing_was_sent_and_is_retried() -> None:
    port = free_port()  # nothing listens there
    result = await outcome(channel_for(graph_url=f"http://127.0.0.1:{port}"))
    assert isinstance(result, SendError) and result.retryable and result.code == "provider_unreachable"


async def test_a_name_that_does_not_resolve_is_retried() -> None:
    result = await outcome(channel_for(graph_url="http://no-such-host.invalid"))
    assert isinstance(result, SendError) and result.retryable


def answering(status: int, body: bytes, content_type: str = "application/json") -> httpx.MockTransport:
    return httpx.MockTransport(
        lambda request: httpx.Response(status, content=body, headers={"content-type": content_type})
    )


def dropping(error: type[httpx.TransportError]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("the connection dropped after the request was written", request=request)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError])
async def test_no_answer_after_the_request_left_is_unknown(error: type[httpx.TransportError]) -> None:
    assert isinstance(await outcome(channel_for(dropping(error))), DeliveryUnknown)


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_request_that_never_left_is_retried(error: type[httpx.TransportError]) -> None:
    result = await outcome(channel_for(dropping(error)))
    assert isinstance(result, SendError) and result.retryable


async def test_a_gateway_error_without_a_graph_error_is_unknown() -> None:
    result = await outcome(channel_for(answering(504, b"<html>Gateway Time-out</html>", "text/html")))
    assert isinstance(result, DeliveryUnknown)


async def test_a_success_without_a_message_id_is_unknown() -> None:
    assert isinstance(await outcome(channel_for(answering(200, b'{"messaging_product":"whatsapp"}'))), DeliveryUnknown)


async def test_a_graph_error_that_says_the_send_failed_is_retried() -> None:
    body = b'{"error":{"message":"(#131000) Something went wrong","code":131000,"type":"OAuthException"}}'
    result = await outcome(channel_for(answering(500, body)))
    assert isinstance(result, SendError) and result.retryable and result.provider_code == "131000"


async def test_a_rate_limit_refusal_is_retried() -> None:
    result = await outcome(channel_for(answering(429, b"slow down", "text/plain")))
    assert isinstance(result, SendError) and result.retryable


def test_a_lease_shorter_than_the_send_timeout_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wagate.channels"):
        assert warn_if_lease_shorter("slowpoke", 120.0, 60.0)
        assert not warn_if_lease_shorter("quick", 30.0, 60.0)
    assert [r.getMessage() for r in caplog.records if "slowpoke" in r.getMessage()]
    assert not [r for r in caplog.records if "quick" in r.getMessage()]
