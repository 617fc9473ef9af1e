"""A real HTTP receiver on a free local port (uvicorn in the test's event loop).

It verifies every request with ``standardwebhooks`` — the library a CRM would use — and
records what arrived. ``behaviour`` decides each answer: a status code, or ``HANG`` to never
answer. ``stop()``/``start()`` on the same port make connections be refused, then accepted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError

from tests.conftest import free_port

HANG = -1


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    json: Any


@dataclass
class Receiver:
    secret: str | None = None
    behaviour: Callable[[Received], int] = lambda _r: 204
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    answered: list[tuple[Received, int]] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        item = Received(scope["path"], headers, body, self.verify(body, headers), parsed)
        self.received.append(item)
        status = self.behaviour(item)
        if status == HANG:
            await self._release.wait()
            return
        self.answered.append((item, status))
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"" if status in (204, 304) else b"ok"})

    async def start(self) -> Receiver:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._release = asyncio.Event()
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):
            if self._server.started:
                return self
            if self._task.done():
                await self._task
            await asyncio.sleep(0.01)
        raise AssertionError("receiver did not start")

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._release.set()
        self._server.should_exit = True
        await self._task
        self._server = None
        self._task = None

    def delivered(self) -> list[Received]:
        """Requests that were answered 2xx."""
        return [item for item, status in self.answered if 200 <= status < 300]
