"""Prices and costs: a tenant's rate card and what one message cost by it. Pure functions.

The provider says *what kind* of message it billed (Meta's ``pricing`` object on every status
webhook: ``pricing_model``, ``category``, ``type``, and the older ``billable``); the tenant's
rate card says *how much* that kind costs them. A message's cost is:

* ``0`` when the provider does not bill it: ``billable: false``, or a ``type`` of
  ``free_customer_service`` / ``free_entry_point`` (Meta's free replies within the customer
  service window and free entry points);
* otherwise the rate of its category, taken from the country override whose calling code is
  the longest prefix of the recipient's number, else from the default rates. The categories
  ``marketing_lite`` and ``authentication_international`` fall back to ``marketing`` and
  ``authentication`` when the card does not price them separately;
* unknown (``None``) when there is no rate card or the card has no price for the category.

Device and web channels are not billed per message by anyone: their messages carry a
``pricing`` that says so (``NOT_BILLED``) and cost ``0``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wagate.errors import ValidationError

#: Meta's pricing categories (https://developers.facebook.com/docs/whatsapp/pricing).
CATEGORIES = (
    "marketing",
    "utility",
    "authentication",
    "service",
    "marketing_lite",
    "authentication_international",
    "referral_conversion",
)
FALLBACK = {"marketing_lite": "marketing", "authentication_international": "authentication"}
FREE_TYPES = frozenset({"free_customer_service", "free_entry_point"})
#: The pricing a message of a channel without per-message billing carries.
NOT_BILLED: dict[str, Any] = {"pricing_model": "none", "billable": False, "category": None, "type": "not_billed"}
UNBILLED_KINDS = frozenset({"device", "web", "memory", "http"})
MAX_RATE = 1_000_000.0


@dataclass(frozen=True, slots=True)
class RateCard:
    currency: str
    rates: dict[str, float]
    countries: dict[str, dict[str, float]] = field(default_factory=dict)

    def rate(self, category: str, phone: str) -> float | None:
        """The price of one message of ``category`` to ``phone`` (E.164 digits), or None if not priced."""
        code = next((c for c in sorted(self.countries, key=len, reverse=True) if phone.startswith(c)), None)
        tables = ([self.countries[code]] if code is not None else []) + [self.rates]
        for name in (category, FALLBACK.get(category)):
            if name is None:
                continue
            for table in tables:
                if name in table:
                    return table[name]
        return None

    def as_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "rates": dict(self.rates), "countries": dict(self.countries)}


def _rates(value: Any, field_name: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field_name} must be an object of category → price", field=field_name)
    out: dict[str, float] = {}
    for category, price in value.items():
        if category not in CATEGORIES:
            raise ValidationError(
                f"{field_name}: unknown category {category!r} (one of {', '.join(CATEGORIES)})",
                field=f"{field_name}.{category}",
            )
        if isinstance(price, bool) or not isinstance(price, int | float) or not 0 <= price <= MAX_RATE:
            raise ValidationError(f"{field_name}.{category} must be a price ≥ 0", field=f"{field_name}.{category}")
        out[str(category)] = float(price)
    return out


def parse_card(body: Any) -> RateCard:
    """Validate ``PUT /v1/pricing``'s body."""
    if not isinstance(body, Mapping):
        raise ValidationError("the body must be a JSON object", field="body")
    for key in body:
        if key not in ("currency", "rates", "countries"):
            raise ValidationError(f"unknown field {key!r}", field=str(key))
    currency = body.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ValidationError("currency must be an ISO 4217 code such as RUB or USD", field="currency")
    rates = _rates(body.get("rates"), "rates")
    countries_raw = body.get("countries") or {}
    if not isinstance(countries_raw, Mapping):
        raise ValidationError("countries must be an object of calling code → rates", field="countries")
    countries: dict[str, dict[str, float]] = {}
    for code, table in countries_raw.items():
        text = str(code).lstrip("+")
        if not text.isdigit() or not 1 <= len(text) <= 4:
            raise ValidationError("countries are keyed by calling code (1–4 digits)", field=f"countries.{code}")
        countries[text] = _rates(table, f"countries.{text}")
    return RateCard(currency=currency.upper(), rates=rates, countries=countries)


def card_from_row(row: Any) -> RateCard:
    return RateCard(currency=row.currency, rates=dict(row.rates or {}), countries=dict(row.countries or {}))


def normalize_pricing(raw: Any) -> dict[str, Any] | None:
    """Meta's ``pricing`` object, kept with the fields wagate reads (and ``billable`` derived when absent)."""
    if not isinstance(raw, Mapping):
        return None
    category = raw.get("category")
    kind = raw.get("type")
    out: dict[str, Any] = {
        "pricing_model": str(raw.get("pricing_model") or "PMP"),
        "category": str(category).lower() if isinstance(category, str) else None,
        "type": str(kind).lower() if isinstance(kind, str) else None,
    }
    billable = raw.get("billable")
    out["billable"] = bool(billable) if isinstance(billable, bool) else (out["type"] not in FREE_TYPES)
    return out


def is_billed(pricing: Mapping[str, Any]) -> bool:
    return bool(pricing.get("billable", True)) and pricing.get("type") not in FREE_TYPES


def cost_of(pricing: Mapping[str, Any] | None, card: RateCard | None, phone: str) -> tuple[float, str | None] | None:
    """(amount, currency) of one message, or None while it cannot be known (see the module docstring)."""
    if pricing is None:
        return None
    if not is_billed(pricing):
        return (0.0, card.currency if card is not None else None)
    if card is None:
        return None
    category = pricing.get("category")
    if not isinstance(category, str):
        return None
    rate = card.rate(category, phone)
    return (rate, card.currency) if rate is not None else None


def estimate(card: RateCard | None, category: str, phones: list[str]) -> dict[str, Any] | None:
    """What sending one message of ``category`` to each of ``phones`` would cost (dry runs, campaigns).

    Counts every message as billable: an estimate cannot know which recipients will have an open
    customer-service window when the message goes out (a utility template would then be free).
    """
    if card is None:
        return None
    total = 0.0
    unpriced = 0
    for phone in phones:
        rate = card.rate(category, phone)
        if rate is None:
            unpriced += 1
        else:
            total += rate
    return {"amount": round(total, 6), "currency": card.currency, "category": category, "unpriced": unpriced}
