"""The token in ``/api2/{method}/{token}/`` reaches neither a log line nor a metrics label.

A real uvicorn server (access log on, the production JSON formatter) in a thread, real HTTP
over TCP; the CRM's token is created on the database directly, as ``wagate token create`` does.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.compat.conftest import compat_registry
from tests.conftest import ADMIN_TOKEN, free_port, make_settings
from wagate.app import create_app
from wagate.config import Settings
from wagate.observability.logging import JsonFormatter
from wagate.services.tokens import create_token_sync


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Settings, io.StringIO]]:
    """A node on a free port, and everything its loggers write, formatted as in production."""
    port = free_port()
    settings = make_settings(sqlite_url, tmp_path, dispatcher=False, port=port)
    app = create_app(settings, registry=compat_registry(), migrate=False)
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error", "wagate")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=True, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}", settings, sink
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def test_the_path_token_is_redacted_in_logs_and_absent_from_metrics(
    served: tuple[str, Settings, io.StringIO],
) -> None:
    base_url, settings, sink = served
    token = create_token_sync(settings, name="crm", role="api")
    with httpx.Client(base_url=base_url) as client:
        created = client.post(
            "/v1/channels", json={"name": "main", "kind": "memory"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert created.status_code == 201
        sent = client.get(f"/api2/msg_to/{token}/", params={"phone": "79001234567", "text": "hi"})
        assert sent.json() == {"err": 0, "msg_id": 1}
        wrong = client.get(f"/api2/msg_state/{token}x/", params={"msg_id": "1"})
        assert wrong.json() == {"err": "token fail"}
        bare = client.get(f"/api2/msg_get_last/{token}", params={"col": "1"})
        assert bare.json()["err"] == 0
        metrics = client.get("/metrics").text
    logs = sink.getvalue()
    assert "/api2/msg_to/***" in logs  # the access log lines are there, redacted
    assert "/api2/msg_get_last/***" in logs
    assert token not in logs
    assert token not in metrics
    assert 'route="/api2/msg_to/{token}/"' in metrics
    assert 'route="/api2/msg_state/{token}/"' in metrics
    assert 'route="/api2/msg_get_last/{token}"' in metrics
