"""The Devino-style door over HTTP: the seed's request, per-item results and every validation key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.compat.conftest import Compat
from wagate.store.tables import messages

pytestmark = pytest.mark.asyncio

SEED_REQUEST = {
    "messages": [
        {"from": "MyCompany", "to": "79034567890", "text": "Code: 1234"},
        {
            "from": "MyCompany",
            "to": "79034567888",
            "templateId": "account_activated",
            "templateParams": {"1": "+7(495) 646 00 54", "2": "https://devino.online"},
            "languageCode": "ru",
            "validity": 86400,
            "callbackUrl": "https://test_callback_url.site",
        },
    ]
}


def ok(message_id: int) -> dict[str, str]:
    return {"code": "OK", "messageId": str(message_id)}


def rejected(key: str, ref: str | None, description: str) -> dict[str, Any]:
    reason = {"key": key} if ref is None else {"key": key, "ref": ref}
    return {"code": "REJECTED", "reasons": [reason], "description": description}


async def rows(c: Compat) -> list[Any]:
    return await c.rt.db.read(lambda conn: list(conn.execute(sa.select(messages).order_by(messages.c.id))))


async def approved_template(compat: Compat, name: str, language: str, body: str) -> None:
    """Templates live in wagate (the hosted service kept them on its side): a migrating CRM creates them once."""
    response = await compat.client.post(
        "/v1/templates",
        json={"name": name, "language": language, "category": "utility", "body": body, "status": "approved"},
    )
    assert response.status_code == 201, response.text


async def test_the_seed_request_is_answered_in_the_seed_format_and_stored(compat: Compat) -> None:
    await compat.channel("MyCompany")
    await approved_template(compat, "account_activated", "ru", "Аккаунт активирован. Поддержка: {{1}}, {{2}}")
    response = await compat.devino(SEED_REQUEST)
    assert response.status_code == 200
    assert response.json() == {"result": [ok(1), ok(2)]}
    text, template = await rows(compat)
    assert (text.type, text.payload, text.origin, text.phone) == (
        "text",
        {"text": "Code: 1234"},
        "devino",
        "79034567890",
    )
    assert template.type == "template"
    assert template.payload == {
        "template": {
            "name": "account_activated",
            "language": "ru",
            "params": ["+7(495) 646 00 54", "https://devino.online"],
            "category": "utility",
        },
        "text": "Аккаунт активирован. Поддержка: +7(495) 646 00 54, https://devino.online",
    }
    assert (template.callback_url, template.origin) == ("https://test_callback_url.site", "devino")
    assert template.expires_at - template.created_at == timedelta(seconds=86400)


async def test_callback_data_is_stored_for_the_status_callbacks(compat: Compat) -> None:
    item = {"from": "main", "to": "79001234567", "text": "x", "callbackUrl": "https://crm.example/cb"}
    await compat.devino({"messages": [{**item, "callbackData": "order-42"}]})
    (row,) = await rows(compat)
    assert (row.callback_url, row.callback_data) == ("https://crm.example/cb", "order-42")


async def test_from_may_name_the_channel_by_its_phone_number(compat_sqlite: Compat) -> None:
    await compat_sqlite.channel("office", settings={"phone": "+7 (495) 646-00-54"})
    await compat_sqlite.channel("shop", settings={"display_phone_number": "+7 495 111 22 33"})
    response = await compat_sqlite.devino(
        {
            "messages": [
                {"from": "74956460054", "to": "79001234567", "text": "a"},
                {"from": "+74951112233", "to": "79001234567", "text": "b"},
            ]
        }
    )
    assert response.json() == {"result": [ok(1), ok(2)]}
    names = await compat_sqlite.rt.db.read(
        lambda conn: [
            r[0]
            for r in conn.execute(
                sa.text("SELECT c.name FROM messages m JOIN channels c ON c.id = m.channel_id ORDER BY m.id")
            )
        ]
    )
    assert names == ["office", "shop"]


async def test_a_batch_answers_item_by_item_and_stores_the_valid_ones(compat: Compat) -> None:
    response = await compat.devino(
        {
            "messages": [
                {"from": "main", "to": "79001234567", "text": "a"},
                {"from": "main", "to": "12", "text": "b"},
                {"from": "main", "to": "79001234568", "text": "c"},
            ]
        }
    )
    assert response.status_code == 200
    assert response.json() == {
        "result": [ok(1), rejected("invalid", "messages[1].to", "Неправильно указан номер телефона."), ok(2)]
    }
    assert [r.phone for r in await rows(compat)] == ["79001234567", "79001234568"]


async def test_all_reasons_of_one_item_are_reported_together(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.devino({"messages": [{"text": "x"}]})
    assert response.json() == {
        "result": [
            {
                "code": "REJECTED",
                "reasons": [
                    {"key": "must.be.not.null", "ref": "messages[0].from"},
                    {"key": "must.be.not.null", "ref": "messages[0].to"},
                ],
                "description": "Отправитель не указан. Получатель не указан.",
            }
        ]
    }


BASE = {"from": "main", "to": "79001234567"}


@pytest.mark.parametrize(
    ("item", "key", "ref", "description"),
    [
        ({**BASE, "to": "12", "text": "x"}, "invalid", "to", "Неправильно указан номер телефона."),
        ({**BASE, "text": "x", "validity": -1}, "invalid", "validity", "Неправильно указан срок жизни сообщения."),
        ({**BASE, "text": "x", "validity": "day"}, "invalid", "validity", "Неправильно указан срок жизни сообщения."),
        ({**BASE, "text": "x", "callbackUrl": "ftp://x.ru/cb"}, "invalid", "callbackUrl", "Неправильно указан URL."),
        ({**BASE, "contentUrl": "not a url"}, "invalid", "contentUrl", "Неправильно указан URL контента."),
        (
            {**BASE, "contentUrl": "https://x.ru/a", "contentType": "image/nonsense"},
            "invalid",
            "contentType",
            "Неправильно указан тип контента.",
        ),
        ({**BASE, "from": 42, "text": "x"}, "invalid", "from", "Неправильно указан отправитель."),
        (
            {**BASE, "templateId": "t", "languageCode": "r1"},
            "invalid",
            "languageCode",
            "Неправильно указан код языка.",
        ),
        (
            {**BASE, "to": "7900123456789012", "text": "x"},
            "length.too.long",
            "to",
            "Превышена максимальная длина номера телефона.",
        ),
        (
            {**BASE, "text": "x" * 4097},
            "length.too.long",
            "text",
            "Превышена максимальная длина текста сообщения.",
        ),
        (
            {**BASE, "templateId": "t", "languageCode": "en_UNITEDSTAT"},
            "length.too.long",
            "languageCode",
            "Слишком длинный код языка.",
        ),
        (
            {**BASE, "contentUrl": "https://x.ru/a.pdf", "contentName": ""},
            "length.too.short",
            "contentName",
            "Слишком короткое название контента.",
        ),
        (
            {**BASE, "templateId": "t", "languageCode": "e"},
            "length.too.short",
            "languageCode",
            "Слишком короткий код языка.",
        ),
        ({"from": "main", "text": "x"}, "must.be.not.null", "to", "Получатель не указан."),
        ({"to": "79001234567", "text": "x"}, "must.be.not.null", "from", "Отправитель не указан."),
        (BASE, "must.be.not.null", "", "Поле текста и контента не указано."),
        ({**BASE, "text": "   "}, "must.be.not.null", "", "Поле текста и контента не указано."),
        ({**BASE, "from": "Nobody", "text": "x"}, "not.available", "from", "Некорректный адрес отправителя."),
        (
            {**BASE, "templateId": "t", "templateParams": {"1": "line\nbreak"}},
            "invalid",
            "templateParams",
            "Неправильно указаны параметры шаблона: в значении нельзя использовать переносы строки, "
            "табуляцию и 4 пробела подряд.",
        ),
        (
            {**BASE, "templateId": "t", "templateParams": {"1": "tab\there"}},
            "invalid",
            "templateParams",
            "Неправильно указаны параметры шаблона: в значении нельзя использовать переносы строки, "
            "табуляцию и 4 пробела подряд.",
        ),
        (
            {**BASE, "templateId": "t", "templateParams": {"1": "four    spaces"}},
            "invalid",
            "templateParams",
            "Неправильно указаны параметры шаблона: в значении нельзя использовать переносы строки, "
            "табуляцию и 4 пробела подряд.",
        ),
    ],
)
async def test_each_validation_key_with_its_ref_and_description(
    compat_sqlite: Compat, item: dict[str, Any], key: str, ref: str, description: str
) -> None:
    response = await compat_sqlite.devino({"messages": [{**BASE, "text": "fine"}, item]})
    assert response.status_code == 200
    full_ref = "messages[1]" + (f".{ref}" if ref else "")
    assert response.json() == {"result": [ok(1), rejected(key, full_ref, description)]}
    assert len(await rows(compat_sqlite)) == 1


@pytest.mark.parametrize("body", [{"messages": []}, {}, {"messages": None}])
async def test_an_empty_messages_array_is_must_be_not_null(compat_sqlite: Compat, body: dict[str, Any]) -> None:
    response = await compat_sqlite.devino(body)
    assert response.status_code == 400
    assert response.json() == {
        "result": [rejected("must.be.not.null", "messages", "Массив messages не может быть пустым.")]
    }


async def test_more_than_1000_messages_is_too_many_messages(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.devino({"messages": [{**BASE, "text": "x"}] * 1001})
    assert response.status_code == 400
    assert response.json() == {
        "result": [rejected("too.many.messages", "messages", "Превышен максимальный размер массива messages.")]
    }
    assert await rows(compat_sqlite) == []


async def test_a_body_that_is_not_json_is_rejected_in_the_dialect(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.post(
        "/whatsapp/messages", content=b"{not json", headers={"Authorization": f"Key {compat_sqlite.token}"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "result": [rejected("invalid", "messages", "Тело запроса должно быть JSON-объектом с массивом messages.")]
    }


@pytest.mark.parametrize("header", [None, "Bearer {token}", "Key wrong-key", "Key "])
async def test_a_missing_or_wrong_key_is_forbidden(compat_sqlite: Compat, header: str | None) -> None:
    headers = {"Authorization": header.format(token=compat_sqlite.token)} if header else {"Authorization": ""}
    response = await compat_sqlite.client.post(
        "/whatsapp/messages", json={"messages": [{**BASE, "text": "x"}]}, headers=headers
    )
    assert response.status_code == 401
    (result,) = response.json()["result"]
    assert result["code"] == "REJECTED"
    assert result["reasons"] == [{"key": "forbidden"}]
    assert result["description"].startswith("Отправка запрещена")


async def test_another_http_method_is_unknown_in_the_dialect(compat_sqlite: Compat) -> None:
    response = await compat_sqlite.client.get("/whatsapp/messages")
    assert response.status_code == 405
    assert response.json() == {"result": [rejected("unknown", None, "Метод не поддерживается: используйте POST.")]}


@pytest.mark.parametrize(
    ("content_type", "url", "expected_type", "expected_mime"),
    [
        ("image/jpeg", "https://x.ru/photo", "image", "image/jpeg"),
        (None, "https://x.ru/photo.PNG", "image", "image/png"),
        ("audio/ogg; codecs=opus", "https://x.ru/note", "voice", "audio/ogg"),
        ("auidio/ogg", "https://x.ru/note", "voice", "audio/ogg"),
        ("audio/mpeg", "https://x.ru/song.mp3", "audio", "audio/mpeg"),
        ("video/mp4", "https://x.ru/clip.mp4", "video", "video/mp4"),
        ("application/pdf", "https://x.ru/doc", "document", "application/pdf"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "https://x.ru/contract",
            "document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("image/tiff", "https://x.ru/scan.tiff", "document", "image/tiff"),
    ],
)
async def test_content_is_sent_as_the_media_class_of_its_type(
    compat_sqlite: Compat, content_type: str | None, url: str, expected_type: str, expected_mime: str
) -> None:
    item: dict[str, Any] = {**BASE, "contentUrl": url, "contentName": "file"}
    if content_type is not None:
        item["contentType"] = content_type
    response = await compat_sqlite.devino({"messages": [item]})
    assert response.json() == {"result": [ok(1)]}
    (row,) = await rows(compat_sqlite)
    assert row.type == expected_type
    assert row.payload["media"]["mime_type"] == expected_mime


async def test_text_beside_content_becomes_its_caption(compat_sqlite: Compat) -> None:
    item = {**BASE, "contentUrl": "https://x.ru/price.pdf", "contentName": "Прайс.pdf", "text": "Наш прайс"}
    await compat_sqlite.devino({"messages": [item]})
    (row,) = await rows(compat_sqlite)
    assert row.payload == {
        "media": {
            "url": "https://x.ru/price.pdf",
            "filename": "Прайс.pdf",
            "caption": "Наш прайс",
            "mime_type": "application/pdf",
        }
    }


async def test_language_code_defaults_to_en_and_is_spelled_as_the_cloud_api_does(compat_sqlite: Compat) -> None:
    await approved_template(compat_sqlite, "hello", "en", "Hello")
    await approved_template(compat_sqlite, "hello", "pt_BR", "Olá")
    await compat_sqlite.devino(
        {
            "messages": [
                {**BASE, "templateId": "hello"},
                {**BASE, "templateId": "hello", "languageCode": "EN"},
                {**BASE, "templateId": "hello", "languageCode": "pt-br"},
            ]
        }
    )
    assert [r.payload["template"]["language"] for r in await rows(compat_sqlite)] == ["en", "en", "pt_BR"]


async def test_native_errors_stay_native_beside_the_dialect(compat_sqlite: Compat) -> None:
    native = await compat_sqlite.client.post("/v1/messages", content=b"{not json")
    assert native.status_code == 400
    assert native.json()["error"]["code"] == "malformed_json"


async def test_the_openapi_document_describes_the_request_body(compat_sqlite: Compat) -> None:
    document = (await compat_sqlite.client.get("/openapi.json")).json()
    schema = document["paths"]["/whatsapp/messages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "DevinoMessageIn" in str(schema)
    assert "from" in document["components"]["schemas"]["DevinoMessageIn"]["properties"]
