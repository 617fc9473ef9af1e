import pytest

from wagate.domain.phones import PhoneError, normalize_phone


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
