"""The cloud channel against the in-process sandbox, over real HTTP on the gateway's own port.

The whole road: API → queue → dispatcher → channel → Graph API (simulated) → signed webhooks
→ receiver → stored statuses and inbound messages.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import Response

from tests.channels.cloud.live import Live, live_gateway, sandbox_plugins, serve
from tests.conftest import free_port, make_settings
from wagate.channels.cloud.channel import CloudChannel
from wagate.channels.cloud.webhook import sign
from wagate.crypto import SecretBox
from wagate.domain.statuses import Status
from wagate.sandbox.config import SimulatorOptions
from wagate.store.cloud_tables import cloud_pending_statuses
from wagate.store.repos import channels as channel_repo
from wagate.store.repos import cloud as cloud_repo
from wagate.store.repos import messages as message_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.tables import channels as channels_table

PHONE = "79001234567"
NOT_ON_WA = "79001230000"


def gateway_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Any:
    # The tests' file server stands on loopback, which media fetches may not reach by default.
    overrides.setdefault("media_allow_loopback", True)
    return make_settings(db_url, tmp_path, sandbox=True, port=free_port(), dispatcher_workers=2, **overrides)


@pytest.fixture
async def live(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=sandbox_plugins()) as gateway:
        yield gateway


async def sandbox_row(live: Live) -> ChannelRow:
    tenant_id = live.app.state.bootstrap.tenant.id
    row = await live.rt.db.read(lambda c: channel_repo.get_channel(c, tenant_id, "sandbox"))
    assert row is not None
    return row


async def sandbox_channel(live: Live) -> CloudChannel:
    channel = await live.rt.channel_instance(await sandbox_row(live))
    assert isinstance(channel, CloudChannel)
    return channel


def statuses(message: dict[str, Any]) -> list[str]:
    return [h["status"] for h in message["history"] if h["applied"]]


#: For tests about something other than the rules: a channel that lets free text through.
RELAXED = {"service_window": False, "consent": "off", "duplicate_window_s": 0}


# the road of CONTRACT §7, on both dialects ----------------------------------------------


async def test_a_message_reaches_read_with_its_full_history(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=sandbox_plugins()) as live:
        accepted = await live.send({"to": "+7 (900) 123-45-67", "text": "Hello from wagate"})
        assert accepted["channel"] == "sandbox"
        message = await live.wait(accepted["id"])
        assert message["status"] == "read"
        assert statuses(message) == ["queued", "sending", "sent", "delivered", "read"]
        assert message["provider_id"].startswith("wamid.")
        [sent] = (await live.client.get("/sandbox/messages")).json()["data"]
        assert sent["body"]["text"] == {"body": "Hello from wagate", "preview_url": False}


async def test_a_number_ending_in_0000_fails_as_not_on_whatsapp(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=sandbox_plugins()) as live:
        message = await live.wait((await live.send({"to": NOT_ON_WA, "text": "hi"}))["id"])
        assert message["status"] == "failed"
        assert message["error"]["code"] == "not_on_whatsapp"
        assert "131026" in message["error"]["message"]
        phone = (await live.client.get(f"/v1/phones/{NOT_ON_WA}")).json()
        assert phone["whatsapp"] == "none"


async def test_an_injected_customer_message_is_listed_as_inbound(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=sandbox_plugins()) as live:
        response = await live.client.post("/sandbox/inject", json={"from": PHONE, "text": "Где мой заказ?"})
        assert response.status_code == 200
        assert response.json()["webhook"]["delivered"] is True
        [message] = await live.inbound()
        assert message["direction"] == "in"
        assert message["status"] == "received"
        assert message["from"] == PHONE
        assert message["text"] == "Где мой заказ?"
        assert message["provider_id"] == response.json()["messages"][0]["id"]


# the sandbox channel ----------------------------------------------------------------------


async def test_the_sandbox_channel_is_the_default_with_the_sandbox_policy(live: Live) -> None:
    [channel] = (await live.client.get("/v1/channels")).json()["data"]
    assert channel["name"] == "sandbox"
    assert channel["kind"] == "cloud"
    assert channel["is_default"] is True
    assert {k: channel["policy"][k] for k in ("service_window", "consent")} == {
        "service_window": False,
        "consent": "warn",
    }
    assert channel["settings"]["graph_url"] == f"{live.url}/sandbox/graph"
    assert channel["settings"]["access_token"] == "***"
    assert channel["settings"]["app_secret"] == "***"


async def test_channel_secrets_are_encrypted_at_rest(live: Live) -> None:
    stored = await live.rt.db.read(
        lambda c: c.execute(sa.select(channels_table.c.settings).where(channels_table.c.name == "sandbox")).scalar()
    )
    for key in ("access_token", "app_secret", "verify_token"):
        assert SecretBox.is_encrypted(stored[key]), key
    assert "sandbox-token" not in orjson.dumps(stored).decode()


async def test_a_restart_on_another_port_keeps_one_sandbox_channel_pointed_at_itself(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=sandbox_plugins()) as first:
        first_settings = (await sandbox_row(first)).settings
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=sandbox_plugins()) as second:
        rows = (await second.client.get("/v1/channels")).json()["data"]
        assert [r["name"] for r in rows] == ["sandbox"]
        settings = (await sandbox_row(second)).settings
        assert settings["graph_url"] == f"{second.url}/sandbox/graph"
        assert settings["app_secret"] == first_settings["app_secret"]
        message = await second.wait((await second.send({"to": PHONE, "text": "again"}))["id"])
        assert message["status"] == "read"


# every message type, outbound ------------------------------------------------------------

OUTBOUND: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
    ({"type": "text", "text": "plain"}, "text", {"body": "plain", "preview_url": False}),
    (
        {"type": "image", "media": {"url": "https://cdn.example.org/a.jpg", "caption": "look"}},
        "image",
        {"link": "https://cdn.example.org/a.jpg", "caption": "look"},
    ),
    (
        {"type": "document", "media": {"url": "https://cdn.example.org/a.pdf", "filename": "a.pdf"}},
        "document",
        {"link": "https://cdn.example.org/a.pdf", "filename": "a.pdf"},
    ),
    (
        {"type": "audio", "media": {"url": "https://cdn.example.org/a.mp3"}},
        "audio",
        {"link": "https://cdn.example.org/a.mp3"},
    ),
    (
        {"type": "voice", "media": {"url": "https://cdn.example.org/v.ogg"}},
        "audio",
        {"link": "https://cdn.example.org/v.ogg"},
    ),
    (
        {"type": "video", "media": {"url": "https://cdn.example.org/a.mp4", "caption": "v"}},
        "video",
        {"link": "https://cdn.example.org/a.mp4", "caption": "v"},
    ),
    (
        {"type": "location", "location": {"latitude": 55.75, "longitude": 37.62, "name": "Office"}},
        "location",
        {"latitude": 55.75, "longitude": 37.62, "name": "Office"},
    ),
    (
        {"type": "template", "template": {"name": "order_update", "language": "en", "params": ["Anna", "#42"]}},
        "template",
        {
            "name": "order_update",
            "language": {"policy": "deterministic", "code": "en"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Anna"}, {"type": "text", "text": "#42"}]}
            ],
        },
    ),
]


@pytest.mark.parametrize(
    ("message", "graph_type", "graph_object"), OUTBOUND, ids=lambda x: x if isinstance(x, str) else None
)
async def test_every_outbound_type_reaches_the_simulator_in_the_graph_shape(
    live: Live, message: dict[str, Any], graph_type: str, graph_object: dict[str, Any]
) -> None:
    result = await live.wait((await live.send({"to": PHONE, **message}))["id"])
    assert result["status"] == "read", result
    [sent] = (await live.client.get("/sandbox/messages")).json()["data"]
    assert sent["type"] == graph_type
    assert sent["body"][graph_type] == graph_object
    assert sent["body"]["to"] == PHONE


async def test_contacts_are_sent_as_contact_cards(live: Live) -> None:
    contacts = [{"name": "Ivan Sidorov", "phones": ["+79035551234"], "emails": [{"email": "ivan@example.org"}]}]
    result = await live.wait((await live.send({"to": PHONE, "type": "contacts", "contacts": contacts}))["id"])
    assert result["status"] == "read"
    [sent] = (await live.client.get("/sandbox/messages")).json()["data"]
    [card] = sent["body"]["contacts"]
    assert card["name"]["formatted_name"] == "Ivan Sidorov"
    assert card["phones"] == [{"phone": "+79035551234"}]


async def test_media_by_meta_id_is_sent_by_id(live: Live) -> None:
    sim = live.sim
    uploaded = sim.upload_media(sim.config.phone_number_id, b"pdf bytes", "application/pdf", "x.pdf")
    message = {"type": "document", "media": {"id": uploaded["id"], "filename": "x.pdf"}}
    result = await live.wait((await live.send({"to": PHONE, **message}))["id"])
    assert result["status"] == "read"
    [sent] = (await live.client.get("/sandbox/messages")).json()["data"]
    assert sent["body"]["document"] == {"id": uploaded["id"], "filename": "x.pdf"}


async def test_an_uploaded_local_file_is_uploaded_to_the_graph_api_and_sent_by_id(live: Live) -> None:
    content = b"%PDF-1.4 wagate offer"
    upload = await live.client.post("/v1/media", files={"file": ("offer.pdf", content, "application/pdf")})
    assert upload.status_code == 201, upload.text
    url = upload.json()["url"]
    assert url.startswith(f"{live.url}/v1/media/")
    message = {"type": "document", "media": {"url": url, "filename": "offer.pdf", "caption": "our offer"}}
    first = await live.wait((await live.send({"to": PHONE, **message}))["id"])
    second = await live.wait((await live.send({"to": PHONE, **message}))["id"])
    assert first["status"] == second["status"] == "read"
    sent = (await live.client.get("/sandbox/messages")).json()["data"]
    documents = [s["body"]["document"] for s in sent]
    assert {d["id"] for d in documents} == {documents[0]["id"]}  # uploaded once, reused
    assert documents[0]["caption"] == "our offer"
    assert live.sim.media[documents[0]["id"]].content == content


@pytest.fixture
async def file_server() -> AsyncIterator[str]:
    """A plain file server on a loopback address: somewhere Meta could never fetch from."""
    app = FastAPI()

    @app.get("/files/{name}")
    async def file(name: str) -> Response:
        if name != "photo.png":
            return Response(status_code=404)
        return Response(PNG, media_type="image/png")

    async with serve(app, free_port()) as url:
        yield url


PNG = b"\x89PNG served from a private address"


async def test_a_url_meta_cannot_reach_is_fetched_and_uploaded(live: Live, file_server: str) -> None:
    url = f"{file_server}/files/photo.png"
    message = await live.wait((await live.send({"to": PHONE, "type": "image", "media": {"url": url}}))["id"])
    assert message["status"] == "read", message
    [sent] = (await live.client.get("/sandbox/messages")).json()["data"]
    media_id = sent["body"]["image"]["id"]
    assert "link" not in sent["body"]["image"]
    assert live.sim.media[media_id].content == PNG
    assert live.sim.media[media_id].mime_type == "image/png"


async def test_a_private_url_that_answers_404_fails_the_message(live: Live, file_server: str) -> None:
    media = {"url": f"{file_server}/files/gone.png"}
    message = await live.wait((await live.send({"to": PHONE, "type": "image", "media": media}))["id"])
    assert message["status"] == "failed"
    assert message["error"]["code"] == "media_unavailable"


async def test_with_upload_media_never_every_url_goes_as_a_link(live: Live, file_server: str) -> None:
    await live.client.patch("/v1/channels/sandbox", json={"settings": {"upload_media": "never"}})
    url = f"{file_server}/files/photo.png"
    message = await live.wait((await live.send({"to": PHONE, "type": "image", "media": {"url": url}}))["id"])
    assert message["status"] == "read"
    [sent] = (await live.client.get("/sandbox/messages")).json()["data"]
    assert sent["body"]["image"] == {"link": url}


async def test_link_local_media_urls_are_refused(live: Live) -> None:
    media = {"url": "http://169.254.169.254/latest/meta-data"}
    message = await live.wait((await live.send({"to": PHONE, "type": "image", "media": media}))["id"])
    assert message["status"] == "failed"
    assert message["error"]["code"] == "media_url_refused"


# every message type, inbound -------------------------------------------------------------

INBOUND: list[tuple[dict[str, Any], str, str]] = [
    ({"text": "hello"}, "text", "text"),
    ({"media": {"type": "image", "caption": "receipt"}}, "image", "media"),
    ({"media": {"type": "document", "filename": "a.pdf"}}, "document", "media"),
    ({"media": {"type": "audio"}}, "audio", "media"),
    ({"media": {"type": "voice"}}, "voice", "media"),
    ({"media": {"type": "video"}}, "video", "media"),
    ({"media": {"type": "sticker"}}, "sticker", "media"),
    ({"location": {"latitude": 55.75, "longitude": 37.62, "name": "Office"}}, "location", "location"),
    (
        {"contacts": [{"name": {"formatted_name": "Ivan"}, "phones": [{"phone": "+79035551234"}]}]},
        "contacts",
        "contacts",
    ),
    ({"reaction": {"message_id": "wamid.X", "emoji": "👍"}}, "reaction", "reaction"),
    ({"button": {"text": "Stop promotions", "payload": "STOP"}}, "button", "button"),
    ({"interactive": {"type": "list_reply", "id": "slot-3", "title": "Tuesday"}}, "interactive", "interactive"),
]


@pytest.mark.parametrize(("inject", "stored_type", "key"), INBOUND, ids=lambda x: x if isinstance(x, str) else None)
async def test_every_inbound_type_is_stored(live: Live, inject: dict[str, Any], stored_type: str, key: str) -> None:
    response = await live.client.post("/sandbox/inject", json={"from": PHONE, **inject})
    assert response.json()["webhook"]["delivered"] is True, response.text
    [message] = await live.inbound()
    assert message["type"] == stored_type
    assert key in message
    assert message["profile_name"] == "Sandbox Customer"


async def test_inbound_media_is_downloaded_and_served_with_authentication(live: Live) -> None:
    content = b"%PDF-1.4 signed contract"
    await live.client.post(
        "/sandbox/inject",
        json={
            "from": PHONE,
            "media": {
                "type": "document",
                "content_base64": base64.b64encode(content).decode(),
                "mime_type": "application/pdf",
                "filename": "contract.pdf",
                "caption": "signed",
            },
        },
    )
    [message] = await live.inbound()
    media = message["media"]
    assert media["filename"] == "contract.pdf"
    assert media["caption"] == "signed"
    assert media["size"] == len(content)
    assert media["sha256"] == hashlib.sha256(content).hexdigest()
    assert media["url"].startswith(f"{live.url}/v1/media/")
    download = await live.client.get(media["url"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(media["url"])).status_code == 401


async def test_an_inbound_message_can_be_marked_read(live: Live) -> None:
    wamid = (await live.client.post("/sandbox/inject", json={"from": PHONE, "text": "hi"})).json()["messages"][0]["id"]
    [message] = await live.inbound()
    response = await live.client.post(f"/v1/messages/{message['id']}/read")
    assert response.status_code == 200, response.text
    assert (await live.client.get("/sandbox/read-receipts")).json()["data"] == [wamid]


async def test_an_outbound_message_cannot_be_marked_read(live: Live) -> None:
    accepted = await live.send({"to": PHONE, "text": "hi"})
    response = await live.client.post(f"/v1/messages/{accepted['id']}/read")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_inbound"


async def test_a_repeated_webhook_stores_the_message_once(live: Live) -> None:
    wamid, body, _ = live.sim.inbound_message({"from": PHONE, "text": "once"})
    for _ in range(2):
        assert (await live.sim.webhooks.deliver(body, "message")).delivered
    assert [m["provider_id"] for m in await live.inbound()] == [wamid]


# the webhook receiver --------------------------------------------------------------------


async def test_a_bad_or_missing_signature_is_refused_with_401_and_counted(live: Live) -> None:
    row = await sandbox_row(live)
    _wamid, body, _ = live.sim.inbound_message({"from": PHONE, "text": "forged"})
    raw = orjson.dumps(body)
    url = f"/webhooks/cloud/{row.settings['webhook_id']}"
    for headers in ({}, {"X-Hub-Signature-256": sign(raw, "not-the-app-secret")}):
        response = await live.client.post(url, content=raw, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["field"] == "X-Hub-Signature-256"
    assert await live.inbound() == []
    metrics = (await live.client.get("/metrics")).text
    assert 'wagate_cloud_webhook_rejected_total{channel="sandbox",reason="missing_signature"} 1.0' in metrics
    assert 'wagate_cloud_webhook_rejected_total{channel="sandbox",reason="bad_signature"} 1.0' in metrics


async def test_an_unknown_webhook_id_is_404(live: Live) -> None:
    assert (await live.client.post("/webhooks/cloud/nope", content=b"{}")).status_code == 404


async def test_the_verification_handshake_echoes_the_challenge(live: Live) -> None:
    outcome = (await live.client.post("/sandbox/webhooks/verify")).json()
    assert outcome["delivered"] is True, outcome
    row = await sandbox_row(live)
    response = await live.client.get(
        f"/webhooks/cloud/{row.settings['webhook_id']}",
        params={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "12345"},
    )
    assert response.status_code == 403


async def test_the_handshake_answers_the_challenge_in_plain_text(live: Live) -> None:
    row = await sandbox_row(live)
    token = (await sandbox_channel(live)).settings.verify_token
    response = await live.client.get(
        f"/webhooks/cloud/{row.settings['webhook_id']}",
        params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.text == "1158201444"


async def test_a_status_that_arrives_before_the_send_is_recorded_is_applied_later(live: Live) -> None:
    row = await sandbox_row(live)
    channel = await sandbox_channel(live)
    wamid = "wamid.EARLY"
    record = live.sim.sent
    from wagate.sandbox.simulator import SentRecord

    record[wamid] = SentRecord(id=wamid, to=PHONE, type="text", body={}, status="delivered", created=0)
    body = live.sim.status_webhook(record[wamid], "delivered")
    raw = orjson.dumps(body)
    assert channel.settings.app_secret is not None
    headers = {"X-Hub-Signature-256": sign(raw, channel.settings.app_secret)}
    response = await live.client.post(f"/webhooks/cloud/{row.settings['webhook_id']}", content=raw, headers=headers)
    assert response.status_code == 200
    pending = await live.rt.db.read(lambda c: c.execute(sa.select(cloud_pending_statuses)).all())
    assert [(p.provider_id, p.status) for p in pending] == [(wamid, "delivered")]
    # now the message appears with that wamid, as the dispatcher would record it
    now = live.rt.clock.now()
    paused = {"status": "paused"}
    await live.client.patch("/v1/channels/sandbox", json=paused)
    accepted = await live.send({"to": PHONE, "text": "late"})

    def record_sent(conn: sa.Connection) -> None:
        message_repo.apply_status(conn, accepted["id"], Status.SENDING, now=now)
        message_repo.apply_status(conn, accepted["id"], Status.SENT, now=now, provider_id=wamid)

    await live.rt.db.write(record_sent)
    live.rt.extras["cloud_sweeper"].poke()
    message = await live.wait(accepted["id"], lambda m: m["status"] == "delivered", timeout=5)
    assert "arrived before the send was recorded" in message["history"][-1]["reason"]
    assert await live.rt.db.read(lambda c: c.execute(sa.select(cloud_pending_statuses)).all()) == []


# throughput, templates, the window --------------------------------------------------------


async def test_over_the_throughput_a_message_is_retried_not_failed(live: Live) -> None:
    await live.client.patch("/sandbox/config", json={"throughput": 2})
    # Four recipients: the dispatcher spaces messages to one recipient 6 s apart.
    batch = await live.client.post(
        "/v1/messages", json={"messages": [{"to": f"7900555010{i}", "text": str(i)} for i in range(4)]}
    )
    ids = [r["id"] for r in batch.json()["results"]]
    messages = [await live.wait(i, timeout=30) for i in ids]
    assert [m["status"] for m in messages] == ["read"] * 4
    retried = [h for m in messages for h in m["history"] if h["error_code"] == "rate_limited"]
    assert retried, "at least one send met error 130429"
    assert all(h["status"] == "queued" for h in retried)


@pytest.mark.parametrize(
    ("template", "code"),
    [
        ({"name": "order_updte", "language": "en", "params": ["a", "b"]}, "template_not_found"),
        ({"name": "spring_sale", "language": "en", "params": ["10%"]}, "template_not_approved"),
        ({"name": "order_update", "language": "en", "params": ["only one"]}, "template_param_count"),
    ],
)
async def test_template_errors_known_from_the_synced_templates_are_refused_at_acceptance(
    live: Live, template: dict[str, Any], code: str
) -> None:
    response = await live.client.post("/v1/messages", json={"to": PHONE, "type": "template", "template": template})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_a_tenant_wide_template_is_submitted_to_meta_and_refused_on_the_cloud_channel_until_approved(
    live: Live,
) -> None:
    await live.client.patch("/sandbox/config", json={"template_review_seconds": None})
    created = await live.client.post(
        "/v1/templates",
        json={
            "name": "legacy_notice",
            "language": "en",
            "category": "utility",
            "body": "Hi {{1}}",
            "status": "approved",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["channel"] is None
    assert [(s["channel"], s["status"]) for s in created.json()["submissions"]] == [("sandbox", "pending")]
    refused = await live.client.post(
        "/v1/messages",
        json={
            "to": PHONE,
            "type": "template",
            "template": {"name": "legacy_notice", "language": "en", "params": ["A"]},
        },
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "template_not_approved"


async def test_outside_the_24_hour_window_free_text_fails_with_131047(live: Live) -> None:
    await live.client.patch("/sandbox/config", json={"enforce_window": True})
    message = await live.wait((await live.send({"to": "79005550101", "text": "hi"}))["id"])
    assert message["status"] == "failed"
    assert message["error"]["code"] == "outside_service_window"
    await live.client.post("/sandbox/inject", json={"from": "79005550101", "text": "hello"})
    message = await live.wait((await live.send({"to": "79005550101", "text": "hi again"}))["id"])
    assert message["status"] == "read"


# phones, templates, channels ----------------------------------------------------------


async def test_phone_checks_are_answered_through_the_channel(live: Live) -> None:
    assert (await live.client.get("/v1/phones/79001239999")).json()["whatsapp"] == "exists"
    assert (await live.client.get("/v1/phones/79001230000")).json()["whatsapp"] == "none"


async def test_a_customer_who_wrote_is_known_to_be_on_whatsapp(live: Live) -> None:
    await live.client.patch("/v1/channels/sandbox", json={"settings": {"contacts_check": False}})
    await live.client.post("/sandbox/inject", json={"from": "79005550202", "text": "hi"})
    assert (await live.client.get("/v1/phones/79005550202")).json()["whatsapp"] == "exists"
    assert (await live.client.get("/v1/phones/79005550303")).json()["whatsapp"] == "unknown"


async def test_templates_are_listed_through_the_channel(live: Live) -> None:
    templates = await (await sandbox_channel(live)).list_templates()
    by_key = {(t.name, t.language): t for t in templates}
    assert by_key[("order_update", "ru")].status == "approved"
    assert by_key[("order_update", "ru")].param_count == 2
    assert by_key[("order_update", "ru")].body == "Здравствуйте, {{1}}! Ваш заказ {{2}} отправлен."
    assert by_key[("spring_sale", "en")].status == "pending"
    assert by_key[("winback_offer", "en")].status == "rejected"
    assert by_key[("hello_world", "en_US")].param_count == 0


async def test_a_cloud_channel_created_through_the_api_has_its_secrets_encrypted(live: Live) -> None:
    settings = {
        "phone_number_id": "123",
        "access_token": "EAAG-real-looking-token",
        "app_secret": "app-secret-1",
        "verify_token": "verify-1",
    }
    response = await live.client.post("/v1/channels", json={"name": "meta", "kind": "cloud", "settings": settings})
    assert response.status_code == 201, response.text
    shown = response.json()["settings"]
    assert shown["access_token"] == "***"
    assert shown["upload_media"] == "auto"
    assert shown["webhook_id"]
    assert {k: response.json()["policy"][k] for k in ("service_window", "consent")} == {
        "service_window": True,
        "consent": "enforce",
    }
    tenant_id = live.app.state.bootstrap.tenant.id
    row = await live.rt.db.read(lambda c: channel_repo.get_channel(c, tenant_id, "meta"))
    assert row is not None
    assert live.rt.secret_box.decrypt(row.settings["access_token"]) == "EAAG-real-looking-token"
    # echoing the mask back keeps the secret; a new value replaces it
    patched = await live.client.patch("/v1/channels/meta", json={"settings": {"access_token": "***", "waba_id": "9"}})
    assert patched.status_code == 200
    row = await live.rt.db.read(lambda c: channel_repo.get_channel(c, tenant_id, "meta"))
    assert row is not None
    assert live.rt.secret_box.decrypt(row.settings["access_token"]) == "EAAG-real-looking-token"
    assert row.settings["waba_id"] == "9"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"access_token": "t"}, "settings.phone_number_id"),
        ({"phone_number_id": "1"}, "settings.access_token"),
        ({"phone_number_id": "1", "access_token": "t", "upload_media": "maybe"}, "settings.upload_media"),
        ({"phone_number_id": "1", "access_token": "t", "graph_url": "ftp://x"}, "settings.graph_url"),
    ],
)
async def test_cloud_channel_settings_are_validated(live: Live, settings: dict[str, Any], field: str) -> None:
    response = await live.client.post("/v1/channels", json={"name": "bad", "kind": "cloud", "settings": settings})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_credentials_may_come_from_the_environment(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAGATE_TEST_CLOUD_TOKEN", "sandbox-token")
    settings = {
        "phone_number_id": "100000000000001",
        "access_token": "env:WAGATE_TEST_CLOUD_TOKEN",
        "graph_url": f"{live.url}/sandbox/graph",
    }
    response = await live.client.post(
        "/v1/channels", json={"name": "envtoken", "kind": "cloud", "settings": settings, "policy": RELAXED}
    )
    assert response.status_code == 201
    # accepted by the Graph API with the token read from the environment (its webhooks go to the
    # sandbox channel's receiver, the simulator's one callback URL, so it stays "sent")
    accepted = await live.send({"to": PHONE, "text": "hi", "channel": "envtoken"})
    message = await live.wait(accepted["id"], lambda m: m["status"] != "queued" and m["status"] != "sending")
    assert message["status"] == "sent"


async def test_a_wrong_token_is_retried_as_an_operator_problem(live: Live) -> None:
    settings = {"phone_number_id": "100000000000001", "access_token": "wrong", "graph_url": f"{live.url}/sandbox/graph"}
    await live.client.post(
        "/v1/channels", json={"name": "badtoken", "kind": "cloud", "settings": settings, "policy": RELAXED}
    )
    accepted = await live.send({"to": PHONE, "text": "hi", "channel": "badtoken"})
    message = await live.wait(accepted["id"], lambda m: any(h["error_code"] == "auth_failed" for h in m["history"]))
    assert message["status"] == "queued"


async def test_the_simulator_is_off_without_the_sandbox(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, sandbox=False, port=free_port())
    async with live_gateway(settings, plugins=sandbox_plugins()[:1]) as live:
        assert (await live.client.post("/sandbox/inject", json={"from": PHONE, "text": "x"})).status_code == 404
        assert (await live.client.get("/v1/channels")).json()["data"] == []


async def test_fast_delays_come_from_the_options(sqlite_url: str, tmp_path: Path) -> None:
    options = SimulatorOptions(fast=True, throughput=5, enforce_window=True, undeliverable="sync")
    async with live_gateway(gateway_settings(sqlite_url, tmp_path), plugins=sandbox_plugins(options)) as live:
        config = (await live.client.get("/sandbox/config")).json()
        assert config["status_delays"] == [0.05, 0.05, 0.05]
        assert (config["throughput"], config["enforce_window"], config["undeliverable"]) == (5.0, True, "sync")
        message = await live.wait(
            (
                await live.send(
                    {"to": NOT_ON_WA, "type": "template", "template": {"name": "hello_world", "language": "en_US"}}
                )
            )["id"]
        )
        assert message["error"]["code"] == "not_on_whatsapp"
        assert statuses(message) == ["queued", "sending", "failed"]


async def test_a_changed_app_secret_applies_to_the_next_webhook(live: Live) -> None:
    row = await sandbox_row(live)
    patched = await live.client.patch("/v1/channels/sandbox", json={"settings": {"app_secret": "rotated"}})
    assert patched.status_code == 200
    _wamid, body, _ = live.sim.inbound_message({"from": PHONE, "text": "after rotation"})
    raw = orjson.dumps(body)
    url = f"/webhooks/cloud/{row.settings['webhook_id']}"
    assert (
        await live.client.post(url, content=raw, headers={"X-Hub-Signature-256": sign(raw, live.sim.config.app_secret)})
    ).status_code == 401
    assert (
        await live.client.post(url, content=raw, headers={"X-Hub-Signature-256": sign(raw, "rotated")})
    ).status_code == 200


async def test_a_status_whose_message_never_appears_is_dropped_after_a_day(live: Live) -> None:
    row = await sandbox_row(live)
    long_ago = live.rt.clock.now() - timedelta(days=2)
    await live.rt.db.write(
        lambda c: cloud_repo.add_pending(
            c,
            channel_id=row.id,
            provider_id="wamid.ORPHAN",
            status="read",
            error_code=None,
            error_message=None,
            provider_code=None,
            now=long_ago,
        )
    )
    sweeper = live.rt.extras["cloud_sweeper"]
    sweeper.cleanup_every = 0.0
    assert await sweeper.sweep() == 0
    assert await live.rt.db.read(lambda c: c.execute(sa.select(cloud_pending_statuses)).all()) == []
