"""Reading recipient files as people export them: encodings, delimiters, columns, line numbers."""

from __future__ import annotations

import pytest

from wagate.domain.campaign_csv import Layout, choose_delimiter, detect_encoding, map_columns, read_rows
from wagate.errors import ValidationError


def chunks(data: bytes, size: int = 7) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("phone;name\n79001234567;Иван\n".encode(), "utf-8"),
        ("\ufeffphone;name\n79001234567;Иван\n".encode(), "utf-8-sig"),
        ("phone;name\n79001234567;Иван\n".encode("cp1251"), "windows-1251"),
        ("phone\tname\n79001234567\tИван\n".encode("utf-16"), "utf-16"),
        (b"phone,name\n79001234567,Ivan\n", "utf-8"),
    ],
)
def test_encoding_is_detected(data: bytes, encoding: str) -> None:
    assert detect_encoding(chunks(data)) == encoding


def test_a_windows_1251_name_at_the_very_end_is_found() -> None:
    data = b"phone,name\n" + b"79001234567,Ivan\n" * 5000 + "79001234568,Щука\n".encode("cp1251")
    assert detect_encoding(chunks(data, 4096)) == "windows-1251"


def test_a_utf8_character_split_between_chunks_is_still_utf8() -> None:
    data = "phone,name\n79001234567,Ёжик\n".encode()
    assert detect_encoding(chunks(data, 1)) == "utf-8"


@pytest.mark.parametrize(
    ("first", "delimiter"),
    [
        ("phone,name,param1", ","),
        ("Телефон;Имя;param1", ";"),
        ("phone\tname", "\t"),
        ("phone|name|{{1}}", "|"),
        ('"Name, full";phone;p1', ";"),
    ],
)
def test_the_delimiter_is_the_one_that_finds_the_phone_column(first: str, delimiter: str) -> None:
    assert choose_delimiter(first, first + "\n") == delimiter


def test_a_headerless_file_falls_back_to_the_sniffer() -> None:
    sample = "79001234567;Иван;A-1\n79001234568;Пётр;A-2\n"
    assert choose_delimiter(sample.splitlines()[0], sample) == ";"


def layout(text: str, params: int) -> Layout:
    first = text.splitlines()[0]
    return map_columns(first, text, params)


def test_parameters_come_from_their_numbered_columns_in_any_order() -> None:
    found = layout("{{2}};Телефон;ФИО;{{1}};email\n", 2)
    assert (found.phone, found.name, found.params) == (1, 2, (3, 0))
    assert found.describe()["params"] == ["{{1}}", "{{2}}"]


@pytest.mark.parametrize("headers", ["phone,param1,param2", "phone,p1,p2", "phone,Параметр 1,параметр2", "phone,1,2"])
def test_parameter_headers_in_several_spellings(headers: str) -> None:
    assert layout(headers + "\n", 2).params == (1, 2)


def test_without_numbered_headers_the_other_columns_are_the_parameters_in_order() -> None:
    found = layout("Name,Phone,Order,Date\n", 2)
    assert (found.phone, found.name, found.params) == (1, 0, (2, 3))


def test_a_stray_column_is_an_error_not_a_parameter() -> None:
    with pytest.raises(ValidationError) as error:
        layout("phone,name,order,date,email\n", 2)
    assert error.value.field == "file"
    assert "order, date, email" in error.value.message


@pytest.mark.parametrize(
    ("headers", "params", "wanted"),
    [
        ("phone,param1\n", 2, "no column for parameter {{2}}"),
        ("phone,param1,param2,param3\n", 2, "param3 is too many"),
        ("phone,param1,{{1}}\n", 1, "two columns"),
    ],
)
def test_numbered_columns_must_match_the_template(headers: str, params: int, wanted: str) -> None:
    with pytest.raises(ValidationError, match=wanted.replace("{", r"\{").replace("}", r"\}")):
        layout(headers, params)


def test_a_file_without_header_is_read_by_position() -> None:
    with_name = layout("+7 900 123-45-67;Иван;A-1;B\n", 2)
    assert (with_name.header, with_name.phone, with_name.name, with_name.params) == (False, 0, 1, (2, 3))
    without_name = layout("79001234567;A-1;B\n", 2)
    assert (without_name.name, without_name.params) == (None, (1, 2))


def test_a_file_without_a_phone_anywhere_is_refused() -> None:
    with pytest.raises(ValidationError, match="no phone column"):
        layout("who,what\n", 1)


def test_excel_sep_line_sets_the_delimiter_and_is_skipped() -> None:
    text = "sep=;\nphone;name;param1\n79001234567;Иван, мл.;A-1\n"
    found = layout(text, 1)
    assert (found.delimiter, found.skip_sep_line, found.header) == (";", True, True)
    rows = list(read_rows(text.splitlines(keepends=True), found))
    assert [(r.line, r.phone, r.name, r.params) for r in rows] == [(3, "79001234567", "Иван, мл.", ["A-1"])]


def test_rows_keep_the_file_line_numbers_across_blank_lines_and_quoted_breaks() -> None:
    text = 'phone,param1\n\n79001234567,"two\nlines"\n ,\n79001234568,  spaced  \n79001234569\n'
    found = layout(text, 1)
    rows = list(read_rows(text.splitlines(keepends=True), found))
    assert [(r.line, r.phone, r.params) for r in rows] == [
        (3, "79001234567", ["two\nlines"]),
        (6, "79001234568", ["spaced"]),
        (7, "79001234569", [""]),
    ]
