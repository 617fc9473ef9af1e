"""The simulator speaks the Cloud API's request, response, error and webhook formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.sandbox.recorder import Recorder
from wagate.sandbox.app import create_sim_app
from wagate.sandbox.config import SimulatorConfig
from wagate.sandbox.simulator import Simulator

TOKEN = "sandbox-token"
PNID = "100000000000001"
WABA = "200000000000001"
SECRET = "sim-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Sim:
    client: httpx.AsyncClient
    sim: Simulator
    recorder: Recorder

    async def send(self, body: dict[str, Any], node: str = PNID, **headers: str) -> httpx.Response:
        return await self.client.post(
            f"/v21.0/{node}/messages", json={"messaging_product": "whatsapp", **body}, headers={**AUTH, **headers}
        )


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    recorder = Recorder(verify_token="vt")
    config = SimulatorConfig(
        app_secret=SECRET,
        verify_token="vt",
        webhook_url="http://receiver.test/hook",
        graph_base_url="http://sim.test",
        status_delays=(0.0, 0.0, 0.0),
        template_review_seconds=0.0,
    )
    app = create_sim_app(config, verify_on_start=False, webhook_transport=httpx.ASGITransport(app=recorder.app()))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
            yield Sim(client, app.state.simulator, recorder)


def graph_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert set(error) >= {"message", "type", "code", "fbtrace_id"}
    return error


# sending ------------------------------------------------------------------------------


async def test_send_answers_with_contacts_and_a_wamid(sim: Sim) -> None:
    response = await sim.send({"to": "+7 900 123-45-67", "type": "text", "text": {"body": "hi"}})
    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+7 900 123-45-67", "wa_id": "79001234567"}]
    assert body["messages"][0]["id"].startswith("wamid.")


async def test_another_token_gets_graph_error_190(sim: Sim) -> None:
    response = await sim.send({"to": "79001234567", "text": {"body": "x"}}, Authorization="Bearer wrong")
    assert response.status_code == 401
    error = graph_error(response)
    assert error["code"] == 190
    assert error["type"] == "OAuthException"


async def test_no_token_gets_graph_error_190(sim: Sim) -> None:
    response = await sim.client.post(f"/v21.0/{PNID}/messages", json={})
    assert graph_error(response)["code"] == 190


async def test_another_phone_number_id_is_invalid_parameter(sim: Sim) -> None:
    response = await sim.send({"to": "79001234567", "text": {"body": "x"}}, node="1")
    assert response.status_code == 400
    assert graph_error(response)["code"] == 100


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"to": "79001234567", "type": "poll", "poll": {}}, 131051),
        ({"to": "not a number", "text": {"body": "x"}}, 100),
        ({"to": "79001234567", "type": "text", "text": {}}, 131008),
        ({"to": "79001234567", "type": "image", "image": {}}, 131008),
        ({"to": "79001234567", "type": "image", "image": {"id": "404"}}, 131053),
        ({"to": "79001234567", "type": "audio", "audio": {"link": "https://x.org/a.ogg", "caption": "no"}}, 100),
        ({"to": "79001234567", "type": "location", "location": {"latitude": 1}}, 131008),
        ({"to": "79001234567", "type": "contacts", "contacts": [{"name": {}}]}, 131008),
    ],
)
async def test_invalid_requests_get_the_documented_codes(sim: Sim, body: dict[str, Any], code: int) -> None:
    response = await sim.send(body)
    error = graph_error(response)
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"


async def test_messaging_product_is_required(sim: Sim) -> None:
    response = await sim.client.post(f"/v21.0/{PNID}/messages", json={"to": "79001234567"}, headers=AUTH)
    assert graph_error(response)["code"] == 100


@pytest.mark.parametrize(
    "body",
    [
        {"type": "text", "text": {"body": "hi"}},
        {"type": "image", "image": {"link": "https://x.org/a.png", "caption": "c"}},
        {"type": "document", "document": {"link": "https://x.org/a.pdf", "filename": "a.pdf"}},
        {"type": "audio", "audio": {"link": "https://x.org/a.ogg"}},
        {"type": "video", "video": {"link": "https://x.org/a.mp4"}},
        {"type": "sticker", "sticker": {"link": "https://x.org/a.webp"}},
        {"type": "location", "location": {"latitude": 55.7, "longitude": 37.6}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "A B", "first_name": "A"}}]},
        {"type": "interactive", "interactive": {"type": "button", "body": {"text": "?"}, "action": {}}},
        {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
        {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
    ],
    ids=lambda b: b["type"],
)
async def test_every_message_type_is_accepted(sim: Sim, body: dict[str, Any]) -> None:
    response = await sim.send({"to": "79001234567", **body})
    assert response.status_code == 200, response.text
    wamid = response.json()["messages"][0]["id"]
    assert sim.sim.sent[wamid].type == body["type"]


# templates ----------------------------------------------------------------------------


def template(name: str, code: str, params: list[str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": name, "language": {"code": code}}
    if params is not None:
        obj["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
    return {"to": "79001234567", "type": "template", "template": obj}


async def test_template_with_the_right_parameters_is_accepted(sim: Sim) -> None:
    response = await sim.send(template("order_update", "ru", ["Anna", "#42"]))
    assert response.status_code == 200
    assert response.json()["messages"][0]["message_status"] == "accepted"


async def test_unknown_template_is_132001(sim: Sim) -> None:
    assert graph_error(await sim.send(template("no_such", "en")))["code"] == 132001


async def test_template_in_another_language_is_132001(sim: Sim) -> None:
    assert graph_error(await sim.send(template("hello_world", "en")))["code"] == 132001


@pytest.mark.parametrize("name", ["spring_sale", "winback_offer"])
async def test_template_not_approved_is_132001(sim: Sim, name: str) -> None:
    assert graph_error(await sim.send(template(name, "en", ["x"])))["code"] == 132001


@pytest.mark.parametrize("params", [[], ["Anna"], ["a", "b", "c"]])
async def test_wrong_parameter_count_is_132000(sim: Sim, params: list[str]) -> None:
    error = graph_error(await sim.send(template("order_update", "en", params)))
    assert error["code"] == 132000
    assert f"({len(params)})" in error["error_data"]["details"]


async def test_templates_are_listed_with_statuses_and_paging(sim: Sim) -> None:
    first = (await sim.client.get(f"/v21.0/{WABA}/message_templates", params={"limit": 2}, headers=AUTH)).json()
    assert len(first["data"]) == 2
    assert "next" in first["paging"]
    after = first["paging"]["cursors"]["after"]
    rest = (
        await sim.client.get(f"/v21.0/{WABA}/message_templates", params={"limit": 10, "after": after}, headers=AUTH)
    ).json()
    everything = first["data"] + rest["data"]
    assert "next" not in rest["paging"]
    statuses = {(t["name"], t["language"]): t["status"] for t in everything}
    assert statuses[("hello_world", "en_US")] == "APPROVED"
    assert statuses[("spring_sale", "en")] == "PENDING"
    assert statuses[("winback_offer", "en")] == "REJECTED"
    assert all({"id", "category", "components"} <= set(t) for t in everything)


async def test_a_created_template_is_pending_then_approved_with_a_webhook(sim: Sim) -> None:
    response = await sim.client.post(
        f"/v21.0/{WABA}/message_templates",
        json={
            "name": "new_one",
            "language": "en",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Anna"]]}}],
        },
        headers=AUTH,
    )
    assert response.json()["status"] == "PENDING"
    await sim.sim.webhooks.drain()
    change = sim.recorder.received[-1].body["entry"][0]["changes"][0]
    assert change["field"] == "message_template_status_update"
    assert change["value"]["event"] == "APPROVED"
    assert sim.sim.find_template("new_one", "en").status == "APPROVED"  # type: ignore[union-attr]


# webhooks -----------------------------------------------------------------------------


async def test_a_message_goes_sent_delivered_read_by_signed_webhooks(sim: Sim) -> None:
    wamid = (await sim.send({"to": "79001234567", "text": {"body": "hi"}})).json()["messages"][0]["id"]
    await sim.sim.webhooks.drain()
    assert sim.recorder.statuses() == [(wamid, "sent"), (wamid, "delivered"), (wamid, "read")]
    for item in sim.recorder.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), item.raw, hashlib.sha256).hexdigest()
        assert item.headers["x-hub-signature-256"] == expected
        body = item.body
        assert body["object"] == "whatsapp_business_account"
        assert body["entry"][0]["id"] == WABA
        value = body["entry"][0]["changes"][0]["value"]
        assert value["metadata"] == {"display_phone_number": "15550000001", "phone_number_id": PNID}
        assert value["statuses"][0]["recipient_id"] == "79001234567"


async def test_a_number_ending_in_0000_fails_with_131026_by_webhook(sim: Sim) -> None:
    response = await sim.send({"to": "79001230000", "text": {"body": "hi"}})
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    await sim.sim.webhooks.drain()
    assert sim.recorder.statuses() == [(wamid, "failed")]
    status = sim.recorder.received[0].body["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["errors"][0]["code"] == 131026
    assert status["errors"][0]["title"] == "Message undeliverable"


async def test_in_sync_mode_a_number_ending_in_0000_is_refused_at_once(sim: Sim) -> None:
    sim.sim.config = sim.sim.config.with_changes(undeliverable="sync")
    response = await sim.send({"to": "79001230000", "text": {"body": "hi"}})
    assert response.status_code == 400
    assert graph_error(response)["code"] == 131026


async def test_over_the_throughput_the_answer_is_130429(sim: Sim) -> None:
    sim.sim.config = sim.sim.config.with_changes(throughput=2.0)
    codes = [(await sim.send({"to": "79001234567", "text": {"body": str(i)}})).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    response = await sim.send({"to": "79001234567", "text": {"body": "x"}})
    assert graph_error(response)["code"] == 130429


async def test_with_the_window_enforced_free_text_to_a_silent_number_fails_with_131047(sim: Sim) -> None:
    sim.sim.config = sim.sim.config.with_changes(enforce_window=True)
    wamid = (await sim.send({"to": "79001234567", "text": {"body": "hi"}})).json()["messages"][0]["id"]
    await sim.sim.webhooks.drain()
    assert sim.recorder.statuses() == [(wamid, "failed")]
    errors = sim.recorder.received[0].body["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"]
    assert errors[0]["code"] == 131047


async def test_with_the_window_enforced_a_template_still_goes(sim: Sim) -> None:
    sim.sim.config = sim.sim.config.with_changes(enforce_window=True)
    wamid = (await sim.send(template("order_update", "en", ["a", "b"]))).json()["messages"][0]["id"]
    await sim.sim.webhooks.drain()
    assert (wamid, "read") in sim.recorder.statuses()


async def test_after_the_customer_writes_free_text_goes_within_the_window(sim: Sim) -> None:
    sim.sim.config = sim.sim.config.with_changes(enforce_window=True)
    await sim.client.post("/sandbox/inject", json={"from": "79001234567", "text": "hello"})
    wamid = (await sim.send({"to": "79001234567", "text": {"body": "hi"}})).json()["messages"][0]["id"]
    await sim.sim.webhooks.drain()
    assert (wamid, "read") in sim.recorder.statuses()


async def test_a_refused_webhook_is_retried(sim: Sim) -> None:
    sim.recorder.answers = [503]
    response = await sim.client.post("/sandbox/inject", json={"from": "79001234567", "text": "hello"})
    assert response.json()["webhook"] == {"delivered": True, "status_code": 200, "error": None}
    assert len(sim.recorder.received) == 2


async def test_a_webhook_refused_with_401_is_not_retried(sim: Sim) -> None:
    sim.recorder.answers = [401]
    response = await sim.client.post("/sandbox/inject", json={"from": "79001234567", "text": "hello"})
    assert response.json()["webhook"]["delivered"] is False
    assert len(sim.recorder.received) == 1


async def test_the_verification_handshake_is_run_against_the_callback(sim: Sim) -> None:
    assert (await sim.client.post("/sandbox/webhooks/verify")).json()["delivered"] is True
    sim.recorder.verify_token = "other"
    assert (await sim.client.post("/sandbox/webhooks/verify")).json()["delivered"] is False


# a customer writes --------------------------------------------------------------------


async def test_inject_text_produces_an_inbound_message_webhook(sim: Sim) -> None:
    response = await sim.client.post(
        "/sandbox/inject", json={"from": "+7 900 123-45-67", "text": "hello", "name": "Oleg"}
    )
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    value = sim.recorder.received[0].body["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Oleg"}, "wa_id": "79001234567"}]
    [message] = value["messages"]
    assert message["id"] == wamid
    assert message["from"] == "79001234567"
    assert message["type"] == "text"
    assert message["text"] == {"body": "hello"}


async def test_injected_media_is_downloadable_through_the_graph_api(sim: Sim) -> None:
    content = b"%PDF-1.4 sandbox"
    await sim.client.post(
        "/sandbox/inject",
        json={
            "from": "79001234567",
            "media": {
                "type": "document",
                "content_base64": base64.b64encode(content).decode(),
                "mime_type": "application/pdf",
                "filename": "offer.pdf",
                "caption": "our offer",
            },
        },
    )
    message = sim.recorder.received[0].body["entry"][0]["changes"][0]["value"]["messages"][0]
    document = message["document"]
    assert document["filename"] == "offer.pdf"
    assert document["caption"] == "our offer"
    info = (await sim.client.get(f"/v21.0/{document['id']}", headers=AUTH)).json()
    assert info["mime_type"] == "application/pdf"
    assert info["sha256"] == hashlib.sha256(content).hexdigest()
    assert info["file_size"] == len(content)
    download = await sim.client.get(info["url"], headers=AUTH)
    assert download.content == content
    assert (await sim.client.get(info["url"])).status_code == 401


@pytest.mark.parametrize(
    ("request_body", "kind"),
    [
        ({"media": {"type": "image"}}, "image"),
        ({"media": {"type": "voice"}}, "audio"),
        ({"media": {"type": "video", "caption": "v"}}, "video"),
        ({"media": {"type": "sticker"}}, "sticker"),
        ({"location": {"latitude": 55.7, "longitude": 37.6, "name": "Office"}}, "location"),
        ({"contacts": [{"name": {"formatted_name": "Ivan"}, "phones": [{"phone": "+79035551234"}]}]}, "contacts"),
        ({"reaction": {"message_id": "wamid.X", "emoji": "👍"}}, "reaction"),
        ({"button": {"text": "Stop", "payload": "STOP"}}, "button"),
        ({"interactive": {"type": "button_reply", "id": "yes", "title": "Yes"}}, "interactive"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
async def test_every_inbound_kind_can_be_injected(sim: Sim, request_body: dict[str, Any], kind: str) -> None:
    response = await sim.client.post("/sandbox/inject", json={"from": "79001234567", **request_body})
    assert response.status_code == 200, response.text
    message = sim.recorder.received[0].body["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == kind
    assert kind in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "x"}, "from"),
        ({"from": "12"}, "from"),
        ({"from": "79001234567"}, "text"),
        ({"from": "79001234567", "media": {"type": "gif"}}, "media.type"),
    ],
)
async def test_inject_names_the_bad_field(sim: Sim, body: dict[str, Any], field: str) -> None:
    response = await sim.client.post("/sandbox/inject", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_marking_read_is_recorded(sim: Sim) -> None:
    response = await sim.send({"status": "read", "message_id": "wamid.ABC"})
    assert response.json() == {"success": True}
    assert (await sim.client.get("/sandbox/read-receipts")).json()["data"] == ["wamid.ABC"]


# media --------------------------------------------------------------------------------


async def test_media_upload_describe_download_delete(sim: Sim) -> None:
    content = b"\x89PNG fake"
    upload = await sim.client.post(
        f"/v21.0/{PNID}/media",
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("a.png", content, "image/png")},
        headers=AUTH,
    )
    assert upload.status_code == 200, upload.text
    media_id = upload.json()["id"]
    assert media_id.isdigit()
    info = (await sim.client.get(f"/v21.0/{media_id}", headers=AUTH)).json()
    assert info["messaging_product"] == "whatsapp"
    assert info["id"] == media_id
    assert (await sim.client.get(info["url"], headers=AUTH)).content == content
    sent = await sim.send({"to": "79001234567", "type": "image", "image": {"id": media_id}})
    assert sent.status_code == 200
    assert (await sim.client.delete(f"/v21.0/{media_id}", headers=AUTH)).json() == {"success": True}
    assert graph_error(await sim.client.get(f"/v21.0/{media_id}", headers=AUTH))["code"] == 100


async def test_media_upload_needs_messaging_product(sim: Sim) -> None:
    response = await sim.client.post(f"/v21.0/{PNID}/media", files={"file": ("a.png", b"x", "image/png")}, headers=AUTH)
    assert graph_error(response)["code"] == 100


async def test_the_contact_check_says_0000_is_invalid(sim: Sim) -> None:
    response = await sim.client.post(
        f"/v21.0/{PNID}/contacts", json={"blocking": "wait", "contacts": ["+79001234567", "+79001230000"]}, headers=AUTH
    )
    assert response.json()["contacts"] == [
        {"input": "+79001234567", "status": "valid", "wa_id": "79001234567"},
        {"input": "+79001230000", "status": "invalid"},
    ]


async def test_config_can_be_tuned_and_secrets_stay_masked(sim: Sim) -> None:
    response = await sim.client.patch("/sandbox/config", json={"status_delays": [0.1, 0.2, 0.3], "throughput": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["status_delays"] == [0.1, 0.2, 0.3]
    assert body["throughput"] == 5.0
    assert body["app_secret"] == "***"
    assert (await sim.client.patch("/sandbox/config", json={"throughput": 0})).status_code == 422
