"""Requests exactly as CRM modules written for the hosted services send them, replayed over HTTP.

Each test is one thing that broke a switch from the hosted service: the literal ``%0A`` line
break (URL-encoded once more by the CRM), the path forms, a repeated send within minutes.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.compat.conftest import Compat
from wagate.store.tables import messages

pytestmark = pytest.mark.asyncio

#: The fake phone kind has no policy defaults of its own (it would get the strict cloud ones).
OPEN = {"service_window": False, "consent": "off", "duplicate_window_s": 0}


async def payload(c: Compat, message_id: int) -> object:
    return await c.rt.db.read(
        lambda conn: conn.execute(sa.select(messages.c.payload).where(messages.c.id == message_id)).scalar_one()
    )


# --- a literal %0A is a line break ---------------------------------------------------------------


async def test_a_literal_percent_0a_encoded_by_the_crm_becomes_a_line_break(compat_sqlite: Compat) -> None:
    compat = compat_sqlite
    # PHP: $text = "Заказ №17 готов.%0AЗаберите"; file_get_contents(".../?phone=…&text=" . urlencode($text))
    url = f"/api2/msg_to/{compat.token}/?phone=79001234567&text=%D0%97%D0%B0%D0%BA%D0%B0%D0%B7+%E2%84%9617+%D0%B3%D0%BE%D1%82%D0%BE%D0%B2.%250A%D0%97%D0%B0%D0%B1%D0%B5%D1%80%D0%B8%D1%82%D0%B5"
    response = await compat.client.get(url)
    assert response.json() == {"err": 0, "msg_id": 1}
    assert await payload(compat, 1) == {"text": "Заказ №17 готов.\nЗаберите"}


async def test_literal_crlf_and_lower_case_breaks_are_line_breaks_too(compat_sqlite: Compat) -> None:
    url = f"/api2/msg_to/{compat_sqlite.token}/?phone=79001234567&text=a%250D%250Ab%250ac%250Dd"
    assert (await compat_sqlite.client.get(url)).json() == {"err": 0, "msg_id": 1}
    assert await payload(compat_sqlite, 1) == {"text": "a\nb\nc\nd"}


async def test_the_1500_limit_counts_a_literal_break_as_one_character(compat_sqlite: Compat) -> None:
    text = "x" * 1497 + "%0A" + "y" * 2  # 1502 characters typed, 1500 sent
    response = await compat_sqlite.api2("msg_to", phone="79001234567", text=text)
    assert response.json() == {"err": 0, "msg_id": 1}


async def test_a_file_caption_gets_line_breaks_and_emoji(compat_sqlite: Compat) -> None:
    url = (
        f"/api2/file_to/{compat_sqlite.token}/?phone=79001234567"
        "&url=https%3A%2F%2Fcrm.example%2Finvoice.pdf&text=%D0%A1%D1%87%D1%91%D1%82%250A:sm16:"
    )
    assert (await compat_sqlite.client.get(url)).json() == {"err": 0, "msg_id": 1}
    media = (await payload(compat_sqlite, 1))["media"]  # type: ignore[index]
    assert media["caption"] == "Счёт\n👍"
    assert media["filename"] == "invoice.pdf"


# --- the path forms ------------------------------------------------------------------------------


async def test_msg_to_with_the_phone_in_the_path_and_the_text_in_the_query(compat_sqlite: Compat) -> None:
    compat = compat_sqlite
    response = await compat.client.get(f"/api2/msg_to/{compat.token}/79001234567/?text=Hello%250AWorld")
    assert response.json() == {"err": 0, "msg_id": 1}
    assert await payload(compat, 1) == {"text": "Hello\nWorld"}


async def test_msg_to_with_phone_and_text_in_the_path(compat_sqlite: Compat) -> None:
    # an encoded slash stays in the text; a plus is a space, as in the query
    response = await compat_sqlite.client.get(
        f"/api2/msg_to/{compat_sqlite.token}/79001234567/%D0%97%D0%B0%D0%BA%D0%B0%D0%B7+17%2F2%250A:sm16:"
    )
    assert response.json() == {"err": 0, "msg_id": 1}
    assert await payload(compat_sqlite, 1) == {"text": "Заказ 17/2\n👍"}


async def test_the_text_in_the_path_may_contain_slashes(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.get(
        f"/api2/msg_to/{compat_sqlite.token}/79001234567/see https:/crm.example/o/17"
    )
    assert response.json() == {"err": 0, "msg_id": 1}
    assert await payload(compat_sqlite, 1) == {"text": "see https:/crm.example/o/17"}


async def test_file_to_with_the_url_in_the_path(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.get(
        f"/api2/file_to/{compat_sqlite.token}/79001234567/https://crm.example/files/a+b.jpg"
    )
    assert response.json() == {"err": 0, "msg_id": 1}
    media = (await payload(compat_sqlite, 1))["media"]  # type: ignore[index]
    assert media["url"] == "https://crm.example/files/a+b.jpg"


async def test_every_method_takes_its_parameters_from_the_path(compat_sqlite: Compat) -> None:
    c, t = compat_sqlite, compat_sqlite.token
    assert (await c.client.get(f"/api2/msg_to/{t}/79001234567/hi")).json() == {"err": 0, "msg_id": 1}
    state = (await c.client.get(f"/api2/msg_state/{t}/1/")).json()
    assert state == {"err": 0, "msg_data": {"msg_id": "1", "phone": "79001234567", "state": "sending"}}
    assert (await c.client.get(f"/api2/check_phone/{t}/79001230000")).json() == {"err": 0, "result": "none"}
    assert (await c.client.get(f"/api2/contact_to/{t}/79001234567/Oleg Ivanov/")).json() == {
        "err": 0,
        "result": "insert",
    }
    last = (await c.client.get(f"/api2/msg_get_last/{t}/5/1")).json()
    assert [r["msg_id"] for r in last["msg_data"]] == ["1"] and last["msg_data"][0]["chat_name"] == "Oleg Ivanov"
    assert (await c.client.get(f"/api2/msg_get/{t}/79001234567/10")).json()["err"] == 0
    assert (await c.client.get(f"/api2/contact_delete/{t}/79001234567/")).json() == {"err": 0, "result": "delete"}


async def test_the_path_form_answers_the_dialects_errors(compat_sqlite: Compat) -> None:
    c = compat_sqlite
    assert (await c.client.get(f"/api2/msg_to/{c.token}/12/hi")).json() == {"err": "phone fail"}
    assert (await c.client.get(f"/api2/msg_to/{c.token}/79001234567/")).json() == {"err": "text fail"}
    assert (await c.client.get("/api2/msg_to/wrong-token/79001234567/hi")).json() == {"err": "token fail"}
    response = await c.client.get(f"/api2/no_such_method/{c.token}/79001234567/hi")
    assert response.status_code == 404 and response.json() == {"err": "fail execution"}


async def test_the_token_and_phone_of_a_path_form_never_reach_the_log(
    compat_sqlite: Compat, caplog: pytest.LogCaptureFixture
) -> None:
    await compat_sqlite.client.get(f"/api2/msg_to/{compat_sqlite.token}/79001234567/hi")
    assert compat_sqlite.token not in caplog.text


# --- repeated sends ------------------------------------------------------------------------------


#: The guard as device, web and cloud channels have it by default (the memory kind has it off).
GUARDED = {"duplicate_window_s": 300}


async def test_a_repeated_wamm_send_is_accepted_as_the_hosted_service_did(compat: Compat) -> None:
    await compat.channel("phone", is_default=True, policy=GUARDED)
    first = await compat.api2("msg_to", phone="79001234567", text="Ваш код 1234")
    second = await compat.api2("msg_to", phone="79001234567", text="Ваш код 1234")
    assert first.json()["err"] == 0 and second.json()["err"] == 0, second.text


async def test_the_native_api_still_refuses_the_duplicate_on_the_same_channel(compat: Compat) -> None:
    await compat.channel("phone", is_default=True, policy=GUARDED)
    for _ in range(2):
        await compat.api2("msg_to", phone="79001234567", text="Ваш код 1234")
    native = await compat.client.post("/v1/messages", json={"to": "79001234567", "text": "Ваш код 1234"})
    assert native.status_code == 422 and native.json()["error"]["code"] == "duplicate_message"


async def test_the_compat_guard_can_be_switched_on_per_channel(compat_sqlite: Compat) -> None:
    await compat_sqlite.channel("phone", is_default=True, policy={**GUARDED, "compat_duplicate_window_s": 300})
    await compat_sqlite.api2("msg_to", phone="79001234567", text="same")
    again = await compat_sqlite.api2("msg_to", phone="79001234567", text="same")
    assert again.json() == {"err": "fail execution"}
    assert again.headers["X-Wagate-Error"] == "duplicate_message"
    body = {"messages": [{"from": "phone", "to": "79001234567", "text": "same"}]}
    [result] = (await compat_sqlite.devino(body)).json()["result"]
    assert result["code"] == "REJECTED" and "2009" in result["description"]


async def test_a_repeated_devino_send_is_accepted_by_default(compat: Compat) -> None:
    await compat.channel("phone", is_default=True, policy=GUARDED)
    body = {"messages": [{"from": "phone", "to": "79001234567", "text": "Code: 1234"}]}
    for _ in range(2):
        [result] = (await compat.devino(body)).json()["result"]
        assert result["code"] == "OK", result


# --- a provider that cannot be reached ------------------------------------------------------------


async def test_check_phone_on_an_unreachable_provider_asks_to_retry(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"online": "unreachable"})
    response = await bare.api2("check_phone", phone="79001234567")
    assert response.json() == {"err": "phone not checked for WhatsApp, please retry", "result": "error"}
    assert response.headers["X-Wagate-Error"] == "provider_unreachable"


async def test_msg_to_an_unchecked_number_on_an_unreachable_provider_is_not_accepted(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN, settings={"online": "unreachable"})
    response = await bare.client.get(f"/api2/msg_to/{bare.token}/79001234567/?text=Hello%250AWorld")
    assert response.json() == {"err": "phone not checked for WhatsApp, please retry"}
    count = await bare.rt.db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one())
    assert count == 0


async def test_msg_to_a_number_checked_before_is_queued_while_the_provider_is_unreachable(bare: Compat) -> None:
    await bare.channel("phone", kind="fakephone", policy=OPEN)
    assert (await bare.api2("check_phone", phone="79001234567")).json() == {"err": 0, "result": "exists"}
    await bare.client.patch("/v1/channels/phone", json={"settings": {"online": "unreachable"}})
    bare.rt.forget_channels(1)
    response = await bare.api2("msg_to", phone="79001234567", text="hi")
    assert response.json() == {"err": 0, "msg_id": 1}


# --- file_from_base64 (wagate's extension) -----------------------------------------------------------

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_file_from_base64_as_a_php_form_post(compat: Compat) -> None:
    # PHP: curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query(["phone" => …, "base64" => base64_encode($pdf), …]))
    body = {
        "phone": "+7 900 123-45-67",
        "base64": base64.b64encode(PDF).decode(),
        "filename": "Счёт 17.pdf",
        "text": "Счёт%0Aк оплате",
    }
    response = await compat.client.post(f"/api2/file_from_base64/{compat.token}/", data=body)
    assert response.json() == {"err": 0, "msg_id": 1}, response.text
    row = await compat.rt.db.read(lambda c: c.execute(sa.select(messages).where(messages.c.id == 1)).one())
    assert (row.type, row.phone, row.origin) == ("document", "79001234567", "wamm")
    media = row.payload["media"]
    assert (media["filename"], media["mime_type"], media["caption"]) == (
        "Счёт 17.pdf",
        "application/pdf",
        "Счёт\nк оплате",
    )
    stored = await compat.client.get(urlsplit(media["url"]).path)
    assert stored.content == PDF


async def test_file_from_base64_as_json_with_a_data_uri(compat_sqlite: Compat) -> None:
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    response = await compat_sqlite.client.post(
        f"/api2/file_from_base64/{compat_sqlite.token}", json={"phone": "79001234567", "file": data_uri}
    )
    assert response.json() == {"err": 0, "msg_id": 1}
    assert (await payload(compat_sqlite, 1))["media"]["mime_type"] == "image/png"  # type: ignore[index]


async def test_file_from_base64_as_a_multipart_upload(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.post(
        f"/api2/file_from_base64/{compat_sqlite.token}/",
        data={"phone": "79001234567"},
        files={"base64": ("scan.pdf", base64.b64encode(PDF), "text/plain")},
    )
    assert response.json() == {"err": 0, "msg_id": 1}
    assert (await payload(compat_sqlite, 1))["media"]["filename"] == "scan.pdf"  # type: ignore[index]


@pytest.mark.parametrize("content", ["", "not base64 at all!", "===="])
async def test_file_from_base64_without_a_file_is_file_fail(compat_sqlite: Compat, content: str) -> None:
    response = await compat_sqlite.client.post(
        f"/api2/file_from_base64/{compat_sqlite.token}/", data={"phone": "79001234567", "base64": content}
    )
    assert response.json() == {"err": "file fail"}


async def test_file_from_base64_checks_the_phone_and_the_token_first(compat_sqlite: Compat) -> None:
    url = f"/api2/file_from_base64/{compat_sqlite.token}/"
    assert (await compat_sqlite.client.post(url, data={"phone": "12", "base64": "AAAA"})).json() == {
        "err": "phone fail"
    }
    wrong = await compat_sqlite.client.post("/api2/file_from_base64/nope/", data={"phone": "79001234567"})
    assert wrong.json() == {"err": "token fail"}
