"""A receiving end for the ``http`` channel that counts what it gets, per message id.

Run as its own process (``python -m wagate.bench.sink --port P [--delay-ms D]``) so it
survives a gateway that is killed, and so it does not share the gateway's CPU time slice:

* ``POST`` to any other path — a message from the ``http`` channel: counted by its ``id``;
  answered ``200`` after ``--delay-ms`` (a slow provider).
* ``GET /_stats`` — ``{"received", "unique", "duplicates", "first", "last"}`` (times: epoch seconds).
* ``GET /_counts`` — ``{"<id>": n, …}``; ``POST /_reset`` — forget everything.

``start_sink``/``stop_sink`` run it as a subprocess for tests and benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
import orjson

Scope = dict[str, Any]


class Sink:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.counts: Counter[int] = Counter()
        self.first: float | None = None
        self.last: float | None = None

    def stats(self) -> dict[str, Any]:
        received = sum(self.counts.values())
        return {
            "received": received,
            "unique": len(self.counts),
            "duplicates": received - len(self.counts),
            "first": self.first,
            "last": self.last,
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if path == "/_stats":
            answer: Any = self.stats()
        elif path == "/_counts":
            answer = {str(k): v for k, v in self.counts.items()}
        elif path == "/_reset":
            self.counts.clear()
            self.first = self.last = None
            answer = {"ok": True}
        elif method == "POST":
            data = orjson.loads(body)
            now = time.time()
            self.counts[int(data["id"])] += 1
            self.first = self.first or now
            self.last = now
            if self.delay:
                await asyncio.sleep(self.delay)
            answer = {"ok": True}
        else:
            answer = {"error": "not found"}
        payload = orjson.dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def start_sink(port: int, delay_ms: float = 0.0, timeout: float = 20.0) -> subprocess.Popen[bytes]:
    """Start the sink as a subprocess on 127.0.0.1:``port`` and wait until it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wagate.bench.sink", "--port", str(port), "--delay-ms", str(delay_ms)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the sink exited")
        try:
            httpx.get(f"http://127.0.0.1:{port}/_stats", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError("the sink did not start")


def stop_sink(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    uvicorn.run(
        Sink(args.delay_ms / 1000.0),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
