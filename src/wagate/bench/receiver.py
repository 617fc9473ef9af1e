"""A minimal webhook receiver for benchmarks: verifies every request with ``standardwebhooks``.

Run as ``python -m wagate.bench.receiver PORT SECRET``; ``GET /count`` answers ``ok failed``.
It is a separate process so that the receiver's CPU is not the sender's.
"""

from __future__ import annotations

import sys
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


class CountingReceiver:
    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.ok = 0
        self.failed = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "GET":
            text = f"{self.ok} {self.failed}".encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(text))]}
            )
            await send({"type": "http.response.body", "body": text})
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            self.webhook.verify(body, headers)
        except WebhookVerificationError:
            self.failed += 1
            status = 400
        else:
            self.ok += 1
            status = 204
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def main() -> None:
    import uvicorn

    port, secret = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(
        CountingReceiver(secret),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        interface="asgi3",
        http="httptools",
        loop="uvloop",
    )


if __name__ == "__main__":
    main()
