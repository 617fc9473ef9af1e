"""The two dialects as pure functions: error mappings (policy included), emoji, states, media, items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wagate.api.compat import devino_dialect as dv
from wagate.api.compat import wamm_dialect as wm
from wagate.api.compat.media import guess_mime, media_class, normalize_mime
from wagate.domain.messages import MessageType
from wagate.domain.statuses import Status
from wagate.errors import AuthError, ConflictError, PolicyError, ValidationError

#: The codes the policy layer raises (its contract with every door).
POLICY_CODES = (
    "template_not_found",
    "template_language_not_found",
    "template_not_approved",
    "template_param_count",
    "template_param_too_long",
    "template_param_invalid",
    "consent_required",
    "opted_out",
    "outside_service_window",
    "duplicate_message",
    "daily_cap_exceeded",
    "tier_limit_exceeded",
)


# --- WAMM ---------------------------------------------------------------------------------------


def test_every_policy_code_has_a_wamm_string() -> None:
    assert set(wm.POLICY_ERRORS) == set(POLICY_CODES)


@pytest.mark.parametrize("code", POLICY_CODES)
def test_policy_refusals_are_fail_execution_in_wamm(code: str) -> None:
    assert wm.wamm_error_for(PolicyError("refused", code=code)) == "fail execution"


def test_an_unknown_policy_code_is_still_fail_execution_in_wamm() -> None:
    assert wm.wamm_error_for(PolicyError("refused", code="something_new")) == "fail execution"


@pytest.mark.parametrize(
    ("exc", "err"),
    [
        (AuthError("bad token"), "token fail"),
        (ValidationError("bad", field="to", code="invalid_phone"), "phone fail"),
        (ValidationError("bad", field="text", code="required"), "text fail"),
        (ValidationError("bad", field="media.url"), "url fail"),
        (ValidationError("long", field="name", code="too_long"), "name fail, more 250"),
        (ValidationError("long", field="web", code="too_long"), "web fail, more 150"),
        (ValidationError("long", field="email", code="too_long"), "email fail, more 150"),
        (ValidationError("not an address", field="email", code="invalid"), "fail execution"),
        (ValidationError("long", field="info", code="too_long"), "fail execution"),
        (ValidationError("no channel", field="channel", code="no_channel"), "acc not authorized"),
        (ConflictError("conflict"), "fail execution"),
    ],
)
def test_wagate_errors_map_to_wamm_strings(exc: Exception, err: str) -> None:
    assert wm.wamm_error_for(exc) == err  # type: ignore[arg-type]


def test_all_twenty_one_emoji_codes_of_the_seed_are_replaced() -> None:
    text = "".join(f":sm{n:02d}:" for n in range(1, 22))
    assert wm.substitute_emoji(text) == "🤗💐😂🤩😭😤🤝😃😉😍😘😷😕🙏👉👍💐🔥🕒🎁📺"


def test_sm22_and_unknown_codes_stay_as_typed() -> None:
    assert wm.substitute_emoji(":sm22: :sm00: :sm1: sm01") == ":sm22: :sm00: :sm1: sm01"


def test_every_wagate_status_has_a_wamm_state() -> None:
    assert set(wm.STATES) == set(Status)
    assert wm.wamm_state("read") == "viewed"
    assert wm.wamm_state("queued") == "sending"
    assert wm.wamm_state("received") == "received"


def test_dates_are_written_in_the_chosen_zone() -> None:
    moment = datetime(2021, 1, 24, 16, 52, tzinfo=UTC)
    assert wm.wamm_date(moment, wm.resolve_timezone("Europe/Moscow")) == "2021-01-24 19:52:00"
    assert wm.wamm_date(moment, wm.resolve_timezone("UTC")) == "2021-01-24 16:52:00"
    assert wm.wamm_date(moment, wm.resolve_timezone("Not/AZone")) == "2021-01-24 16:52:00"
    assert wm.wamm_date(None, UTC) == ""
    assert wm.wamm_date(moment, timezone(timedelta(hours=5))) == "2021-01-24 21:52:00"


# --- Devino -------------------------------------------------------------------------------------


def test_every_policy_code_has_a_devino_rejection() -> None:
    assert set(dv.POLICY) == set(POLICY_CODES)


@pytest.mark.parametrize(
    ("code", "key", "ref", "status"),
    [
        ("template_not_found", "forbidden", None, "2309"),
        ("template_language_not_found", "forbidden", None, "2310"),
        ("template_not_approved", "forbidden", None, "2309"),
        ("template_param_count", "forbidden", None, "2308"),
        ("template_param_too_long", "length.too.long", "messages[3].templateParams", "2311"),
        ("template_param_invalid", "invalid", "messages[3].templateParams", None),
        ("consent_required", "forbidden", None, None),
        ("opted_out", "forbidden", None, None),
        ("outside_service_window", "forbidden", None, "2312"),
        ("duplicate_message", "forbidden", None, "2009"),
        ("daily_cap_exceeded", "forbidden", None, "2301"),
        ("tier_limit_exceeded", "forbidden", None, "2301"),
    ],
)
def test_policy_refusals_map_to_devino_keys_with_the_seed_status_code(
    code: str, key: str, ref: str | None, status: str | None
) -> None:
    result = dv.rejection_for(PolicyError("refused", code=code), 3)
    reason = {"key": key} if ref is None else {"key": key, "ref": ref}
    assert result["code"] == "REJECTED"
    assert result["reasons"] == [reason]
    assert code in result["description"]
    if status is not None:
        assert f"({status}, {code})." in result["description"]
    if key == "forbidden":
        assert result["description"].startswith("Отправка запрещена: ")


def test_the_service_window_refusal_reads_as_the_seed_describes_2312() -> None:
    result = dv.rejection_for(PolicyError("outside the window", code="outside_service_window"), 0)
    assert result == {
        "code": "REJECTED",
        "reasons": [{"key": "forbidden"}],
        "description": (
            "Отправка запрещена: сообщение отправлено вне диалога и без указания шаблона "
            "(2312, outside_service_window)."
        ),
    }


def test_an_unknown_policy_code_is_forbidden_in_devino() -> None:
    result = dv.rejection_for(PolicyError("refused", code="something_new"), 0)
    assert result == {
        "code": "REJECTED",
        "reasons": [{"key": "forbidden"}],
        "description": "Отправка запрещена (something_new).",
    }


def test_an_error_the_dialect_has_no_key_for_is_unknown() -> None:
    assert dv.rejection_for(ConflictError("conflict"), 0) == {
        "code": "REJECTED",
        "reasons": [{"key": "unknown"}],
        "description": "Неизвестная ошибка.",
    }


@pytest.mark.parametrize(
    ("field", "code", "key", "ref"),
    [
        ("to", "required", "must.be.not.null", "messages[0].to"),
        ("to", "phone_too_long", "length.too.long", "messages[0].to"),
        ("to", "invalid_phone", "invalid", "messages[0].to"),
        ("text", "required", "must.be.not.null", "messages[0]"),
        ("text", "too_long", "length.too.long", "messages[0].text"),
        ("media.url", "invalid", "invalid", "messages[0].contentUrl"),
        ("media.mime_type", "invalid", "invalid", "messages[0].contentType"),
        ("validity_seconds", "invalid", "invalid", "messages[0].validity"),
        ("callback_url", "invalid", "invalid", "messages[0].callbackUrl"),
        ("template.language", "invalid", "invalid", "messages[0].languageCode"),
        ("channel", "unknown_channel", "not.available", "messages[0].from"),
    ],
)
def test_domain_validation_errors_map_to_devino_keys(field: str, code: str, key: str, ref: str) -> None:
    result = dv.rejection_for(ValidationError("bad", field=field, code=code), 0)
    assert result["reasons"] == [{"key": key, "ref": ref}]
    assert result["description"]


def test_template_params_need_positions_one_to_n() -> None:
    assert dv.template_params({"2": "b", "1": "a"}) == ["a", "b"]
    assert dv.template_params({"1": 5, "2": 1.5}) == ["5", "1.5"]
    assert dv.template_params({"1": "a", "3": "c"}) is None
    assert dv.template_params({"0": "a"}) is None
    assert dv.template_params(["a"]) is None
    assert dv.template_params({"1": None}) is None
    assert dv.template_params({"1": "three   spaces are fine"}) == ["three   spaces are fine"]


def test_a_valid_item_becomes_a_draft_with_the_devino_origin() -> None:
    draft, reasons = dv.parse_item(
        {"from": "MyCompany", "to": "79034567890", "text": "Code", "callbackData": 42, "validity": 60}, "RU"
    )
    assert reasons == []
    assert draft is not None
    assert (draft.to, draft.channel, draft.type, draft.text, draft.origin) == (
        "79034567890",
        "MyCompany",
        "text",
        "Code",
        "devino",
    )
    assert (draft.callback_data, draft.validity_seconds) == ("42", 60)


def test_a_template_with_a_media_header_is_refused_on_content_url() -> None:
    _draft, reasons = dv.parse_item(
        {"from": "a", "to": "79034567890", "templateId": "t", "contentUrl": "https://x.ru/a.png"}, "RU"
    )
    assert reasons == [dv.Reason(dv.INVALID, "contentUrl")]


# --- media --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("image/jpeg", "image/jpeg"),
        ("Audio/OGG; codecs=opus", "audio/ogg"),
        ("auidio/ogg", "audio/ogg"),
        ("application/vnd.ms-excel", "application/vnd.ms-excel"),
        ("application/vnd.something-new", "application/vnd.something-new"),
        ("application/x-custom", "application/x-custom"),
        ("image/nonsense", None),
        ("nonsense/x-foo", None),
        ("jpeg", None),
        ("", None),
    ],
)
def test_only_existing_mime_types_are_accepted(value: str, normalized: str | None) -> None:
    assert normalize_mime(value) == normalized


def test_mime_is_guessed_from_the_url_path_only() -> None:
    assert guess_mime("https://x.ru/a/b.ogg?download=1#x") == "audio/ogg"
    assert guess_mime("https://x.ru/a/b.JPG") == "image/jpeg"
    assert guess_mime("https://x.ru/a/b") is None


@pytest.mark.parametrize(
    ("mime", "kind"),
    [
        ("image/png", MessageType.IMAGE),
        ("image/gif", MessageType.IMAGE),
        ("video/3gpp", MessageType.VIDEO),
        ("audio/ogg", MessageType.VOICE),
        ("audio/amr", MessageType.AUDIO),
        ("video/quicktime", MessageType.DOCUMENT),
        ("application/pdf", MessageType.DOCUMENT),
        (None, MessageType.DOCUMENT),
    ],
)
def test_media_class_follows_the_seed_table(mime: str | None, kind: MessageType) -> None:
    assert media_class(mime) == kind


def test_a_malformed_text_is_one_reason_not_two() -> None:
    _draft, reasons = dv.parse_item({"from": "a", "to": "79034567890", "text": 5}, "RU")
    assert reasons == [dv.Reason(dv.INVALID, "text")]
