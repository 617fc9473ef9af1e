"""A webhook receiver that records what it is sent: the far end of the simulator's webhooks in tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response


@dataclass
class Received:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return orjson.loads(self.raw)


@dataclass
class Recorder:
    """``answers`` lists the status codes to give, in order; once used up, 200."""

    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    verify_token: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            self.received.append(Received(dict(request.headers), await request.body()))
            self.arrived.set()
            status = self.answers.pop(0) if self.answers else 200
            return Response(status_code=status)

        @app.get("/hook")
        async def verify(request: Request) -> Response:
            params = request.query_params
            if params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == self.verify_token:
                return PlainTextResponse(params.get("hub.challenge", ""))
            return Response(status_code=403)

        return app

    def statuses(self) -> list[tuple[str, str]]:
        """(wamid, status) of every status webhook received, in arrival order."""
        out = []
        for item in self.received:
            value = item.body["entry"][0]["changes"][0]["value"]
            out.extend((s["id"], s["status"]) for s in value.get("statuses", []))
        return out

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async def until() -> None:
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(until(), timeout)
