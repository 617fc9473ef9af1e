import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wagate.domain.phones import PhoneError, _fast_path, _full_path, _valid, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+7 (900) 123-45-67", "79001234567"),
        ("8 900 123 45 67", "79001234567"),
        ("89001234567", "79001234567"),
        ("79001234567", "79001234567"),
        ("+1 650-253-0000", "16502530000"),
        ("00 44 20 7946 0958", "442079460958"),
        ("+49 30 901820", "4930901820"),
    ],
)
def test_human_formats_become_e164_digits(raw: str, expected: str) -> None:
    assert normalize_phone(raw, "RU") == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "abc", "12345", "+7 900", "1" * 16, "+7 (900) 123-45-67-89-00", "+0 123 456 789"]
)
def test_invalid_numbers_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(PhoneError) as info:
        normalize_phone(raw, "RU", "to")
    assert info.value.field == "to"


def test_default_region_applies_to_national_numbers() -> None:
    assert normalize_phone("(650) 253-0000", "US") == "16502530000"


@given(
    st.sampled_from(["", "+", "8", "7", "1", "44", "49", "380", "0"]),
    st.text(alphabet="0123456789", min_size=6, max_size=12),
    st.sampled_from(["RU", "US", "DE", "GB", "UA", "KZ"]),
)
@settings(max_examples=800, deadline=None)
def test_fast_path_agrees_with_full_parse(prefix: str, rest: str, region: str) -> None:
    cleaned = prefix + rest
    digits = cleaned.lstrip("+")
    fast = _fast_path(cleaned, region)
    if fast is not None:
        assert fast == _full_path(cleaned, digits, region)


@given(
    st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
    st.text(alphabet="0123456789", min_size=1, max_size=14),
)
@settings(max_examples=3000, deadline=None)
def test_precompiled_validity_agrees_with_is_valid_number(country_code: int, national: str) -> None:
    """``_valid`` re-implements ``phonenumbers.is_valid_number`` with precompiled patterns."""
    if national[0] == "0":
        assert not _valid(country_code, national)  # left to the full path
        return
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    assert _valid(country_code, national) == phonenumbers.is_valid_number(number)


@pytest.mark.parametrize(
    "e164",
    [
        "79001234567", "77012345678", "16502530000", "14165550123", "18095551234", "442079460958",
        "447624123456", "4930901820", "380501234567", "97250123456", "8613800138000", "80012345678",
        "33612345678", "390612345678", "5511912345678", "611800123456",
    ],
)  # fmt: skip
def test_precompiled_validity_on_real_numbers_of_shared_calling_codes(e164: str) -> None:
    number = phonenumbers.parse("+" + e164)
    national = phonenumbers.national_significant_number(number)
    expected = phonenumbers.is_valid_number(number) and not national.startswith("0")  # zeros: full path
    assert _valid(number.country_code, national) == expected


def test_precompiled_validity_agrees_on_every_regions_example_numbers() -> None:
    """Every example number phonenumbers ships (valid ones), and each one digit shorter and longer."""
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            if national.startswith("0"):
                continue
            for variant in (national, national[:-1], national + "5"):
                number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(variant))
                assert _valid(example.country_code, variant) == phonenumbers.is_valid_number(number), (region, variant)
                checked += 1
    assert checked > 2000
