"""What one message costs by a tenant's rate card (``domain.pricing``)."""

from __future__ import annotations

import pytest

from wagate.domain.pricing import cost_of, estimate, normalize_pricing, parse_card
from wagate.errors import ValidationError

CARD = parse_card(
    {
        "currency": "rub",
        "rates": {"marketing": 5.6, "utility": 1.2, "authentication": 0.9, "service": 0},
        "countries": {"7": {"marketing": 4.0}, "79": {"marketing": 3.0}, "+49": {"utility": 2.5}},
    }
)


def test_a_regular_message_costs_its_category_rate() -> None:
    pricing = {"pricing_model": "PMP", "category": "utility", "type": "regular", "billable": True}
    assert cost_of(pricing, CARD, "380501234567") == (1.2, "RUB")


def test_the_longest_matching_calling_code_overrides_the_default_rate() -> None:
    marketing = {"category": "marketing", "type": "regular", "billable": True}
    assert cost_of(marketing, CARD, "79001234567") == (3.0, "RUB")
    assert cost_of(marketing, CARD, "77011234567") == (4.0, "RUB")
    assert cost_of(marketing, CARD, "4915112345678") == (5.6, "RUB")
    assert cost_of({**marketing, "category": "utility"}, CARD, "4915112345678") == (2.5, "RUB")


@pytest.mark.parametrize("kind", ["free_customer_service", "free_entry_point"])
def test_free_types_cost_nothing(kind: str) -> None:
    assert cost_of({"category": "utility", "type": kind}, CARD, "79001234567") == (0.0, "RUB")


def test_a_message_meta_does_not_bill_costs_nothing_even_without_a_card() -> None:
    assert cost_of({"category": "marketing", "type": "regular", "billable": False}, None, "7900") == (0.0, None)


def test_lite_and_international_fall_back_to_their_parent_category() -> None:
    assert cost_of({"category": "marketing_lite", "type": "regular"}, CARD, "380501234567") == (5.6, "RUB")
    assert cost_of({"category": "authentication_international", "type": "regular"}, CARD, "3805") == (0.9, "RUB")


def test_without_a_card_or_a_price_the_cost_is_unknown() -> None:
    assert cost_of({"category": "marketing", "type": "regular"}, None, "79001234567") is None
    assert cost_of({"category": "referral_conversion", "type": "regular"}, CARD, "79001234567") is None
    assert cost_of(None, CARD, "79001234567") is None


def test_meta_s_pricing_object_is_normalized_and_billable_is_derived_when_absent() -> None:
    assert normalize_pricing({"pricing_model": "PMP", "category": "SERVICE", "type": "free_customer_service"}) == {
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
        "billable": False,
    }
    assert normalize_pricing("nonsense") is None


def test_the_estimate_sums_every_recipient_and_counts_unpriced_ones() -> None:
    assert estimate(CARD, "marketing", ["79001234567", "77011234567", "380501234567"]) == {
        "amount": 12.6,
        "currency": "RUB",
        "category": "marketing",
        "unpriced": 0,
    }
    assert estimate(CARD, "referral_conversion", ["79001234567"])["unpriced"] == 1  # type: ignore[index]
    assert estimate(None, "marketing", ["79001234567"]) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rates": {}}, "currency"),
        ({"currency": "RUB", "rates": {"promo": 1}}, "rates.promo"),
        ({"currency": "RUB", "rates": {"marketing": -1}}, "rates.marketing"),
        ({"currency": "RUB", "rates": {}, "countries": {"RU": {}}}, "countries.RU"),
        ({"currency": "RUB", "rates": {}, "extra": 1}, "extra"),
    ],
)
def test_a_bad_rate_card_names_its_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_card(body)
    assert caught.value.field == field
