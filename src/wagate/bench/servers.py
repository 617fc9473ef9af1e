"""Servers the benchmarks start in their own processes, with identical uvicorn settings.

``python -m wagate.bench.servers bare --port P`` — a bare FastAPI POST endpoint with a pydantic body;
``python -m wagate.bench.servers wagate --port P --database-url URL`` — a production wagate node (dispatcher and
sandbox off, the in-memory channel kind available) so only ingest is measured.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

BENCH_TOKEN = "bench-admin-token"


class BareMessage(BaseModel):
    to: str
    text: str


def bare_app() -> FastAPI:
    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False})

    @app.post("/bare", status_code=202)
    async def bare(message: BareMessage) -> dict[str, Any]:
        return {"id": 1, "status": "queued", "to": message.to}

    return app


def wagate_app(database_url: str, data_dir: str) -> FastAPI:
    """The production node (``wagate serve``'s composition: webhooks fan-out, dashboard hooks,
    campaigns, start-up objects frozen), minus the sandbox and the dispatcher, plus the
    in-memory kind, so only ingest is measured — with everything that rides on it."""
    from wagate.app import create_app
    from wagate.config import Settings
    from wagate.node import node_plugins, node_registry

    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        admin_token=BENCH_TOKEN,
        sandbox=False,
        dispatcher=False,
        log_level="WARNING",
        log_json=True,
    )
    return create_app(settings, registry=node_registry(include_memory=True), plugins=node_plugins(settings))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["bare", "wagate"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data-dir", default="./data")
    args = parser.parse_args()
    import sys

    sys.setswitchinterval(float(__import__("os").environ.get("SWI", "0.005")))
    app = bare_app() if args.kind == "bare" else wagate_app(args.database_url, args.data_dir)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, http="httptools", loop="uvloop"
    )


if __name__ == "__main__":
    main()
