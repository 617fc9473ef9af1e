"""Graph error answers (``testdata/graph_error_*.json``) → what the dispatcher does with the message."""

from __future__ import annotations

import pytest

from tests.channels.cloud.harness import load
from wagate.channels.cloud.errors import classify, parse_error_body, to_send_error

CASES = [
    # file, HTTP status, wagate code, retryable, pause
    ("graph_error_131026.json", 400, "not_on_whatsapp", False, None),
    ("graph_error_130429.json", 429, "rate_limited", True, 1.0),
    ("graph_error_190.json", 401, "auth_failed", True, 60.0),
    ("graph_error_100.json", 400, "invalid_parameter", False, None),
    ("graph_error_131051.json", 400, "unsupported_type", False, None),
    ("graph_error_132000.json", 400, "template_params_mismatch", False, None),
    ("graph_error_132001.json", 404, "template_not_found", False, None),
    ("graph_error_131000.json", 500, "provider_error", True, None),
    ("graph_error_999999.json", 400, "provider_rejected", False, None),
    ("graph_error_999999.json", 503, "provider_error", True, None),
    ("graph_error_999999.json", 429, "rate_limited", True, 1.0),
]


@pytest.mark.parametrize(("file", "http_status", "code", "retryable", "pause"), CASES)
def test_graph_error_is_classified(
    file: str, http_status: int, code: str, retryable: bool, pause: float | None
) -> None:
    error = parse_error_body(load(file), http_status)
    assert classify(error) == (code, retryable, pause)
    send_error = to_send_error(error)
    assert (send_error.code, send_error.retryable, send_error.retry_after) == (code, retryable, pause)
    assert send_error.provider_code == str(load(file)["error"]["code"])


def test_the_error_body_is_parsed_field_by_field() -> None:
    error = parse_error_body(load("graph_error_132000.json"), 400)
    assert error.code == 132000
    assert error.type == "OAuthException"
    assert error.title == "Number of parameters does not match the expected number of params"
    assert error.details == "body: number of localizable_params (1) does not match the expected number of params (2)"
    assert error.fbtrace_id == "AZ8x1Qv7nW3kLm0pRsTuVwX"


def test_the_message_says_title_code_and_details() -> None:
    error = parse_error_body(load("graph_error_131026.json"), 400)
    assert error.describe() == "Message undeliverable (Graph error 131026): Message Undeliverable."


def test_a_retry_after_header_wins_over_the_default_pause() -> None:
    error = parse_error_body(load("graph_error_130429.json"), 429, retry_after=7.0)
    assert classify(error) == ("rate_limited", True, 7.0)


@pytest.mark.parametrize("body", [None, "gateway timeout", {"unexpected": True}])
def test_a_body_without_a_graph_error_goes_by_http_status(body: object) -> None:
    assert classify(parse_error_body(body, 502))[:2] == ("provider_error", True)
    assert classify(parse_error_body(body, 400))[:2] == ("provider_rejected", False)
