"""The simulator's 2026 webhook shapes: BSUIDs, hidden phones, id changes, coexistence echoes.

Checked three ways: against the examples and syntax blocks of Meta's webhook reference (copied
into ``testdata/``, pages named in ``testdata/README.md``), by wagate's own parser, and by a real
third-party Cloud API client, pywa (pinned as a dev dependency), whose typed webhook parsing
refuses inbound and status webhooks without ``contacts[].user_id`` and ``statuses`` contacts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from pywa import WhatsApp, types

from wagate.channels.cloud.webhook import parse_envelope
from wagate.sandbox.config import SimulatorConfig
from wagate.sandbox.simulator import Simulator
from wagate.sandbox.webhooks import signature

TESTDATA = Path(__file__).parent / "testdata"
PHONE = "79001234567"
HIDDEN = "79001239999"
#: The example BSUID of Meta's business-scoped user IDs page.
META_BSUID = "US.13491208655302741918"


def meta(name: str) -> Any:
    return json.loads((TESTDATA / name).read_text())


@pytest.fixture
async def sim() -> Any:
    simulator = Simulator(SimulatorConfig(status_delays=(0.0, 0.0, 0.0)))
    yield simulator
    await simulator.close()


def value_of(body: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = body["entry"][0]["changes"][0]["value"]
    return value


def documented_keys_present(documented: Any, ours: Any, path: str = "") -> list[str]:
    """Every key of Meta's document (examples or syntax) is in ours, at the same place."""
    missing: list[str] = []
    if isinstance(documented, dict):
        if not isinstance(ours, dict):
            return [f"{path} is not an object"]
        for key, sub in documented.items():
            if key not in ours:
                missing.append(f"{path}.{key}")
            else:
                missing += documented_keys_present(sub, ours[key], f"{path}.{key}")
    elif isinstance(documented, list) and documented:
        if not isinstance(ours, list) or not ours:
            return [f"{path} is not a non-empty list"]
        missing += documented_keys_present(documented[0], ours[0], f"{path}[0]")
    return missing


async def status_body(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    answer = await sim.post_messages(sim.config.phone_number_id, {"messaging_product": "whatsapp", **body})
    record = sim.sent[answer["messages"][0]["id"]]
    return sim.status_webhook(record, "delivered")


# Meta's documents ------------------------------------------------------------------------


def test_an_inbound_webhook_has_every_key_of_metas_text_example_and_the_bsuid(sim: Simulator) -> None:
    _wamid, body, _phone = sim.inbound_message({"from": PHONE, "text": "Does it come in another color?"})
    assert documented_keys_present(meta("meta_messages_text_example.json"), body) == []
    contact = value_of(body)["contacts"][0]
    message = value_of(body)["messages"][0]
    assert contact["wa_id"] == PHONE and message["from"] == PHONE
    assert contact["user_id"] == message["from_user_id"]
    assert contact["user_id"].startswith("RU.") and contact["user_id"][3:].isdigit()


async def test_status_webhooks_carry_metas_keys_and_the_recipients_contact(sim: Simulator) -> None:
    body = await status_body(sim, {"to": PHONE, "type": "text", "text": {"body": "hi"}})
    assert documented_keys_present(meta("meta_status_syntax.json"), body) == []
    value = value_of(body)
    [contact] = value["contacts"]
    [status] = value["statuses"]
    assert status["recipient_id"] == PHONE
    assert status["recipient_user_id"] == contact["user_id"]
    assert contact["wa_id"] == PHONE


async def test_an_echo_has_every_key_of_metas_smb_message_echoes_syntax(sim: Simulator) -> None:
    _wamid, body = sim.echo_message({"to": PHONE, "text": "Typed in the Business app"})
    assert documented_keys_present(meta("meta_smb_message_echoes_syntax.json"), body) == []
    echo = value_of(body)["message_echoes"][0]
    assert echo["from"] == sim.config.display_phone_number
    assert echo["to"] == PHONE
    assert echo["text"] == {"body": "Typed in the Business app"}


async def test_a_user_id_change_is_metas_system_message_with_previous_and_new_ids(sim: Simulator) -> None:
    _wamid, first, _ = sim.inbound_message({"from": PHONE, "text": "hi"})
    old = value_of(first)["contacts"][0]["user_id"]
    body, previous, new = sim.user_id_change({"from": PHONE})
    assert documented_keys_present(meta("meta_system_user_changed_number_syntax.json"), body) == []
    system = value_of(body)["messages"][0]["system"]
    assert (previous, system["previous_user_id"]) == (old, old)
    assert system["type"] == "user_changed_user_id" and system["user_id"] == new != old
    assert "contacts" not in value_of(body)  # Meta: system messages carry no contacts array


# hidden phones ---------------------------------------------------------------------------


async def test_a_number_ending_in_9999_reaches_webhooks_only_as_its_bsuid(sim: Simulator) -> None:
    _wamid, inbound, _ = sim.inbound_message({"from": HIDDEN, "text": "hi"})
    assert HIDDEN not in orjson.dumps(inbound).decode()
    status = await status_body(sim, {"to": HIDDEN, "type": "text", "text": {"body": "hello"}})
    assert HIDDEN not in orjson.dumps(status).decode()
    user_id = value_of(inbound)["contacts"][0]["user_id"]
    assert value_of(status)["statuses"][0]["recipient_user_id"] == user_id


async def test_inject_takes_a_user_id_and_username_without_from(sim: Simulator) -> None:
    _wamid, body, sender = sim.inbound_message({"user_id": META_BSUID, "username": "bob", "text": "hi"})
    contact = value_of(body)["contacts"][0]
    message = value_of(body)["messages"][0]
    assert sender == META_BSUID
    assert contact == {"profile": {"name": "Sandbox Customer", "username": "@bob"}, "user_id": META_BSUID}
    assert "from" not in message and message["from_user_id"] == META_BSUID
    # … and the business can answer that user by BSUID, with Meta's "recipient" field.
    answer = await sim.post_messages(
        sim.config.phone_number_id,
        {"messaging_product": "whatsapp", "recipient": META_BSUID, "type": "text", "text": {"body": "hello"}},
    )
    assert answer["contacts"] == [{"input": META_BSUID, "user_id": META_BSUID}]


def test_inject_refuses_a_malformed_user_id(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="user_id"):
        sim.inbound_message({"user_id": "not-a-bsuid", "text": "hi"})


async def test_user_id_update_reports_previous_and_current(sim: Simulator) -> None:
    sim.inbound_message({"from": PHONE, "text": "hi"})
    body, previous, new = sim.user_id_change({"from": PHONE, "via": "user_id_update"})
    change = body["entry"][0]["changes"][0]
    assert change["field"] == "user_id_update"
    assert change["value"]["user_id_update"][0]["user_id"] == {"previous": previous, "current": new}
    [batch] = parse_envelope(body)
    [parsed] = batch.identity_changes
    assert (parsed.previous_user_id, parsed.identities.user_id, parsed.identities.phone) == (previous, new, PHONE)


# wagate's parser ---------------------------------------------------------------------------


async def test_wagate_reads_every_identity_the_simulator_sends(sim: Simulator) -> None:
    _wamid, inbound, _ = sim.inbound_message({"from": HIDDEN, "username": "alice", "text": "hi"})
    [batch] = parse_envelope(inbound)
    [event] = batch.inbound
    assert event.phone is None
    assert event.identities.user_id == value_of(inbound)["contacts"][0]["user_id"]
    assert event.identities.username == "@alice"
    status = await status_body(sim, {"to": PHONE, "type": "text", "text": {"body": "hello"}})
    [status_batch] = parse_envelope(status)
    [parsed] = status_batch.statuses
    assert parsed.identities.phone == PHONE and parsed.identities.user_id is not None
    _wamid, echo = sim.echo_message({"to": PHONE, "text": "from the app"})
    [echo_batch] = parse_envelope(echo)
    [echoed] = echo_batch.echoes
    assert (echoed.phone, echoed.payload["text"]) == (PHONE, "from the app")


# a real third-party client ---------------------------------------------------------------


class PywaInbox:
    """pywa 4.5 parsing signed webhook bodies offline, through its public handler API."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.wa = WhatsApp(
            phone_id=config.phone_number_id,
            token="sandbox-token",
            server=None,
            verify_token=config.verify_token,
            app_secret=config.app_secret,
            waba_id=config.waba_id,
        )
        self.config = config
        self.got: list[Any] = []
        self.wa.add_handlers(
            pywa_handler("MessageHandler", self.got),
            pywa_handler("MessageStatusHandler", self.got),
            pywa_handler("OutgoingMessageHandler", self.got),
            pywa_handler("PhoneNumberChangeHandler", self.got),
        )

    def feed(self, body: dict[str, Any]) -> Any:
        raw = orjson.dumps(body)
        before = len(self.got)
        assert self.wa.webhook_update_validator(update=raw, hmac_header=signature(raw, self.config.app_secret)) is None
        self.wa.webhook_update_handler(update=raw)
        assert len(self.got) == before + 1, f"pywa did not build a typed update from {body}"
        return self.got[-1]


def pywa_handler(name: str, sink: list[Any]) -> Any:
    from pywa import handlers

    handler_class = getattr(handlers, name)
    return handler_class(lambda _client, update: sink.append(update))


async def test_pywa_parses_the_simulators_inbound_status_echo_and_id_change_webhooks(sim: Simulator) -> None:
    inbox = PywaInbox(sim.config)
    _wamid, inbound, _ = sim.inbound_message({"from": PHONE, "text": "Где мой заказ?"})
    message = inbox.feed(inbound)
    assert isinstance(message, types.Message)
    assert message.text == "Где мой заказ?"
    assert message.from_user.wa_id == PHONE
    assert message.from_user.bsuid == value_of(inbound)["contacts"][0]["user_id"]

    hidden = inbox.feed(sim.inbound_message({"user_id": META_BSUID, "username": "bob", "text": "hi"})[1])
    assert hidden.from_user.wa_id is None
    assert (hidden.from_user.bsuid, hidden.from_user.username) == (META_BSUID, "@bob")

    status = inbox.feed(await status_body(sim, {"to": PHONE, "type": "text", "text": {"body": "hello"}}))
    assert isinstance(status, types.MessageStatus)
    assert status.status == types.MessageStatusType.DELIVERED
    assert status.from_user.bsuid == message.from_user.bsuid

    echo = inbox.feed(sim.echo_message({"to": PHONE, "text": "from the Business app"})[1])
    assert echo.text == "from the Business app"
    assert echo.to_user.bsuid == message.from_user.bsuid

    body, previous, new = sim.user_id_change({"from": PHONE})
    change = inbox.feed(body)
    assert change.new_user_id == new != previous
