"""The database stops or fills up: every door answers 503 with ``Retry-After``, keeps the
connection, ``/readyz`` says not ready, and the node recovers by itself.

PostgreSQL: a private cluster started by the test (``pg_cluster``), stopped mid-run and started
again. A full disk: SQLite's own ``max_page_count`` limit, which makes the engine answer
``SQLITE_FULL`` ("database or disk is full") exactly as a full file system would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.channels.cloud.live import serve
from tests.conftest import ADMIN_TOKEN, free_port, make_settings
from tests.conftest import test_registry as memory_registry
from tests.security.pg_cluster import private_cluster
from wagate.app import create_app
from wagate.runtime import Runtime

pytestmark = pytest.mark.slow  # a private PostgreSQL cluster / live gateways on both databases


@asynccontextmanager
async def node(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = make_settings(db_url, tmp_path, dispatcher=False, port=free_port())
    app = create_app(settings, registry=memory_registry(), migrate=True)
    async with (
        serve(app, settings.port) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=15) as client,
    ):
        created = await client.post("/v1/channels", json={"name": "main", "kind": "memory"})
        assert created.status_code == 201, created.text
        yield client, app.state.runtime


def local_port(response: httpx.Response) -> Any:
    """The client side of the TCP connection the answer came on (same port: connection kept)."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers.get("connection", "").lower() != "close"


async def wait_ready(client: httpx.AsyncClient, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (await client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, "the node did not become ready again"
        await asyncio.sleep(0.2)


async def test_postgres_stopped_mid_run_answers_503_everywhere_and_recovers(tmp_path: Path) -> None:
    with private_cluster() as cluster:
        async with node(cluster.url, tmp_path) as (client, _rt):
            before = await client.post("/v1/messages", json={"to": "79001234567", "text": "before"})
            assert before.status_code == 202, before.text
            kept = before.json()["id"]
            connection = local_port(before)

            cluster.stop()
            single = await client.post("/v1/messages", json={"to": "79001234567", "text": "during"})
            assert_unavailable(single)
            assert single.json()["error"]["code"] == "unavailable"
            assert local_port(single) == connection  # the keep-alive connection survived the error
            assert_unavailable(await client.get(f"/v1/messages/{kept}"))
            assert_unavailable(await client.put("/v1/contacts/79001234567", json={"name": "Ivan"}))
            wamm = await client.get(f"/api2/msg_to/{ADMIN_TOKEN}/", params={"phone": "79001234567", "text": "x"})
            assert_unavailable(wamm)
            assert wamm.json()["err"] != 0
            devino = await client.post(
                "/whatsapp/messages",
                json={"messages": [{"from": "main", "to": "79001234567", "text": "x"}]},
                headers={"Authorization": f"Key {ADMIN_TOKEN}"},
            )
            assert_unavailable(devino)
            assert devino.json()["result"][0]["code"] == "REJECTED"
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["database"] is False

            cluster.start()
            await wait_ready(client)
            after = await client.post("/v1/messages", json={"to": "79001234567", "text": "after"})
            assert after.status_code == 202, after.text
            texts = [m["text"] for m in (await client.get("/v1/messages")).json()["data"]]
            assert texts == ["after", "before"]  # nothing acknowledged was lost, nothing refused was kept


async def test_a_full_sqlite_disk_answers_503_and_readyz_is_unready_until_writes_work(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with node(sqlite_url, tmp_path) as (client, rt):
        pages = await rt.db.write(lambda c: int(c.exec_driver_sql("PRAGMA page_count").scalar() or 0))
        await rt.db.write(lambda c: c.exec_driver_sql(f"PRAGMA max_page_count = {pages}"))
        batch = {"messages": [{"to": "79001234567", "text": "x" * 2000} for _ in range(200)]}
        full = await client.post("/v1/messages", json=batch)
        assert_unavailable(full)
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text  # reads still work; writes do not

        def grow(conn: sa.Connection) -> None:
            conn.exec_driver_sql("PRAGMA max_page_count = 1073741823")

        # The writer connection refuses nothing that does not grow the file, so the limit can be lifted.
        await rt.db.write(grow)
        await wait_ready(client)
        accepted = await client.post("/v1/messages", json=batch)
        assert accepted.status_code == 202, accepted.text
