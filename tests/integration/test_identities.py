"""People, not phone numbers: BSUIDs, hidden phones, id changes and coexistence, end to end.

The whole road on both databases: the in-process simulator sends Meta's 2026 webhook shapes,
the receiver matches people by their strongest identity, the API shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from tests.channels.cloud.live import Live, live_gateway, sandbox_plugins
from tests.channels.cloud.test_sandbox_gateway import gateway_settings, sandbox_channel, sandbox_row
from wagate.channels.cloud.webhook import sign
from wagate.dashboard.plugin import dashboard_plugin
from wagate.domain.identities import Identities
from wagate.services import identities
from wagate.services.inbound import record_inbound
from wagate.store.database import make_sqlite_engine
from wagate.store.migrate import migrate
from wagate.webhooks.plugin import webhooks_plugin

#: The cloud channel, the simulator, the dashboard (conversations, analytics) and the events feed.
PLUGINS = [*sandbox_plugins(), dashboard_plugin, webhooks_plugin]
PHONE = "79001234567"
OTHER = "79007654321"
HIDDEN = "79001239999"
META_BSUID = "US.13491208655302741918"


async def inject(live: Live, body: dict[str, Any]) -> None:
    response = await live.client.post("/sandbox/inject", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["webhook"]["delivered"], response.text


async def messages(live: Live, **params: str) -> list[dict[str, Any]]:
    response = await live.client.get("/v1/messages", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def conversations(live: Live) -> list[dict[str, Any]]:
    response = await live.client.get("/v1/conversations")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def contacts(live: Live) -> list[dict[str, Any]]:
    response = await live.client.get("/v1/contacts")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_a_person_without_a_phone_is_stored_shown_and_answered_by_bsuid(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        await inject(live, {"user_id": META_BSUID, "username": "bob", "text": "hi"})
        [inbound] = await messages(live, direction="in")
        assert inbound["phone"] is None
        assert inbound["from"] == META_BSUID
        assert inbound["identities"] == {
            "phone": None,
            "user_id": META_BSUID,
            "parent_user_id": None,
            "username": "@bob",
            "lid": None,
        }
        [card] = await contacts(live)
        assert card["phone"] is None and card["identities"]["user_id"] == META_BSUID
        feed = (await live.client.get("/v1/events", params={"types": "message.received"})).json()["data"]
        [event] = [e["data"] for e in feed]
        assert (event["phone"], event["person"], event["identities"]["user_id"]) == (None, META_BSUID, META_BSUID)
        assert (await live.client.get(f"/v1/contacts/{META_BSUID}")).status_code == 200

        accepted = await live.send({"to": META_BSUID, "text": "Hello, Bob"})
        assert (accepted["to"], accepted["phone"]) == (META_BSUID, None)
        sent = await live.wait(accepted["id"], lambda m: m["status"] == "read")
        assert sent["sent_to"] == {"kind": "user_id", "value": META_BSUID}
        assert sent["identities"]["user_id"] == META_BSUID
        [record] = [r for r in live.sim.sent.values() if r.body.get("recipient") == META_BSUID]
        assert "to" not in record.body

        [conversation] = await conversations(live)
        assert conversation["phone"] is None and conversation["identities"]["user_id"] == META_BSUID


async def test_a_malformed_bsuid_in_to_is_refused_naming_to(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        response = await live.client.post("/v1/messages", json={"to": "US.1349-1208", "text": "hi"})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "to"
        assert response.json()["error"]["code"] == "invalid_user_id"


async def test_an_id_change_keeps_one_person_and_their_history(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        # A user who hides their phone: webhooks carry only the BSUID, which then changes.
        await inject(live, {"from": HIDDEN, "text": "first"})
        change = await live.client.post("/sandbox/user-id-change", json={"from": HIDDEN, "via": "user_id_update"})
        assert change.status_code == 200, change.text
        new_id = change.json()["user_id"]
        await inject(live, {"from": HIDDEN, "text": "second"})
        history = await messages(live, phone=new_id)
        assert [m["text"] for m in history] == ["second", "first"]
        assert {m["phone"] for m in history} == {None}
        [card] = await contacts(live)
        assert card["identities"]["user_id"] == new_id

        # A user with a visible phone: the system message user_changed_user_id.
        await inject(live, {"from": PHONE, "text": "one"})
        change = await live.client.post("/sandbox/user-id-change", json={"from": PHONE})
        await inject(live, {"from": PHONE, "text": "two"})
        assert [m["text"] for m in await messages(live, phone=PHONE)] == ["two", "one"]
        cards = {c["phone"]: c for c in await contacts(live)}
        assert cards[PHONE]["identities"]["user_id"] == change.json()["user_id"]
        assert len(await conversations(live)) == 2


async def test_a_phone_learned_later_merges_the_bsuid_history_into_it(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        await inject(live, {"user_id": META_BSUID, "text": "hidden"})
        await inject(live, {"user_id": META_BSUID, "text": "STOP"})  # an opt-out before the phone is known
        consent = await live.client.get(f"/v1/consents/{META_BSUID}")
        assert consent.status_code == 200 and consent.json()["status"] == "revoked", consent.text
        # The user stops hiding their number: the next webhook carries phone and BSUID together.
        user = live.sim.users.for_user_id(META_BSUID)
        assert user is not None
        user.phone = OTHER
        live.sim.users.by_phone[OTHER] = user
        await inject(live, {"from": OTHER, "text": "visible"})
        inbound = await messages(live, phone=OTHER, direction="in")
        assert [(m["text"], m["phone"]) for m in inbound] == [("visible", OTHER), ("STOP", OTHER), ("hidden", OTHER)]
        assert [m["text"] for m in await messages(live, phone=META_BSUID, direction="in")] == [
            "visible",
            "STOP",
            "hidden",
        ]
        # The opt-out follows the person to their phone.
        assert (await live.client.get(f"/v1/consents/{OTHER}")).json()["status"] == "revoked"
        [card] = await contacts(live)
        assert (card["phone"], card["identities"]["user_id"]) == (OTHER, META_BSUID)
        assert len(await conversations(live)) == 1


async def test_a_merge_of_two_phones_is_recorded_for_an_admin_not_applied(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        await inject(live, {"from": PHONE, "text": "mine"})
        await inject(live, {"from": OTHER, "text": "theirs"})
        user_id = live.sim.users.for_phone(PHONE).user_id
        tenant_id = live.app.state.bootstrap.tenant.id
        now = live.rt.clock.now()
        key = await live.rt.db.write(
            lambda c: identities.observe(c, tenant_id, Identities(phone=OTHER, user_id=user_id), now, "test")
        )
        assert key == PHONE
        [conflict] = (await live.client.get("/v1/identity-conflicts")).json()["data"]
        assert (conflict["key"], conflict["other_key"]) == (PHONE, OTHER)
        assert conflict["identities"]["user_id"] == user_id
        assert [m["text"] for m in await messages(live, phone=PHONE)] == ["mine"]
        assert [m["text"] for m in await messages(live, phone=OTHER)] == ["theirs"]


async def post_webhook(live: Live, value: dict[str, Any], field: str) -> None:
    channel = await sandbox_channel(live)
    config = live.sim.config
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": config.waba_id,
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": config.display_phone_number,
                                "phone_number_id": config.phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }
    raw = orjson.dumps(body)
    assert channel.settings.app_secret is not None
    response = await live.client.post(
        f"/webhooks/cloud/{channel.settings.webhook_id}",
        content=raw,
        headers={"X-Hub-Signature-256": sign(raw, channel.settings.app_secret), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def test_coexistence_echoes_history_and_contacts(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        sandbox = (await live.client.get("/v1/channels/sandbox")).json()
        assert sandbox["settings"]["coexistence"] is True
        assert sandbox["pacing"]["per_second"] == 20

        await inject(live, {"from": PHONE, "text": "Есть доставка?"})
        echo = await live.client.post("/sandbox/echo", json={"to": PHONE, "text": "Да, завтра"})
        assert echo.status_code == 200 and echo.json()["webhook"]["delivered"], echo.text
        # An echo for someone wagate never talked to creates the person and the conversation.
        await live.client.post("/sandbox/echo", json={"to": OTHER, "text": "Напоминаем о записи"})
        [out] = await messages(live, direction="out", phone=PHONE)
        assert (out["origin"], out["operator"], out["status"], out["text"]) == ("phone", "phone", "sent", "Да, завтра")
        assert {c["phone"] for c in await conversations(live)} == {PHONE, OTHER}
        report = (await live.client.get("/v1/analytics/operators")).json()
        assert "phone" in [o["operator"] for o in report["operators"]]

        history = {
            "history": [
                {
                    "metadata": {"phase": 0, "chunk_order": 0, "progress": 100},
                    "threads": [
                        {
                            "id": "79005550011",
                            "messages": [
                                {
                                    "from": "79005550011",
                                    "id": "wamid.history-1",
                                    "timestamp": "1767268800",
                                    "type": "text",
                                    "text": {"body": "old question"},
                                    "history_context": {"status": "READ"},
                                },
                                {
                                    "from": live.sim.config.display_phone_number,
                                    "to": "79005550011",
                                    "id": "wamid.history-2",
                                    "timestamp": "1767268900",
                                    "type": "text",
                                    "text": {"body": "old answer"},
                                    "history_context": {"status": "READ", "from_me": True},
                                },
                            ],
                        }
                    ],
                }
            ]
        }
        await post_webhook(live, history, "history")
        await post_webhook(live, history, "history")  # delivered twice: imported once
        past = await messages(live, phone="79005550011")
        assert [(m["direction"], m["origin"], m["text"]) for m in past] == [
            ("out", "history", "old answer"),
            ("in", "history", "old question"),
        ]
        # past chats are not new activity
        assert "79005550011" not in {c["phone"] for c in await conversations(live)}

        sync = {
            "state_sync": [
                {
                    "type": "contact",
                    "contact": {"full_name": "Мария Петрова", "first_name": "Мария", "phone_number": "+79005550022"},
                    "action": "add",
                    "metadata": {"timestamp": "1767268800"},
                }
            ]
        }
        await post_webhook(live, sync, "smb_app_state_sync")
        card = (await live.client.get("/v1/contacts/79005550022")).json()
        assert card["name"] == "Мария Петрова"

        # Replies typed in the app can count as a named operator instead of "phone".
        patched = await live.client.patch("/v1/channels/sandbox", json={"settings": {"phone_operator": "anna"}})
        assert patched.status_code == 200, patched.text
        await live.client.post("/sandbox/echo", json={"to": PHONE, "text": "Анна на связи"})
        latest = (await messages(live, direction="out", phone=PHONE))[0]
        assert (latest["text"], latest["operator"], latest["origin"]) == ("Анна на связи", "anna", "phone")


def test_the_identities_migration_keeps_every_row(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    migrate(url, "0010_deployment")
    engine = make_sqlite_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (name, default_region, settings, created_at) VALUES ('t', 'RU', '{}', '2026-01-01T00:00:00+00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO channels (tenant_id, name, kind, settings, pacing, policy, is_default, status, created_at, updated_at) "
                "VALUES (1, 'c', 'cloud', '{}', '{}', '{}', 1, 'active', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO messages (tenant_id, channel_id, direction, phone, type, payload, status, origin, attempts, due_at, created_at, updated_at) "
                "VALUES (1, 1, 'out', :p, 'text', '{}', 'sent', 'api', 1, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
            ),
            {"p": PHONE},
        )
        conn.execute(
            sa.text(
                "INSERT INTO message_status_history (message_id, status, applied, at) VALUES (1, 'queued', 1, '2026-01-01T00:00:00+00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO contacts (tenant_id, phone, name, tags, created_at, updated_at) "
                "VALUES (1, :p, 'Ivan', '[]', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
            ),
            {"p": PHONE},
        )
    engine.dispose()
    migrate(url)
    engine = make_sqlite_engine(url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT phone, sent_to FROM messages")).all() == [(PHONE, PHONE)]
        assert conn.execute(sa.text("SELECT count(*) FROM message_status_history")).scalar() == 1
        assert conn.execute(sa.text("SELECT phone, name, user_id FROM contacts")).all() == [(PHONE, "Ivan", None)]
        long_key = "US." + "1" * 128
        conn.execute(sa.text("UPDATE contacts SET phone = :k"), {"k": long_key})
        assert conn.execute(sa.text("SELECT phone FROM contacts")).scalar() == long_key
    engine.dispose()


async def test_a_changed_number_takes_the_history_to_the_new_number(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        await inject(live, {"from": PHONE, "text": "before"})
        old_id = live.sim.users.for_phone(PHONE).user_id
        # Meta's user_changed_number system message (2026: with the previous and new BSUIDs).
        change = {
            "messages": [
                {
                    "from": PHONE,
                    "id": "wamid.number-change",
                    "timestamp": "1767268800",
                    "type": "system",
                    "system": {
                        "body": f"User Oleg changed from {PHONE} to {OTHER}",
                        "type": "user_changed_number",
                        "wa_id": OTHER,
                        "user_id": "RU.55555555555555555555",
                        "previous_user_id": old_id,
                    },
                }
            ]
        }
        await post_webhook(live, change, "messages")
        assert [m["text"] for m in await messages(live, phone=OTHER)] == ["before"]
        [card] = await contacts(live)
        assert (card["phone"], card["identities"]["user_id"]) == (OTHER, "RU.55555555555555555555")
        assert (await live.client.get("/v1/identity-conflicts")).json()["data"] == []


async def test_a_lid_linked_to_a_phone_brings_its_records_to_the_person(db_url: str, tmp_path: Path) -> None:
    async with live_gateway(gateway_settings(db_url, tmp_path), plugins=PLUGINS) as live:
        tenant_id = live.app.state.bootstrap.tenant.id
        lid = "1234567890@lid"
        assert await identities.link_lid(live.rt, tenant_id, lid, None) == lid
        row = await sandbox_row(live)
        stored = await record_inbound(
            live.rt, row, identities=Identities(lid=lid), type="text", payload={"text": "via web"}, provider_id="w1"
        )
        assert stored.phone == lid
        assert [m["phone"] for m in await messages(live, phone=lid)] == [None]
        # The protocol tells the channel which phone the LID is: one person from now on.
        assert await identities.link_lid(live.rt, tenant_id, lid, PHONE) == PHONE
        [message] = await messages(live, phone=PHONE)
        assert (message["text"], message["phone"], message["identities"]["lid"]) == ("via web", PHONE, lid)
