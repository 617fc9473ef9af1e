"""Addressing and identity cleaning: a phone in any format, a BSUID, a LID — never a guess."""

from __future__ import annotations

import pytest

from wagate.domain.channels import COEXISTENCE_PER_SECOND, merge_pacing
from wagate.domain.identities import (
    Identities,
    clean_identities,
    identities_of_key,
    parse_address,
    phone_of,
)
from wagate.domain.pacing import PROVIDER_PACING
from wagate.errors import ValidationError

BSUID = "US.13491208655302741918"


@pytest.mark.parametrize("raw", ["+7 (900) 123-45-67", "8 900 123 45 67", "79001234567", 79001234567])
def test_a_phone_in_any_human_format_is_addressed_as_a_phone(raw: object) -> None:
    assert parse_address(raw, "RU") == parse_address("79001234567", "RU")
    assert parse_address(raw, "RU").kind == "phone"


def test_a_bsuid_is_addressed_as_itself() -> None:
    address = parse_address(BSUID, "RU")
    assert (address.key, address.kind) == (BSUID, "user_id")
    assert parse_address("BR.AbC123", "RU").kind == "user_id"  # up to 128 letters or digits


@pytest.mark.parametrize("raw", ["US.1349-1208", "us.1234", "US.", "US." + "1" * 129, "USA.123"])
def test_a_malformed_bsuid_is_refused_naming_to(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_address(raw, "RU")
    assert caught.value.field == "to"
    assert caught.value.code in ("invalid_user_id", "invalid_phone")


def test_a_value_that_starts_like_a_bsuid_is_never_read_as_phone_digits() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_address("RU.7900.1234567", "RU")
    assert caught.value.code == "invalid_user_id"


def test_a_lid_is_addressed_as_a_lid() -> None:
    assert parse_address("1234567890@lid", "RU").kind == "lid"
    with pytest.raises(ValidationError):
        parse_address("12ab@lid", "RU")


def test_only_digit_keys_are_shown_as_phones() -> None:
    assert phone_of("79001234567") == "79001234567"
    assert phone_of(BSUID) is None
    assert identities_of_key(BSUID) == Identities(user_id=BSUID)
    assert identities_of_key("1234@lid") == Identities(lid="1234@lid")


def test_provider_identities_drop_what_is_malformed() -> None:
    ids = clean_identities(
        phone="+79001234567", user_id="not a bsuid", parent_user_id="US.ENT.11815799212886844830", username="@bob"
    )
    assert ids == Identities(
        phone="79001234567", user_id=None, parent_user_id="US.ENT.11815799212886844830", username="@bob"
    )
    assert not clean_identities(phone="12", user_id="", lid="x@lid")


def test_coexistence_caps_the_default_pacing_at_20_per_second_unless_asked() -> None:
    assert merge_pacing(PROVIDER_PACING, None, None)["per_second"] == 80
    assert merge_pacing(PROVIDER_PACING, None, None, coexistence=True)["per_second"] == COEXISTENCE_PER_SECOND == 20
    assert merge_pacing(PROVIDER_PACING, {"per_second": 80.0}, None, coexistence=True)["per_second"] == 20
    assert merge_pacing(PROVIDER_PACING, None, {"per_second": 50}, coexistence=True)["per_second"] == 50


def test_the_dashboard_puts_a_plus_only_before_a_phone() -> None:
    from wagate.dashboard.render import person

    assert person("79001234567") == "+79001234567"
    assert person(BSUID) == BSUID
    assert person("1234567890@lid") == "1234567890@lid"
