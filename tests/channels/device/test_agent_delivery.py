"""The agent's UI steps on a ``FakeDevice`` with virtual time: the seed's timings, exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wagate.agent import Agent, AgentConfig
from wagate.agent.client import CheckJob, GatewayClient, Offer
from wagate.agent.driver import VirtualClock
from wagate.agent.fake import FakeDevice
from wagate.agent.journal import Journal
from wagate.channels.device.service import wa_me_link


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def phone(clock: VirtualClock) -> FakeDevice:
    return FakeDevice(clock)


@pytest.fixture
def agent(phone: FakeDevice, clock: VirtualClock) -> Iterator[Agent]:
    client = GatewayClient("http://127.0.0.1:9", "unused")  # delivering a text message never calls the gateway
    yield Agent(client, phone, config=AgentConfig(), clock=clock)
    client.close()


def offer(message_id: int, phone: str, text: str) -> Offer:
    return Offer(id=message_id, phone=phone, type="text", text=text, link=wa_me_link(phone, text), attempt=1)


def test_the_chat_link_prefills_the_text(phone: FakeDevice) -> None:
    phone.open_link(wa_me_link("79001234567", "Hello & bye"))
    assert phone.entry_text == "Hello & bye"


def test_an_input_field_after_one_second_is_found_at_the_first_look(
    agent: Agent, phone: FakeDevice, clock: VirtualClock
) -> None:
    assert agent.deliver(offer(1, "79001234567", "Hi")).status == "sent"
    # 2 s to start, found; 0.2 s pause, type; 0.2 s pause, press send.
    assert phone.sent[0].at == pytest.approx(2.4)


def test_a_slow_input_field_is_found_after_1_5_s_more(agent: Agent, phone: FakeDevice) -> None:
    phone.entry_delays["79001234567"] = 3.0
    assert agent.deliver(offer(1, "79001234567", "Hi")).status == "sent"
    assert phone.sent[0].at == pytest.approx(2.0 + 1.5 + 0.4)


def test_a_very_slow_input_field_is_found_after_5_5_s_more(agent: Agent, phone: FakeDevice) -> None:
    phone.entry_delays["79001234567"] = 8.0
    assert agent.deliver(offer(1, "79001234567", "Hi")).status == "sent"
    assert phone.sent[0].at == pytest.approx(2.0 + 1.5 + 5.5 + 0.4)


def test_a_chat_that_never_opens_is_a_retryable_failure(agent: Agent, phone: FakeDevice) -> None:
    phone.entry_delays["79001234567"] = 10.0
    outcome = agent.deliver(offer(1, "79001234567", "Hi"))
    assert outcome.status == "failed" and outcome.retry and "within 9 s" in (outcome.error or "")
    assert phone.sent == [] and phone.actions[-2:] == ["back", "back"]


def test_the_retry_timings_are_configurable(phone: FakeDevice, clock: VirtualClock) -> None:
    phone.entry_delays["79001234567"] = 10.0
    client = GatewayClient("http://127.0.0.1:9", "unused")
    try:
        patient = Agent(client, phone, config=AgentConfig(entry_waits=(2.0, 10.0)), clock=clock)
        assert patient.deliver(offer(1, "79001234567", "Hi")).status == "sent"
    finally:
        client.close()


def test_the_not_on_whatsapp_dialog_is_reported_with_its_text(agent: Agent, phone: FakeDevice) -> None:
    outcome = agent.deliver(offer(1, "79001230000", "Hi"))
    assert outcome.status == "not_on_whatsapp"
    assert outcome.error == "The phone number +79001230000 isn't on WhatsApp."
    assert "click android:id/button1" in phone.actions and phone.sent == []


def test_a_crash_while_typing_sends_nothing_and_asks_for_a_retry(agent: Agent, phone: FakeDevice) -> None:
    phone.crashes["79001234567"] = "before_send"
    outcome = agent.deliver(offer(1, "79001234567", "Hi"))
    assert outcome.status == "failed" and outcome.retry
    assert phone.sent == [] and phone.screen == "home"  # the crash dialog was closed


def test_a_message_already_sent_is_reported_again_not_sent_again(agent: Agent, phone: FakeDevice) -> None:
    message = offer(1, "79001234567", "Hi")
    agent.journal.done(message.id, agent.deliver(message).status)
    assert agent.deliver(message).status == "sent"
    assert phone.sends() == {("79001234567", "Hi"): 1}


def test_a_send_interrupted_after_the_press_is_found_in_the_chat(
    phone: FakeDevice, clock: VirtualClock, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.json")
    client = GatewayClient("http://127.0.0.1:9", "unused")
    try:
        message = offer(1, "79001234567", "Once")
        Agent(client, phone, clock=clock, journal=journal).deliver(message)
        journal.clicking(message.id)  # as if the agent died between the press and its note
        restarted = Agent(client, phone, clock=clock, journal=Journal(tmp_path / "journal.json"))
        assert restarted.deliver(message).status == "sent"
        assert phone.sends() == {("79001234567", "Once"): 1}
    finally:
        client.close()


def test_an_interrupted_send_that_never_happened_is_sent(phone: FakeDevice, clock: VirtualClock) -> None:
    client = GatewayClient("http://127.0.0.1:9", "unused")
    try:
        agent = Agent(client, phone, clock=clock)
        agent.journal.clicking(1)  # died before the press reached the phone
        assert agent.deliver(offer(1, "79001234567", "Late")).status == "sent"
        assert phone.sends() == {("79001234567", "Late"): 1}
    finally:
        client.close()


def test_the_screen_is_woken_before_opening_the_chat(agent: Agent, phone: FakeDevice) -> None:
    phone.turn_screen_off()
    assert agent.deliver(offer(1, "79001234567", "Hi")).status == "sent"
    assert phone.actions.index("wake") < phone.actions.index("open chat 79001234567")


# -- phone checks -------------------------------------------------------------------------------------


def check_agent(phone: FakeDevice, clock: VirtualClock, reports: list[tuple[str, object]]) -> Agent:
    """An agent whose gateway is a recording fake (the gateway side is tested over HTTP elsewhere)."""

    def gateway(request: httpx.Request) -> httpx.Response:
        reports.append((request.url.path, json.loads(request.content) if request.content else None))
        return httpx.Response(200, json={"applied": True})

    client = GatewayClient("http://gateway.test", "t", transport=httpx.MockTransport(gateway))
    return Agent(client, phone, config=AgentConfig(), clock=clock)


def test_a_phone_check_opens_the_chat_and_reports_exists(phone: FakeDevice, clock: VirtualClock) -> None:
    reports: list[tuple[str, object]] = []
    agent = check_agent(phone, clock, reports)
    assert agent.check(CheckJob(id=7, phone="79001234567", link=wa_me_link("79001234567", ""))) == "exists"
    assert reports == [("/device/v1/checks/7/result", {"whatsapp": "exists"})]
    assert phone.sent == [] and phone.actions[-2:] == ["back", "back"]  # nothing typed, nothing sent


def test_a_phone_check_of_a_number_without_whatsapp_reports_none(phone: FakeDevice, clock: VirtualClock) -> None:
    reports: list[tuple[str, object]] = []
    agent = check_agent(phone, clock, reports)
    assert agent.check(CheckJob(id=8, phone="79001230000", link=wa_me_link("79001230000", ""))) == "none"
    assert reports == [("/device/v1/checks/8/result", {"whatsapp": "none"})]
    assert "click android:id/button1" in phone.actions


def test_a_phone_check_the_phone_cannot_answer_is_not_reported(phone: FakeDevice, clock: VirtualClock) -> None:
    phone.entry_delays["79001234567"] = 10.0
    reports: list[tuple[str, object]] = []
    agent = check_agent(phone, clock, reports)
    assert agent.check(CheckJob(id=9, phone="79001234567", link=wa_me_link("79001234567", ""))) is None
    assert reports == []  # the lease runs out and the gateway offers the check again
