"""Whether a cloud channel can send now, against a fake of the Graph API (``httpx.MockTransport``).

Meta's answers are the documented ones: 200 with the number's record for a valid token, error
190 for an expired one, a 5xx or no connection when Meta cannot be reached.
"""

from __future__ import annotations

import httpx
import pytest

from tests.channels.cloud.harness import load
from wagate.channels.base import ChannelConfig
from wagate.channels.cloud.channel import CloudChannel

CONFIG = ChannelConfig(
    id=1, tenant_id=1, name="c", kind="cloud", settings={"phone_number_id": "1", "access_token": "t"}
)


async def readiness(handler: httpx.MockTransport) -> tuple[bool, str | None, int]:
    calls = 0

    def counting(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return handler.handle_request(request)

    channel = CloudChannel(CONFIG, None, transport=httpx.MockTransport(counting))
    await channel.start()
    try:
        first = await channel.can_send_now()
        second = await channel.can_send_now()  # remembered, not asked again
        assert first == second
        return first.ready, first.reason, calls
    finally:
        await channel.close()


async def test_a_valid_token_is_ready_and_probed_once() -> None:
    ok = httpx.MockTransport(lambda r: httpx.Response(200, json={"id": "1", "display_phone_number": "15550783881"}))
    assert await readiness(ok) == (True, None, 1)


async def test_an_expired_token_is_not_authorized() -> None:
    expired = httpx.MockTransport(lambda r: httpx.Response(401, json=load("graph_error_190.json")))
    assert await readiness(expired) == (False, "auth_failed", 1)


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(503, text="Service Unavailable"),
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("connection refused", request=r)),
    ],
)
async def test_meta_out_of_reach_is_unreachable(answer: object) -> None:
    ready, reason, _calls = await readiness(httpx.MockTransport(answer))  # type: ignore[arg-type]
    assert (ready, reason) == (False, "provider_unreachable")
