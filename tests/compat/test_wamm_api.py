"""The WAMM-style door over HTTP: every method's success JSON and every error string of the seed."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from tests.compat.conftest import Compat
from wagate.domain.statuses import Status
from wagate.services.inbound import record_inbound
from wagate.store.repos import channels as channel_repo
from wagate.store.repos.messages import apply_status
from wagate.store.tables import messages

pytestmark = pytest.mark.asyncio

METHODS = ("msg_to", "msg_state", "check_phone", "file_to", "msg_get_last", "msg_get", "contact_to", "contact_delete")

#: The fake phone kind has no policy defaults of its own (it would get the strict cloud ones).
OPEN = {"service_window": False, "consent": "off", "duplicate_window_s": 0}


async def stored(c: Compat, message_id: int) -> sa.Row[tuple[object, ...]]:
    return await c.rt.db.read(lambda conn: conn.execute(sa.select(messages).where(messages.c.id == message_id)).one())


async def set_status(c: Compat, message_id: int, *statuses: Status) -> None:
    for status in statuses:
        now = c.clock.now()
        await c.rt.db.write(lambda conn, s=status, t=now: apply_status(conn, message_id, s, now=t))


async def inbound(c: Compat, phone: str, text: str, provider_id: str) -> int:
    channel = await c.rt.db.read(lambda conn: channel_repo.get_channel(conn, 1, "main"))
    assert channel is not None
    result = await record_inbound(
        c.rt, channel, phone=phone, type="text", payload={"text": text}, provider_id=provider_id
    )
    return result.message_id


# --- msg_to -------------------------------------------------------------------------------------


async def test_msg_to_queues_a_text_and_answers_the_integer_msg_id(compat: Compat) -> None:
    response = await compat.api2("msg_to", phone="+7 (900) 123-45-67", text="Hello")
    assert response.status_code == 200
    assert response.json() == {"err": 0, "msg_id": 1}
    row = await stored(compat, 1)
    assert (row.phone, row.type, row.payload, row.status, row.origin) == (
        "79001234567",
        "text",
        {"text": "Hello"},
        "queued",
        "wamm",
    )


async def test_msg_to_turns_percent_0a_into_newlines(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.get(
        f"/api2/msg_to/{compat_sqlite.token}/?phone=79001234567&text=line%201%0Aline%202"
    )
    assert response.json() == {"err": 0, "msg_id": 1}
    assert (await stored(compat_sqlite, 1)).payload == {"text": "line 1\nline 2"}


async def test_msg_to_understands_an_unencoded_plus_in_the_phone(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.get(f"/api2/msg_to/{compat_sqlite.token}/?phone=+44 20 7946 0958&text=x")
    assert response.json() == {"err": 0, "msg_id": 1}
    assert (await stored(compat_sqlite, 1)).phone == "442079460958"


async def test_msg_to_replaces_emoji_codes_as_in_the_seed_table(compat_sqlite: Compat) -> None:
    await compat_sqlite.api2("msg_to", phone="79001234567", text=":sm01: hi :sm17::sm21: :sm22: :sm99:")
    assert (await stored(compat_sqlite, 1)).payload == {"text": "🤗 hi 💐📺 :sm22: :sm99:"}


async def test_msg_to_works_without_the_trailing_slash(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.get(
        f"/api2/msg_to/{compat_sqlite.token}", params={"phone": "79001234567", "text": "x"}
    )
    assert response.json() == {"err": 0, "msg_id": 1}


@pytest.mark.parametrize("method", METHODS)
async def test_a_wrong_token_is_token_fail(compat_sqlite: Compat, method: str) -> None:
    response = await compat_sqlite.api2(method, token="not-a-token", phone="79001234567", text="x")
    assert response.status_code == 200
    expected = {"err": "token fail", "result": "error"} if method == "check_phone" else {"err": "token fail"}
    assert response.json() == expected
    assert response.headers["X-Wagate-Error"] == "invalid_token"


@pytest.mark.parametrize("method", METHODS)
async def test_a_paused_default_channel_is_acc_not_authorized(compat_sqlite: Compat, method: str) -> None:
    patched = await compat_sqlite.client.patch("/v1/channels/main", json={"status": "paused"})
    assert patched.status_code == 200
    response = await compat_sqlite.api2(method, phone="79001234567", text="x", msg_id="1", col="1", name="n")
    expected = {"err": "acc not authorized"}
    if method == "check_phone":
        expected["result"] = "error"
    assert response.json() == expected
    assert response.headers["X-Wagate-Error"] == "channel_paused"


async def test_a_tenant_without_channels_is_acc_not_authorized(bare: Compat) -> None:
    response = await bare.api2("msg_to", phone="79001234567", text="x")
    assert response.json() == {"err": "acc not authorized"}
    assert response.headers["X-Wagate-Error"] == "no_channel"


async def test_a_channel_that_says_it_is_offline_is_acc_not_authorized(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"online": False})
    response = await bare.api2("msg_to", phone="79001234567", text="x")
    assert response.json() == {"err": "acc not authorized"}
    assert response.headers["X-Wagate-Error"] == "device_offline"


async def test_a_crash_inside_a_route_is_fail_execution_never_a_500(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"online": "crash"})
    response = await bare.api2("msg_to", phone="79001234567", text="x")
    assert response.status_code == 200
    assert response.json() == {"err": "fail execution"}
    assert response.headers["X-Wagate-Error"] == "internal"


@pytest.mark.parametrize("phone", ["", "12", "not a phone", "+7 900 123 45 67 89 00 11"])
async def test_msg_to_with_a_bad_phone_is_phone_fail(compat_sqlite: Compat, phone: str) -> None:
    response = await compat_sqlite.api2("msg_to", phone=phone, text="x")
    assert response.json() == {"err": "phone fail"}


async def test_msg_to_without_phone_is_phone_fail(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.api2("msg_to", text="x")
    assert response.json() == {"err": "phone fail"}


async def test_msg_to_a_number_without_whatsapp_is_refused(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.api2("msg_to", phone="79001230000", text="x")
    assert response.json() == {"err": "no WhatsApp on the number"}
    assert (
        await compat_sqlite.rt.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(messages)).scalar())
        == 0
    )


async def test_msg_to_when_the_check_fails_asks_to_retry(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"check": "error"})
    response = await bare.api2("msg_to", phone="79001234567", text="x")
    assert response.json() == {"err": "phone not checked for WhatsApp, please retry"}
    assert response.headers["X-Wagate-Error"] == "phone_unreachable"  # the channel's own code


async def test_msg_to_when_the_channel_cannot_tell_sends_anyway(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"check": "unknown"})
    response = await bare.api2("msg_to", phone="79001234567", text="x")
    assert response.json() == {"err": 0, "msg_id": 1}


@pytest.mark.parametrize("params", [{}, {"text": ""}, {"text": "   "}])
async def test_msg_to_without_text_is_text_fail(compat_sqlite: Compat, params: dict[str, str]) -> None:
    response = await compat_sqlite.api2("msg_to", phone="79001234567", **params)
    assert response.json() == {"err": "text fail"}


async def test_msg_to_over_1500_characters_is_refused(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.api2("msg_to", phone="79001234567", text="x" * 1501)
    assert response.json() == {"err": "text fail, more 1500"}


async def test_the_1500_limit_counts_the_text_after_emoji_substitution(compat_sqlite: Compat) -> None:
    text = "x" * 1490 + ":sm01:" * 10  # 1550 typed, 1500 sent
    response = await compat_sqlite.api2("msg_to", phone="79001234567", text=text)
    assert response.json() == {"err": 0, "msg_id": 1}
    assert len((await stored(compat_sqlite, 1)).payload["text"]) == 1500


# --- file_to ------------------------------------------------------------------------------------


async def test_file_to_sends_an_image_by_its_url(compat: Compat) -> None:
    url = "https://wamm.chat/i/images/wamm-chat-logo.png"
    response = await compat.api2("file_to", phone="79001234567", url=url)
    assert response.json() == {"err": 0, "msg_id": 1}
    row = await stored(compat, 1)
    assert (row.type, row.origin) == ("image", "wamm")
    assert row.payload == {"media": {"url": url, "filename": "wamm-chat-logo.png", "mime_type": "image/png"}}


async def test_file_to_sends_other_files_as_documents(compat_sqlite: Compat) -> None:
    await compat_sqlite.api2("file_to", phone="79001234567", url="https://example.com/files/price.pdf?v=2")
    row = await stored(compat_sqlite, 1)
    assert row.type == "document"
    assert row.payload["media"]["mime_type"] == "application/pdf"


@pytest.mark.parametrize("url", ["", "example.com/a.png", "ftp://example.com/a.png"])
async def test_file_to_without_an_http_link_is_url_fail(compat_sqlite: Compat, url: str) -> None:
    response = await compat_sqlite.api2("file_to", phone="79001234567", url=url)
    assert response.json() == {"err": "url fail"}


async def test_file_to_checks_phone_and_whatsapp(compat_sqlite: Compat) -> None:
    url = "https://example.com/a.png"
    assert (await compat_sqlite.api2("file_to", phone="12", url=url)).json() == {"err": "phone fail"}
    assert (await compat_sqlite.api2("file_to", phone="79001230000", url=url)).json() == {
        "err": "no WhatsApp on the number"
    }


async def test_file_to_when_the_check_fails_asks_to_retry(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"check": "error"})
    response = await bare.api2("file_to", phone="79001234567", url="https://example.com/a.png")
    assert response.json() == {"err": "phone not checked for WhatsApp, please retry"}


# --- msg_state ----------------------------------------------------------------------------------


async def test_msg_state_maps_wagate_statuses_to_the_seed_states(compat: Compat) -> None:
    await compat.api2("msg_to", phone="79001234567", text="x")
    states = []
    for status in (None, Status.SENDING, Status.SENT, Status.DELIVERED, Status.READ):
        if status is not None:
            await set_status(compat, 1, status)
        states.append((await compat.api2("msg_state", msg_id="1")).json())
    assert [s["msg_data"]["state"] for s in states] == ["sending", "sending", "sent", "delivered", "viewed"]
    assert states[-1] == {"err": 0, "msg_data": {"msg_id": "1", "phone": "79001234567", "state": "viewed"}}


async def test_msg_state_of_a_failed_message_is_failed(compat_sqlite: Compat) -> None:
    await compat_sqlite.api2("msg_to", phone="79001234567", text="x")
    await set_status(compat_sqlite, 1, Status.SENDING, Status.FAILED)
    assert (await compat_sqlite.api2("msg_state", msg_id="1")).json()["msg_data"]["state"] == "failed"


@pytest.mark.parametrize("msg_id", [None, "", "abc", "0", "-1", "1.5", "9" * 30])
async def test_msg_state_with_a_bad_id_is_msg_id_fail(compat_sqlite: Compat, msg_id: str | None) -> None:
    params = {} if msg_id is None else {"msg_id": msg_id}
    response = await compat_sqlite.api2("msg_state", **params)
    assert response.json() == {"err": "msg_id fail"}


async def test_msg_state_of_an_unknown_message_is_msg_not_be(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.api2("msg_state", msg_id="12345")
    assert response.json() == {"err": "msg not be"}


# --- check_phone --------------------------------------------------------------------------------


async def test_check_phone_answers_exists_and_none(compat: Compat) -> None:
    assert (await compat.api2("check_phone", phone="+7 900 123-45-67")).json() == {"err": 0, "result": "exists"}
    assert (await compat.api2("check_phone", phone="79001230000")).json() == {"err": 0, "result": "none"}


async def test_check_phone_of_something_that_is_no_phone_number_is_none(compat_sqlite: Compat) -> None:
    assert (await compat_sqlite.api2("check_phone", phone="12")).json() == {"err": 0, "result": "none"}


async def test_check_phone_when_the_check_fails_asks_to_retry(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"check": "error"})
    response = await bare.api2("check_phone", phone="79001234567")
    assert response.json() == {"err": "phone not checked for WhatsApp, please retry", "result": "error"}


async def test_check_phone_when_the_channel_cannot_tell_is_fail_execution(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"check": "unknown"})
    response = await bare.api2("check_phone", phone="79001234567")
    assert response.json() == {"err": "fail execution", "result": "error"}
    assert response.headers["X-Wagate-Error"] == "phone_check_unknown"


# --- msg_get_last / msg_get ---------------------------------------------------------------------


async def test_msg_get_last_lists_in_and_out_with_the_seed_fields(compat: Compat) -> None:
    put = await compat.client.put("/v1/contacts/79001234567", json={"name": "Олег Иванов"})
    assert put.status_code == 201
    await compat.api2("msg_to", phone="79001234567", text="текст сообщения")
    compat.clock.advance(22)
    await set_status(compat, 1, Status.SENDING, Status.SENT, Status.DELIVERED)
    await inbound(compat, "79001234567", "ответ", "in-1")
    response = await compat.api2("msg_get_last", col="10")
    assert response.json() == {
        "err": 0,
        "msg_data": [
            {
                "msg_id": "2",
                "from_me": "0",
                "phone": "79001234567",
                "chat_name": "Олег Иванов",
                "tip_msg": "textMessage",
                "msg_text": "ответ",
                "msg_link": "",
                "date_ins": "2026-01-24 19:52:22",
                "date_upd": "2026-01-24 19:52:22",
                "state": "received",
            },
            {
                "msg_id": "1",
                "from_me": "1",
                "phone": "79001234567",
                "chat_name": "Олег Иванов",
                "tip_msg": "textMessage",
                "msg_text": "текст сообщения",
                "msg_link": "",
                "date_ins": "2026-01-24 19:52:00",
                "date_upd": "2026-01-24 19:52:22",
                "state": "delivered",
            },
        ],
    }


async def test_msg_get_last_filters_by_from_me_and_limits_by_col(compat: Compat) -> None:
    for n in range(3):
        await compat.api2("msg_to", phone="79001234567", text=f"out {n}")
    await inbound(compat, "79001234568", "in 0", "in-0")
    await inbound(compat, "79001234568", "in 1", "in-1")
    received = (await compat.api2("msg_get_last", col="100", from_me="0")).json()["msg_data"]
    assert [m["msg_text"] for m in received] == ["in 1", "in 0"]
    sent = (await compat.api2("msg_get_last", col="2", from_me="1")).json()["msg_data"]
    assert [m["msg_text"] for m in sent] == ["out 2", "out 1"]
    assert len((await compat.api2("msg_get_last", col="4")).json()["msg_data"]) == 4


async def test_msg_get_last_shows_files_as_file_link(compat_sqlite: Compat) -> None:
    url = "https://example.com/a.png"
    await compat_sqlite.api2("file_to", phone="79001234567", url=url)
    record = (await compat_sqlite.api2("msg_get_last", col="1")).json()["msg_data"][0]
    assert (record["tip_msg"], record["msg_link"], record["msg_text"]) == ("file_link", url, "a.png")


async def test_msg_get_last_uses_the_profile_name_when_there_is_no_contact(compat_sqlite: Compat) -> None:
    channel = await compat_sqlite.rt.db.read(lambda conn: channel_repo.get_channel(conn, 1, "main"))
    assert channel is not None
    await record_inbound(
        compat_sqlite.rt,
        channel,
        phone="79001234567",
        type="text",
        payload={"text": "hi", "profile_name": "Oleg"},
        provider_id="p-1",
    )
    record = (await compat_sqlite.api2("msg_get_last", col="1")).json()["msg_data"][0]
    assert record["chat_name"] == "Oleg"


@pytest.mark.parametrize("col", [None, "", "0", "101", "abc", "-5", "2.5"])
async def test_msg_get_last_with_a_bad_col_is_col_fail(compat_sqlite: Compat, col: str | None) -> None:
    params = {} if col is None else {"col": col}
    response = await compat_sqlite.api2("msg_get_last", **params)
    assert response.json() == {"err": "col fail or more 100"}


async def test_msg_get_last_without_messages_is_msgs_not_be(compat_sqlite: Compat) -> None:
    assert (await compat_sqlite.api2("msg_get_last", col="5")).json() == {"err": "msgs not be"}


async def test_msg_get_lists_one_numbers_messages(compat: Compat) -> None:
    await compat.api2("msg_to", phone="79001234567", text="to oleg")
    await compat.api2("msg_to", phone="79001234568", text="to anna")
    await inbound(compat, "79001234567", "from oleg", "in-1")
    records = (await compat.api2("msg_get", phone="8 (900) 123-45-67", col="100")).json()["msg_data"]
    assert [(m["msg_text"], m["from_me"]) for m in records] == [("from oleg", "0"), ("to oleg", "1")]


async def test_msg_get_errors(compat_sqlite: Compat) -> None:
    assert (await compat_sqlite.api2("msg_get", phone="12", col="5")).json() == {"err": "phone fail"}
    assert (await compat_sqlite.api2("msg_get", phone="79001234567", col="500")).json() == {
        "err": "col fail or more 100"
    }
    assert (await compat_sqlite.api2("msg_get", phone="79001234567", col="5")).json() == {"err": "msgs not be"}


# --- contact_to / contact_delete ----------------------------------------------------------------


async def test_contact_to_inserts_then_updates_the_name(compat: Compat) -> None:
    first = await compat.api2(
        "contact_to", phone="+7 900 123-45-67", name="Олег", info="VIP", email="o@example.com", web="https://o.ru"
    )
    assert first.json() == {"err": 0, "result": "insert"}
    second = await compat.api2("contact_to", phone="79001234567", name="Олег Иванов")
    assert second.json() == {"err": 0, "result": "update"}
    contact = (await compat.client.get("/v1/contacts/79001234567")).json()
    assert (contact["name"], contact["info"], contact["email"], contact["web"]) == (
        "Олег Иванов",
        "VIP",
        "o@example.com",
        "https://o.ru",
    )


@pytest.mark.parametrize(
    ("params", "err"),
    [
        ({"phone": "12", "name": "x"}, "phone fail"),
        ({"phone": "79001234567"}, "name fail"),
        ({"phone": "79001234567", "name": "  "}, "name fail"),
        ({"phone": "79001234567", "name": "n" * 251}, "name fail, more 250"),
        ({"phone": "79001234567", "name": "n", "web": "w" * 151}, "web fail, more 150"),
        ({"phone": "79001234567", "name": "n", "email": "e" * 140 + "@example.com"}, "email fail, more 150"),
        ({"phone": "79001230000", "name": "n"}, "no WhatsApp on the number"),
    ],
)
async def test_contact_to_errors(compat_sqlite: Compat, params: dict[str, str], err: str) -> None:
    response = await compat_sqlite.api2("contact_to", **params)
    assert response.json() == {"err": err}
    assert (await compat_sqlite.client.get("/v1/contacts")).json()["data"] == []


async def test_contact_to_when_the_check_fails_asks_to_retry(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"check": "error"})
    response = await bare.api2("contact_to", phone="79001234567", name="n")
    assert response.json() == {"err": "phone not checked for WhatsApp, please retry"}


async def test_contact_delete_removes_the_contact_once(compat: Compat) -> None:
    await compat.api2("contact_to", phone="79001234567", name="Олег")
    assert (await compat.api2("contact_delete", phone="8 900 123 45 67")).json() == {"err": 0, "result": "delete"}
    assert (await compat.client.get("/v1/contacts/79001234567")).status_code == 404
    assert (await compat.api2("contact_delete", phone="79001234567")).json() == {"err": "phone not found"}


async def test_contact_delete_with_a_bad_phone_is_phone_fail(compat_sqlite: Compat) -> None:
    assert (await compat_sqlite.api2("contact_delete", phone="abc")).json() == {"err": "phone fail"}


# --- the door as a whole ------------------------------------------------------------------------


async def test_an_unknown_method_is_404_in_the_dialect(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.api2("msg_delete", phone="79001234567")
    assert response.status_code == 404
    assert response.json() == {"err": "fail execution"}


async def test_native_errors_stay_native_beside_the_dialect(compat_sqlite: Compat) -> None:
    native = await compat_sqlite.client.get("/v1/messages/999")
    assert native.status_code == 404
    assert native.json()["error"]["code"] == "not_found"
    assert (await compat_sqlite.api2("msg_state", msg_id="999")).json() == {"err": "msg not be"}


async def test_a_crm_migrates_by_changing_base_url_and_token(compat: Compat) -> None:
    """The seed's requests, verbatim but for host and token, give the seed's answers."""
    base = f"/api2/{{method}}/{compat.token}/"
    client: httpx.AsyncClient = compat.client
    sent = await client.get(base.format(method="msg_to") + "?phone=79001234567&text=Hello%0AWorld%20:sm16:")
    assert sent.json() == {"err": 0, "msg_id": 1}
    state = await client.get(base.format(method="msg_state") + "?msg_id=1")
    assert state.json() == {"err": 0, "msg_data": {"msg_id": "1", "phone": "79001234567", "state": "sending"}}
    check = await client.get(base.format(method="check_phone") + "?phone=79001234567")
    assert check.json() == {"err": 0, "result": "exists"}
    url = "https://wamm.chat/i/images/wamm-chat-logo.png"
    sent_file = await client.get(base.format(method="file_to") + f"?phone=79001234567&url={url}")
    assert sent_file.json() == {"err": 0, "msg_id": 2}
    last = (await client.get(base.format(method="msg_get_last") + "?col=2")).json()
    assert [m["msg_id"] for m in last["msg_data"]] == ["2", "1"]
    assert set(last["msg_data"][0]) == {
        "msg_id", "from_me", "phone", "chat_name", "tip_msg", "msg_text", "msg_link", "date_ins", "date_upd", "state"
    }  # fmt: skip
    one = (await client.get(base.format(method="msg_get") + "?phone=79001234567&col=1")).json()
    assert one["msg_data"][0]["msg_id"] == "2"
    added = await client.get(
        base.format(method="contact_to")
        + "?phone=79001234567&name=Олег&info=Заметка, примечание к контакту&email=e@x.ru&web=https://x.ru"
    )
    assert added.json() == {"err": 0, "result": "insert"}
    deleted = await client.get(base.format(method="contact_delete") + "?phone=79001234567")
    assert deleted.json() == {"err": 0, "result": "delete"}
    assert (await stored(compat, 1)).payload == {"text": "Hello\nWorld 👍"}


async def test_dates_follow_the_tenants_timezone_setting(compat_sqlite: Compat) -> None:
    """The tenant's one zone (``PATCH /v1/policy``) wins over ``WAGATE_COMPAT_TIMEZONE``."""
    response = await compat_sqlite.client.patch("/v1/policy", json={"timezone": "Asia/Yekaterinburg"})
    assert response.status_code == 200, response.text
    await compat_sqlite.api2("msg_to", phone="79001234567", text="x")
    record = (await compat_sqlite.api2("msg_get_last", col="1")).json()["msg_data"][0]
    assert record["date_ins"] == "2026-01-24 21:52:00"  # UTC+5


async def test_the_openapi_document_lists_the_eight_methods_and_the_extension(compat_sqlite: Compat) -> None:
    paths = (await compat_sqlite.client.get("/openapi.json")).json()["paths"]
    expected = [f"/api2/{m}/{{token}}/" for m in (*METHODS, "file_from_base64")]
    assert sorted(p for p in paths if p.startswith("/api2/")) == sorted(expected)
