"""Graph error answers (``testdata/graph_error_*.json``) → what the dispatcher does with the message."""

from __future__ import annotations

import pytest

from tests.channels.cloud.harness import load
from wagate.channels.cloud.errors import (
    ACTIONS,
    MEANINGS,
    classify,
    describe_with_hint,
    parse_error_body,
    to_send_error,
)

CASES = [
    # file, HTTP status, wagate code, retryable, pause
    ("graph_error_131026.json", 400, "not_on_whatsapp", False, None),
    ("graph_error_130429.json", 429, "rate_limited", True, 1.0),
    ("graph_error_190.json", 401, "auth_failed", True, 60.0),
    ("graph_error_100.json", 400, "invalid_parameter", False, None),
    ("graph_error_131051.json", 400, "unsupported_type", False, None),
    ("graph_error_132000.json", 400, "template_param_count", False, None),
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


# errors by meaning: Meta's Cloud API error codes reference
# (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes)

MEANING_CASES = [
    # Graph code, wagate code, action, retryable
    (131049, "meta_declined", "retry_tomorrow", False),
    (130472, "recipient_in_experiment", "never_retry", False),
    (131056, "pair_rate_limited", "retry_recipient_later", True),
    (130429, "rate_limited", "slow_channel", True),
    (80007, "rate_limited", "slow_channel", True),
    (131047, "outside_service_window", "send_template", False),
    (131026, "not_on_whatsapp", "never_retry", False),
    (132000, "template_param_count", "fix_template", False),
    (132001, "template_not_found", "fix_template", False),
    (132005, "template_param_too_long", "fix_template", False),
    (132007, "template_policy_violation", "fix_template", False),
    (132012, "template_param_format", "fix_template", False),
    (132015, "template_paused", "fix_template", False),
    (132016, "template_disabled", "fix_template", False),
    (131053, "media_upload_error", "fix_media", False),
]


@pytest.mark.parametrize(("graph_code", "name", "action", "retryable"), MEANING_CASES)
def test_each_error_has_its_documented_meaning(graph_code: int, name: str, action: str, retryable: bool) -> None:
    meaning = MEANINGS[graph_code]
    assert (meaning.name, meaning.action, meaning.retryable) == (name, action, retryable)
    assert meaning.action in ACTIONS


def test_only_throughput_errors_hold_the_whole_channel() -> None:
    assert {code for code, m in MEANINGS.items() if m.throttles_channel} == {130429, 80007, 4, 613}
    error = to_send_error(parse_error_body(load("graph_error_130429.json"), 429))
    assert error.throttle_channel
    assert not to_send_error(parse_error_body(load("graph_error_131026.json"), 400)).throttle_channel


def test_the_window_error_tells_the_crm_to_send_a_template() -> None:
    body = {"error": {"message": "(#131047) Re-engagement message", "code": 131047, "error_data": {"details": "x"}}}
    error = to_send_error(parse_error_body(body, 400))
    assert error.code == "outside_service_window"
    assert "send an approved template" in error.message


def test_the_experiment_is_not_billed_and_the_names_are_stable_for_other_doors() -> None:
    assert not MEANINGS[130472].billed
    assert describe_with_hint(parse_error_body({"error": {"code": 131049, "message": "(#131049) x"}}, 400)).endswith(
        "do not retry today"
    )
