"""The ``http`` channel against a real HTTP server on 127.0.0.1: answers mapped to the dispatcher's terms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import free_port
from wagate.channels.base import ChannelConfig, OutgoingMessage
from wagate.channels.http import KIND, HttpChannel, http_factory
from wagate.errors import DeliveryUnknown, SendError

pytestmark = pytest.mark.asyncio
MESSAGE = OutgoingMessage(id=42, tenant_id=1, phone="79001234567", type="text", payload={"text": "hi"}, attempt=1)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[Any, Any]] = []
        self.answer: tuple[int, dict[str, str]] = (200, {})
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.headers.copy(), await request.json()))
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers = self.answer
        return web.json_response({"ok": status < 300}, status=status, headers=headers)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/in", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield target, f"http://127.0.0.1:{port}/in"
    finally:
        await runner.cleanup()


def channel(url: str | None, **settings: Any) -> HttpChannel:
    config = ChannelConfig(id=1, tenant_id=1, name="hook", kind="http", settings={"url": url, **settings})
    return http_factory(config, None)


async def send(ch: HttpChannel) -> Any:
    await ch.start()
    try:
        return await ch.send(MESSAGE)
    finally:
        await ch.close()


async def test_a_2xx_answer_is_sent_and_the_body_carries_the_message(receiver: tuple[Receiver, str]) -> None:
    target, url = receiver
    result = await send(channel(url, bearer_token="s3cret"))
    assert result.provider_id == "http-42" and result.status == "sent"
    headers, body = target.requests[0]
    assert body == {
        "id": 42,
        "channel": "hook",
        "to": "79001234567",
        "type": "text",
        "payload": {"text": "hi"},
        "attempt": 1,
        "client_ref": None,
    }
    assert headers["Idempotency-Key"] == "wagate-42"
    assert headers["Authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("status", [408, 429, 500, 503])
async def test_overload_and_server_errors_are_retryable_with_retry_after(
    receiver: tuple[Receiver, str], status: int
) -> None:
    target, url = receiver
    target.answer = (status, {"Retry-After": "7"})
    with pytest.raises(SendError) as caught:
        await send(channel(url))
    assert caught.value.retryable and caught.value.code == f"http_{status}" and caught.value.retry_after == 7.0


async def test_other_client_errors_are_permanent(receiver: tuple[Receiver, str]) -> None:
    target, url = receiver
    target.answer = (400, {})
    with pytest.raises(SendError) as caught:
        await send(channel(url))
    assert not caught.value.retryable and caught.value.code == "http_400"


async def test_an_unreachable_receiver_is_retryable() -> None:
    with pytest.raises(SendError) as caught:
        await send(channel(f"http://127.0.0.1:{free_port()}/in"))
    assert caught.value.retryable and caught.value.code == "http_unreachable"


async def test_no_answer_after_the_request_was_sent_is_an_unknown_fate(receiver: tuple[Receiver, str]) -> None:
    target, url = receiver
    target.delay = 2.0
    with pytest.raises(DeliveryUnknown):
        await send(channel(url, timeout_s=0.3))
    assert len(target.requests) == 1  # it did arrive: resending could duplicate it


async def test_a_channel_without_url_fails_permanently() -> None:
    with pytest.raises(SendError) as caught:
        await send(channel(None))
    assert caught.value.code == "misconfigured" and not caught.value.retryable
    assert KIND.capabilities.resend_safe is False and KIND.capabilities.push is True
