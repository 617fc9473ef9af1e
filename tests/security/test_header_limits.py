"""A request's head must arrive in time and within a size: slow or huge headers are cut off.

The finding: 300 half-sent requests were held open forever and 1 MB headers were accepted.
The protocol ``wagate serve`` runs (``wagate.cli.http_protocol``) under a real uvicorn server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port
from wagate.cli.http_protocol import guarded_protocol


@pytest.fixture
async def server() -> AsyncIterator[int]:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, http=guarded_protocol(0.5, 8192)
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    deadline = time.monotonic() + 20
    while not instance.started:
        assert not task.done() and time.monotonic() < deadline, "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        instance.should_exit = True
        await task


async def exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    return answer


async def test_a_normal_request_is_served(server: int) -> None:
    answer = await exchange(server, b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")


async def test_a_head_sent_too_slowly_is_cut_off_with_408(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    started = time.monotonic()
    writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\n")  # the rest never comes
    await writer.drain()
    for _ in range(3):  # a byte now and then does not keep it alive
        await asyncio.sleep(0.2)
        if not writer.is_closing():
            writer.write(b"X")
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - started < 2
    writer.close()


async def test_a_connection_that_sends_nothing_is_closed(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    assert answer.startswith(b"HTTP/1.1 408")
    writer.close()


async def test_oversized_headers_are_refused_with_431(server: int) -> None:
    huge = b"X-Big: " + b"a" * 20_000 + b"\r\n"
    answer = await exchange(server, b"GET /ping HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(2000))
    answer = await exchange(server, b"GET /ping HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
