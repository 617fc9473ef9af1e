"""The channel object itself, against a slow fake of the Graph API."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from wagate.channels.base import ChannelConfig, OutgoingMessage
from wagate.channels.cloud.channel import CloudChannel


def slow_graph(delay: float) -> FastAPI:
    app = FastAPI()

    @app.post("/{version}/{node}/messages")
    async def messages(version: str, node: str) -> dict[str, object]:
        await asyncio.sleep(delay)
        return {"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": "wamid.SLOW"}]}

    return app


async def test_close_lets_a_send_in_progress_finish() -> None:
    config = ChannelConfig(
        id=1, tenant_id=1, name="c", kind="cloud", settings={"phone_number_id": "1", "access_token": "t"}
    )
    channel = CloudChannel(config, None, transport=httpx.ASGITransport(app=slow_graph(0.2)))
    await channel.start()
    message = OutgoingMessage(id=1, tenant_id=1, phone="79001234567", type="text", payload={"text": "x"}, attempt=1)
    sending = asyncio.create_task(channel.send(message))
    await asyncio.sleep(0.05)
    await channel.close()
    assert (await sending).provider_id == "wamid.SLOW"
