"""The device agent against a real ``wagate serve`` over HTTP, driving a ``FakeDevice``.

One server process for the module; each test gets its own device channel (fast pacing, a
short lease and a short silence threshold so time scales down) and its own device token.
The agent runs the real loop in a thread on a ``VirtualClock``: the phone's delays (the input
field after 1 s, the seed's 2 s / 1.5 s / 5.5 s checks) hold exactly, at a hundredth of the time.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_TOKEN, free_port
from tests.e2e.test_serve_subprocess import wait_ready
from wagate.agent import Agent, AgentConfig
from wagate.agent.client import GatewayClient, Offer
from wagate.agent.driver import VirtualClock
from wagate.agent.fake import FakeDevice, SentMessage
from wagate.agent.journal import Journal

pytestmark = pytest.mark.slow
WAGATE = str(Path(sys.executable).parent / "wagate")
MIN_INTERVAL = 0.1
_names = itertools.count(1)


@dataclass
class Server:
    url: str
    db_path: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)

    def events(self, type: str) -> list[dict[str, Any]]:
        engine = sa.create_engine(f"sqlite:///{self.db_path}")
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT payload FROM events WHERE type = :t ORDER BY id"), {"t": type})
                return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("device-e2e")
    port = free_port()
    env = {
        **os.environ,
        "WAGATE_PORT": str(port),
        "WAGATE_DATA_DIR": str(tmp / "data"),
        "WAGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/data/wagate.db",
        "WAGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "WAGATE_SANDBOX": "0",
        "WAGATE_RETRY_BASE_SECONDS": "0.2",
    }
    proc = subprocess.Popen(
        [WAGATE, "serve"], cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield Server(url, tmp / "data" / "wagate.db")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@dataclass
class Line:
    """One device channel on the server with one device token, and the phone behind it."""

    server: Server
    channel: str
    token: str
    phone: FakeDevice
    clock: VirtualClock
    api: httpx.Client

    def send(self, to: str, text: str) -> int:
        response = self.api.post("/v1/messages", json={"channel": self.channel, "to": to, "text": text})
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    def message(self, message_id: int) -> dict[str, Any]:
        body: dict[str, Any] = self.api.get(f"/v1/messages/{message_id}").json()
        return body

    def device(self) -> dict[str, Any]:
        [device] = self.api.get(f"/v1/channels/{self.channel}/devices").json()["data"]
        return dict(device)

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def wait_status(self, message_id: int, *statuses: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def done() -> bool:
            found.update(self.message(message_id))
            return found["status"] in statuses

        self.wait_for(f"message {message_id} to become {statuses}", done)
        return found

    @contextmanager
    def agent(
        self,
        journal: Journal | None = None,
        *,
        token: str | None = None,
        phone: FakeDevice | None = None,
        die_after_lease: bool = False,
    ) -> Iterator[Agent]:
        client = DyingClient(self.server.url, token or self.token)
        client.die_after_lease = die_after_lease
        config = AgentConfig(poll_interval=2.0, heartbeat_interval=20.0, error_backoff=1.0)
        agent = Agent(client, phone or self.phone, config=config, clock=self.clock, journal=journal)
        crashed: list[BaseException] = []

        def run() -> None:
            try:
                agent.run()
            except BaseException as exc:  # the agent process "died"
                crashed.append(exc)

        thread = threading.Thread(target=run, name="agent", daemon=True)
        thread.start()
        try:
            yield agent
        finally:
            agent.stop()
            thread.join(timeout=10)
            client.close()
        for exc in crashed:
            if not isinstance(exc, AgentKilled):
                raise exc


class AgentKilled(BaseException):
    """Stands for the agent process being killed at a chosen moment."""


class DyingClient(GatewayClient):
    """The real client; ``die_after_lease`` kills the agent right after it leased a message."""

    die_after_lease = False

    def next(self) -> Offer | float | None:
        answer = super().next()
        if isinstance(answer, Offer) and self.die_after_lease:
            raise AgentKilled
        return answer


@pytest.fixture
def line(server: Server) -> Iterator[Line]:
    name = f"phone{next(_names)}"
    with server.api() as api:
        created = api.post(
            "/v1/channels",
            json={
                "name": name,
                "kind": "device",
                "settings": {"lease_seconds": 3, "offline_after_s": 1.5, "poll_interval_s": 0.2},
                "pacing": {
                    "per_second": 100,
                    "min_interval_s": MIN_INTERVAL,
                    "max_interval_s": 0.2,
                    "recipient_interval_s": 0,
                },
            },
        )
        assert created.status_code == 201, created.text
        device = api.post(f"/v1/channels/{name}/devices", json={"name": "fake-pixel"})
        assert device.status_code == 201, device.text
        clock = VirtualClock(real_scale=0.01, min_real=0.01)
        yield Line(server, name, device.json()["token"], FakeDevice(clock), clock, api)


def sending_times(message: dict[str, Any]) -> list[datetime]:
    return [datetime.fromisoformat(h["at"]) for h in message["history"] if h["status"] == "sending" and h["applied"]]


def test_twenty_messages_go_out_once_each_at_the_servers_pace(line: Line) -> None:
    recipients = [f"7900123{i:04d}" for i in range(1, 21)]
    ids = [line.send(phone, f"Order {i} is ready") for i, phone in enumerate(recipients)]
    with line.agent():
        messages = [line.wait_status(message_id, "sent") for message_id in ids]
    assert line.phone.sends() == {(phone, f"Order {i} is ready"): 1 for i, phone in enumerate(recipients)}
    claims = sorted(t for m in messages for t in sending_times(m))
    assert len(claims) == 20
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(claims)]
    assert min(gaps) >= MIN_INTERVAL


def test_a_number_without_whatsapp_is_reported_and_recorded(line: Line) -> None:
    message_id = line.send("79001230000", "Hello")
    with line.agent():
        message = line.wait_status(message_id, "failed")
    assert message["error"]["code"] == "not_on_whatsapp"
    assert "isn't on WhatsApp" in message["error"]["message"]
    assert line.api.get("/v1/phones/79001230000").json()["whatsapp"] == "none"
    assert line.phone.sent == []
    assert "click android:id/button1" in line.phone.actions


def test_an_app_crash_before_send_is_recovered_by_re_leasing_without_a_double_send(line: Line) -> None:
    line.phone.crashes["79005550101"] = "before_send"
    message_id = line.send("79005550101", "Your code is 1234")
    with line.agent():
        message = line.wait_status(message_id, "sent")
    assert line.phone.sends() == {("79005550101", "Your code is 1234"): 1}
    assert "crash" in line.phone.actions
    assert len(sending_times(message)) == 2 and message["attempts"] == 2


def test_an_app_crash_on_opening_the_chat_is_retried(line: Line) -> None:
    line.phone.crashes["79005550102"] = "on_open"
    message_id = line.send("79005550102", "Hi")
    with line.agent():
        line.wait_status(message_id, "sent")
    assert line.phone.sends() == {("79005550102", "Hi"): 1}


def test_an_app_crash_right_after_send_does_not_send_again(line: Line) -> None:
    line.phone.crashes["79005550103"] = "after_send"
    message_id = line.send("79005550103", "Thanks!")
    with line.agent():
        message = line.wait_status(message_id, "sent")
    assert line.phone.sends() == {("79005550103", "Thanks!"): 1}
    assert len(sending_times(message)) == 1


def test_an_agent_killed_after_pressing_send_does_not_send_again(line: Line, tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.json"

    def kill(_message: SentMessage) -> None:
        line.phone.on_send = None
        raise AgentKilled

    line.phone.on_send = kill
    message_id = line.send("79005550104", "Once only")
    with line.agent(Journal(journal_path)):
        line.wait_for("the first send", lambda: len(line.phone.sent) == 1)
    assert line.message(message_id)["status"] == "sending"
    with line.agent(Journal(journal_path)):  # the agent restarts: the gateway offers its lease again
        line.wait_status(message_id, "sent")
    assert line.phone.sends() == {("79005550104", "Once only"): 1}


def test_notifications_become_the_right_inbound_messages(line: Line) -> None:
    line.api.put("/v1/contacts/79001112233", json={"name": "Ivan Petrov"})
    line.phone.receive("Ivan Petrov", "Is my order ready?")
    line.phone.receive("Parents: Ivan Petrov", "See you at 5", chat="79001112233-1600000000@g.us", group="Parents")
    line.phone.receive("+7 900 555-44-33", "Call me", chat="79005554433@s.whatsapp.net")
    line.phone.summarise("3 new messages")

    def inbound() -> list[dict[str, Any]]:
        data = line.api.get("/v1/messages", params={"direction": "in", "limit": 50}).json()["data"]
        return [m for m in data if m["channel"] == line.channel]

    with line.agent():
        line.wait_for("three inbound messages", lambda: len(inbound()) == 3)
    with line.agent() as again:  # a fresh agent posts the same notifications again: the gateway dedupes
        line.wait_for("the notifications posted again", lambda: again.stats.notifications == 4)
    got = {(m["from"], m["text"], (m.get("group") or {}).get("name")) for m in inbound()}
    assert got == {
        ("79001112233", "Is my order ready?", None),
        ("79001112233", "See you at 5", "Parents"),
        ("79005554433", "Call me", None),
    }
    received = [e for e in line.server.events("message.received") if e["channel"] == line.channel]
    assert len(received) == 3


def test_a_silent_device_goes_offline_and_comes_back_online(line: Line) -> None:
    with line.agent():
        line.wait_for("the device online", lambda: line.device()["status"] == "online")
    assert line.device()["battery"] == 80 and line.device()["whatsapp_version"] == "2.24.10.85"
    line.wait_for("the device offline", lambda: line.device()["status"] == "offline", timeout=10)
    with line.agent():
        line.wait_for("the device back online", lambda: line.device()["status"] == "online")
    statuses = [e["status"] for e in line.server.events("channel.status") if e.get("channel") == line.channel]
    assert statuses == ["online", "offline", "online"]


def test_the_agent_wakes_the_screen_before_sending(line: Line) -> None:
    line.phone.turn_screen_off()
    message_id = line.send("79005550105", "Wake up")
    with line.agent():
        line.wait_status(message_id, "sent")
    assert "wake" in line.phone.actions
    assert line.phone.sends() == {("79005550105", "Wake up"): 1}


def test_a_document_is_downloaded_shared_into_the_chat_and_captioned(line: Line) -> None:
    media = {"url": f"{line.server.url}/healthz", "filename": "status.json", "caption": "Today's status"}
    response = line.api.post(
        "/v1/messages", json={"channel": line.channel, "to": "79005550106", "type": "document", "media": media}
    )
    with line.agent():
        line.wait_status(response.json()["id"], "sent")
    [sent] = line.phone.sent
    assert sent.phone == "79005550106" and sent.text == "Today's status"
    assert sent.media is not None and sent.media.endswith("status.json")
    assert line.phone.files[sent.media] == httpx.get(f"{line.server.url}/healthz").content


def test_a_lease_not_answered_in_time_goes_back_to_the_queue(line: Line) -> None:
    second = line.api.post(f"/v1/channels/{line.channel}/devices", json={"name": "spare-phone"}).json()["token"]
    spare = FakeDevice(line.clock)
    message_id = line.send("79005550107", "Anyone there?")
    with line.agent(die_after_lease=True):
        line.wait_for("the first device to lease it", lambda: line.message(message_id)["status"] == "sending")
    with line.agent(token=second, phone=spare):  # the lease (3 s) runs out; the spare phone gets it
        message = line.wait_status(message_id, "sent")
    assert line.phone.sent == [] and spare.sends() == {("79005550107", "Anyone there?"): 1}
    assert [h["reason"] for h in message["history"] if h["status"] == "queued"][-1].startswith("lease expired")


def test_a_report_the_gateway_refuses_does_not_block_the_agent(line: Line) -> None:
    journal = Journal()
    journal.done(999_999, "sent")  # unknown to the gateway: 404
    journal.done(888_888, "delivered")  # not a device result: 422 before the lookup
    message_id = line.send("79005550108", "Still going")
    with line.agent(journal):
        line.wait_status(message_id, "sent")
    assert journal.unreported() == []
