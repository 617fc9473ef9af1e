import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wagate.domain.phones import PhoneError, _fast_path, _full_path, normalize_phone


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
