"""Property-based tests (hypothesis) of template parameter validation and rendering."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wagate.domain.templates import (
    FORBIDDEN_PARAM_CHARS,
    MAX_PARAM_LENGTH,
    Template,
    check_params,
    normalize_language,
    param_problem,
    prepare_send,
    render_body,
    render_text,
)
from wagate.errors import PolicyError

FORBIDDEN = sorted(FORBIDDEN_PARAM_CHARS)


def is_valid(value: str) -> bool:
    """The rule, written independently of the implementation: what the seed and the Cloud API allow."""
    return (
        bool(value.strip())
        and not any(ch in FORBIDDEN_PARAM_CHARS for ch in value)
        and "    " not in value
        and len(value) <= MAX_PARAM_LENGTH
    )


# Text without the characters a parameter may not contain, and without "{{" (so segments stay literal).
safe_text = st.text(
    alphabet=st.characters(blacklist_characters=[*FORBIDDEN, "{", "}"], blacklist_categories=["Cs"]), max_size=40
)
valid_param = safe_text.map(lambda s: s.replace("    ", "   ")).filter(lambda s: bool(s.strip()))


def template_with(body: str, category: str = "utility") -> Template:
    return Template(name="t", language="ru", category=category, body=body, status="approved")


@given(st.text(max_size=MAX_PARAM_LENGTH + 10))
def test_param_problem_agrees_with_the_rule(value: str) -> None:
    assert (param_problem(value) is None) == is_valid(value)


@given(valid_param, st.sampled_from(FORBIDDEN), st.integers(min_value=0, max_value=40))
def test_any_line_break_or_tab_makes_a_param_invalid(value: str, bad: str, where: int) -> None:
    spoiled = value[:where] + bad + value[where:]
    assert param_problem(spoiled) == "template_param_invalid"


@given(valid_param, st.integers(min_value=4, max_value=12))
def test_four_or_more_spaces_in_a_row_make_a_param_invalid(value: str, spaces: int) -> None:
    assert param_problem(value + " " * spaces + "x") == "template_param_invalid"


@given(st.integers(min_value=MAX_PARAM_LENGTH + 1, max_value=MAX_PARAM_LENGTH + 50))
def test_overlong_params_are_too_long(length: int) -> None:
    assert param_problem("я" * length) == "template_param_too_long"


@given(st.lists(valid_param, min_size=1, max_size=6), st.data())
def test_the_first_bad_param_is_named_by_its_index(params: list[str], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(params) - 1))
    params[index] = params[index] + data.draw(st.sampled_from(["\n", "\t", "    x", "\r\n"]))
    body = " ".join(f"{{{{{i + 1}}}}}" for i in range(len(params)))
    with pytest.raises(PolicyError) as info:
        check_params(template_with(body), params)
    assert (info.value.code, info.value.field) == ("template_param_invalid", f"template.params[{index}]")


@given(st.integers(min_value=0, max_value=8), st.integers(min_value=0, max_value=8))
def test_a_wrong_number_of_params_is_a_count_error(expected: int, given_count: int) -> None:
    assume(expected != given_count)
    body = "x " + " ".join(f"{{{{{i + 1}}}}}" for i in range(expected))
    with pytest.raises(PolicyError) as info:
        check_params(template_with(body), ["p"] * given_count)
    assert (info.value.code, info.value.field) == ("template_param_count", "template.params")


@given(st.lists(st.tuples(safe_text, st.integers(min_value=1, max_value=5)), max_size=8), st.data())
def test_rendering_substitutes_each_placeholder_exactly_once(
    pieces: list[tuple[str, int]], data: st.DataObject
) -> None:
    count = max((n for _, n in pieces), default=0)
    # Parameters may themselves look like placeholders or carry WhatsApp formatting.
    params = data.draw(
        st.lists(
            st.one_of(valid_param, st.sampled_from(["{{1}}", "*b*", "_i_", "~s~", "```m```"])),
            min_size=count,
            max_size=count,
        )
    )
    body = "".join(f"{text}{{{{{n}}}}}" for text, n in pieces)
    expected = "".join(text + params[n - 1] for text, n in pieces)
    assert render_body(body, params) == expected


@given(
    st.lists(
        st.sampled_from(["*bold*", "_italic_", "~strike~", "```mono```", "`code`", "> quote", "- item"]), max_size=6
    )
)
def test_whatsapp_formatting_passes_through_untouched(marks: list[str]) -> None:
    body = "\n".join([*marks, "{{1}}"])
    template = template_with(body)
    rendered = prepare_send(template, ["*ok*"])
    assert rendered["text"] == "\n".join([*marks, "*ok*"])
    assert render_text(template, ["*ok*"]) == rendered["text"]


@given(st.lists(valid_param, min_size=2, max_size=2))
def test_prepared_payload_keeps_the_template_and_its_text(params: list[str]) -> None:
    template = Template(
        name="t",
        language="ru",
        category="marketing",
        body="Привет, {{1}}! Код {{2}}",
        status="approved",
        header={"type": "text", "text": "Заголовок"},
        footer="подвал",
        buttons=[{"type": "quick_reply", "text": "Да"}, {"type": "url", "text": "Сайт", "url": "https://e.example"}],
    )
    payload = prepare_send(template, params)
    assert payload["template"] == {"name": "t", "language": "ru", "params": params, "category": "marketing"}
    assert (
        payload["text"] == f"Заголовок\n\nПривет, {params[0]}! Код {params[1]}\n\nподвал\n\nДа\nСайт: https://e.example"
    )


@given(st.from_regex(r"\A[A-Za-z]{2,3}([_-][A-Za-z]{2})?\Z"))
def test_language_normalisation_is_idempotent(code: str) -> None:
    once = normalize_language(code)
    assert normalize_language(once) == once
    assert once.split("_")[0].islower()
