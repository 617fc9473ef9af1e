"""Creating a campaign is its dry run: every row is judged, counted and stored; nothing is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.conftest import Campaigns

pytestmark = pytest.mark.asyncio

#: Every kind of row a real export brings, with the file's own line numbers (a quoted cell spans 9–10).
EVERY_KIND = (
    "phone;name;param1;param2\n"  # 1
    "+7 (900) 111-11-11;Анна;Анна;A-1\n"  # 2 valid, consented
    "8 900 111 11 11;Анна снова;Анна;A-2\n"  # 3 duplicate of line 2 in another format
    "not a phone;Икс;Икс;A-3\n"  # 4 invalid phone
    ";Без номера;Игрек;A-4\n"  # 5 no phone at all
    "12345;Короткий;Зет;A-5\n"  # 6 too short
    "\n"  # 7 blank: skipped, not a row
    "79002222222;Борис;;A-7\n"  # 8 empty parameter
    '79003333333;Вера;"Вера\nи перенос";A-8\n'  # 9–10 a line break inside a parameter
    "79004444444;Глеб;Глеб;A-11\n"  # 11 no consent
    "79005555555;Дина;Дина;A-12\n"  # 12 opted out
    "79006666666;Ефим;Ефим;A-13\n"  # 13 valid, consented
)


def bucket(report: dict[str, Any], name: str) -> tuple[int, list[int]]:
    return report[name]["count"], report[name]["lines"]


async def test_dry_run_counts_every_kind_of_bad_row(campaigns: Campaigns) -> None:
    await campaigns.set_policy(consent="enforce")
    await campaigns.opt_in("79001111111", "79006666666")
    await campaigns.opt_in("79005555555")
    await campaigns.opt_out("79005555555")
    created = await campaigns.create(EVERY_KIND)
    report = created["report"]
    assert created["state"] == "draft"
    assert report["rows"] == 10
    assert bucket(report, "invalid_phone") == (3, [4, 5, 6])
    assert bucket(report, "duplicate") == (1, [3])
    assert bucket(report, "invalid_params") == (2, [8, 9])
    assert bucket(report, "no_consent") == (1, [11])
    assert bucket(report, "opted_out") == (1, [12])
    assert report["valid"] == 4
    assert report["sendable"] == 2
    assert report["consent_mode"] == "enforce"
    assert report["consent_scope"] == "utility"


async def test_dry_run_sends_nothing(campaigns: Campaigns) -> None:
    created = await campaigns.create(EVERY_KIND)
    assert await campaigns.runner.step(created["id"]) == 0
    assert await campaigns.outbound() == []
    assert created["stats"]["pending"] == created["report"]["valid"]


async def test_each_row_is_kept_with_its_state_and_reason(campaigns: Campaigns) -> None:
    created = await campaigns.create(EVERY_KIND)
    rows = {r["line"]: r for r in await campaigns.recipients(created["id"])}
    assert sorted(rows) == [2, 3, 4, 5, 6, 8, 9, 11, 12, 13]
    assert (rows[2]["phone"], rows[2]["state"], rows[2]["name"]) == ("79001111111", "pending", "Анна")
    assert (rows[3]["state"], rows[3]["error_code"]) == ("duplicate", "duplicate")
    assert (rows[4]["phone"], rows[4]["state"], rows[4]["error_code"]) == ("not a phone", "invalid", "invalid_phone")
    assert rows[5]["error_code"] == "required"
    assert rows[6]["error_code"] == "phone_too_short"
    assert (rows[8]["state"], rows[8]["error_code"]) == ("invalid", "template_param_invalid")
    assert rows[9]["params"] == ["Вера\nи перенос", "A-8"]
    invalid = await campaigns.recipients(created["id"], state="invalid")
    assert [r["line"] for r in invalid] == [4, 5, 6, 8, 9]


async def test_warn_mode_counts_missing_consent_but_would_send(campaigns: Campaigns) -> None:
    await campaigns.set_policy(consent="warn")
    created = await campaigns.create("phone,name,param1,param2\n79004444444,Глеб,Глеб,A-1\n")
    report = created["report"]
    assert bucket(report, "no_consent") == (1, [2])
    assert report["sendable"] == 1
    assert report["consent_mode"] == "warn"


async def test_opted_out_client_is_never_sendable_even_without_consent_rules(campaigns: Campaigns) -> None:
    await campaigns.opt_out("79005555555")
    created = await campaigns.create("phone,param1,param2\n79005555555,Дина,A-1\n79006666666,Ефим,A-2\n")
    report = created["report"]
    assert report["consent_mode"] == "off"
    assert bucket(report, "opted_out") == (1, [2])
    assert report["sendable"] == 1


async def test_windows_1251_csv_with_cyrillic_names(campaigns: Campaigns) -> None:
    text = "Телефон;Имя;{{1}};{{2}}\r\n+7 900 123-45-67;Пётр Щукин;Пётр;Заказ №5\r\n89001234568;Ёлка Юрьевна;Ёлка;Заказ №6\r\n"
    created = await campaigns.create(text.encode("cp1251"))
    assert created["source"]["encoding"] == "windows-1251"
    assert created["source"]["delimiter"] == ";"
    assert created["source"]["phone"] == "Телефон"
    assert created["report"]["valid"] == 2
    rows = await campaigns.recipients(created["id"])
    assert [(r["name"], r["params"]) for r in rows] == [
        ("Пётр Щукин", ["Пётр", "Заказ №5"]),
        ("Ёлка Юрьевна", ["Ёлка", "Заказ №6"]),
    ]
    await campaigns.act(created["id"], "start")
    await campaigns.runner.step(created["id"])
    texts = {m["text"] for m in await campaigns.outbound()}
    assert texts == {"Hello Пётр, your order Заказ №5 is ready", "Hello Ёлка, your order Заказ №6 is ready"}


async def test_utf8_with_bom_and_tabs(campaigns: Campaigns) -> None:
    text = "\ufeffphone\tparam2\tparam1\n79001234567\tB-1\tИван\n"
    created = await campaigns.create(text.encode("utf-8"))
    assert (created["source"]["encoding"], created["source"]["delimiter"]) == ("utf-8-sig", "\t")
    rows = await campaigns.recipients(created["id"])
    assert rows[0]["params"] == ["Иван", "B-1"]  # by header number, not by position


async def test_json_rows_are_judged_like_a_file(campaigns: Campaigns) -> None:
    response = await campaigns.client.post(
        "/v1/campaigns",
        json={
            "template": "notice",
            "language": "en",
            "rows": [
                {"phone": "79001234567", "name": "Ivan", "params": ["Ivan", "A-1"]},
                {"phone": "bad", "params": ["X", "A-2"]},
                {"phone": "79001234568", "params": ["Only one"]},
            ],
        },
    )
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert (report["valid"], report["invalid_phone"]["lines"], report["invalid_params"]["lines"]) == (1, [2], [3])


async def test_json_csv_text_is_accepted(campaigns: Campaigns) -> None:
    response = await campaigns.client.post(
        "/v1/campaigns", json={"template": "notice", "csv": "phone,param1,param2\n79001234567,Ivan,A-1\n"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["report"]["sendable"] == 1


@pytest.mark.parametrize(
    ("csv", "fields", "field", "code"),
    [
        ("phone,param1,param2\n79001234567,a,b\n", {"template": "nope"}, "template", "template_not_found"),
        ("phone,param1,param2\n79001234567,a,b\n", {"language": "ru"}, "template", "template_language_not_found"),
        ("phone,param1\n79001234567,a\n", {}, "file", "csv_columns"),
        ("phone,email,city,sum\n79001234567,a,b,c\n", {}, "file", "csv_columns"),
        ("phone,param1,param3\n79001234567,a,b\n", {}, "file", "csv_columns"),
        ("who,what\nx,y\n", {}, "file", "csv_columns"),
        ("", {}, "file", "csv_empty"),
        ("phone,param1,param2\n79001234567,a,b\n", {"window": "10:00"}, "window", "invalid"),
        ("phone,param1,param2\n79001234567,a,b\n", {"timezone": "Mars/Olympus"}, "timezone", "invalid"),
        ("phone,param1,param2\n79001234567,a,b\n", {"channel": "ghost"}, "channel", "unknown_channel"),
        ("phone,param1,param2\n79001234567,a,b\n", {"max_in_flight": "0"}, "max_in_flight", "invalid"),
    ],
)
async def test_a_campaign_that_cannot_work_is_refused_and_leaves_nothing(
    campaigns: Campaigns, csv: str, fields: dict[str, str], field: str, code: str
) -> None:
    given = dict(fields)
    template = given.pop("template", "notice")
    response = await campaigns.create(csv, template=template, expect=422, **given)
    assert (response["error"]["field"], response["error"]["code"]) == (field, code)
    assert (await campaigns.client.get("/v1/campaigns")).json()["data"] == []


async def test_a_pending_template_cannot_start_a_campaign(campaigns: Campaigns) -> None:
    response = await campaigns.client.post(
        "/v1/templates",
        json={"name": "promo", "language": "en", "category": "marketing", "body": "Sale {{1}}", "status": "pending"},
    )
    assert response.status_code == 201
    refused = await campaigns.create("phone,param1\n79001234567,a\n", template="promo", expect=422)
    assert refused["error"]["code"] == "template_not_approved"


async def test_a_file_in_neither_encoding_is_refused(campaigns: Campaigns) -> None:
    refused = await campaigns.create(b"phone,param1,param2\n79001234567,\x98\x98,b\n", expect=422)
    assert refused["error"]["code"] == "csv_encoding"
    assert (await campaigns.client.get("/v1/campaigns")).json()["data"] == []


async def test_excel_unicode_text_utf16_with_tabs(campaigns: Campaigns) -> None:
    text = "Телефон\tИмя\tparam1\tparam2\r\n79001234567\tЖанна\tЖанна\tБ-1\r\n"
    created = await campaigns.create(text.encode("utf-16"))
    assert (created["source"]["encoding"], created["source"]["delimiter"]) == ("utf-16", "\t")
    rows = await campaigns.recipients(created["id"])
    assert [(r["name"], r["params"]) for r in rows] == [("Жанна", ["Жанна", "Б-1"])]
