"""``wagate.client`` against a real ``wagate serve`` (sandbox on), and the CLI commands that use it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from tests.api.conftest import BIN, TOKEN
from wagate.client import ApiError, AsyncClient, Client

pytestmark = pytest.mark.slow


def test_the_sync_client_sends_reads_and_pages(served_sqlite: str) -> None:
    with Client(served_sqlite, token=TOKEN) as wagate:
        accepted = wagate.send_message("+7 900 123-45-01", "hello", client_ref="order-1")
        assert accepted.status == "queued" and accepted.to == "79001234501"
        later = [wagate.send_message(f"7900123450{n + 2}", f"number {n}").id for n in range(3)]
        deadline = time.monotonic() + 20
        message = wagate.get_message(accepted.id)
        while message.status in ("queued", "sending") and time.monotonic() < deadline:
            time.sleep(0.2)
            message = wagate.get_message(accepted.id)
        assert message.status in ("sent", "delivered", "read")
        assert [change.status for change in message.history or []][:1] == ["queued"]
        paged = [m.id for m in wagate.iter_messages(direction="out", limit=2)]  # two per page
        mine = [i for i in paged if i in {accepted.id, *later}]
        assert mine == sorted([accepted.id, *later], reverse=True)  # every one, newest first
        channels = wagate.list_channels()
        assert [c.name for c in channels] == ["sandbox"]
        contact = wagate.put_contact("79001234501", name="Anna", tags=["vip"])
        assert wagate.get_contact("79001234501").tags == contact.tags == ["vip"]


def test_an_api_error_carries_the_native_code_and_field(served_sqlite: str) -> None:
    with Client(served_sqlite, token=TOKEN) as wagate:
        with pytest.raises(ApiError) as refused:
            wagate.send_message("79001234501", "x", txt="typo")
        assert (refused.value.status, refused.value.code, refused.value.field) == (422, "unknown_field", "txt")
        with pytest.raises(ApiError) as missing:
            wagate.get_message(2**62)
        assert missing.value.status == 404
    with Client(served_sqlite, token="wrong") as stranger, pytest.raises(ApiError) as denied:
        stranger.list_channels()
    assert denied.value.status == 401


async def test_the_async_client_mirrors_the_sync_one(served_sqlite: str) -> None:
    async with AsyncClient(served_sqlite, token=TOKEN) as wagate:
        accepted = await wagate.send_message("79001234599", "async hello")
        assert (await wagate.get_message(accepted.id)).id == accepted.id
        seen = [m.id async for m in wagate.iter_messages(phone="79001234599")]
        assert seen == [accepted.id]
        cancelled_or_sent = await wagate.check_phone("79001234599")
        assert cancelled_or_sent["whatsapp"] in ("exists", "unknown")


def test_wagate_send_goes_through_the_client(served_sqlite: str, tmp_path: Path) -> None:
    env = {**os.environ, "WAGATE_URL": served_sqlite, "WAGATE_TOKEN": TOKEN}
    command = [str(BIN / "wagate"), "send", "--to", "+7 900 123-45-77", "--text", "from the CLI"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = orjson.loads(done.stdout)
    assert answer["status"] == "queued" and answer["to"] == "79001234577"
    bad = subprocess.run(
        [str(BIN / "wagate"), "send", "--to", "12", "--text", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert bad.returncode == 1
    assert orjson.loads(bad.stdout)["error"]["field"] == "to"
