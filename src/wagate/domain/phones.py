"""Phone numbers in, E.164 digits out.

CRMs send numbers as people type them (``+7 (900) 123-45-67``, ``8 900 123 45 67``);
wagate stores and returns E.164 digits without ``+`` (``79001234567``), the form both
the Cloud API (``wa_id``) and the hosted services of the seed use.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from wagate.errors import ValidationError

_JUNK = re.compile(r"[\s()\-.\u00a0/]")
MIN_DIGITS = 8
MAX_DIGITS = 15


class PhoneError(ValidationError):
    default_code = "invalid_phone"


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, default_region: str = "RU", field: str = "to") -> str:
    """Return E.164 digits without ``+`` or raise ``PhoneError`` naming ``field``.

    A number with an international prefix (``+``, ``00``) or a bare string of digits that
    parses as international is taken as is; otherwise the tenant's ``default_region``
    applies, which covers national trunk prefixes such as Russia's ``8``.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise PhoneError("phone number is required", field=field, code="required")
    cleaned = _JUNK.sub("", raw.strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    digits = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not digits.isdigit():
        raise PhoneError(f"not a phone number: {raw!r}", field=field)
    if len(digits) < MIN_DIGITS:
        raise PhoneError(f"phone number too short: {raw!r}", field=field, code="phone_too_short")
    if len(digits) > MAX_DIGITS:
        raise PhoneError(f"phone number too long: {raw!r}", field=field, code="phone_too_long")
    candidates: list[tuple[str, str | None]] = []
    if cleaned.startswith("+"):
        candidates.append((cleaned, None))
    else:
        # National form first (it is what a human in the tenant's country types), then international.
        candidates.append((digits, default_region))
        candidates.append(("+" + digits, None))
    for text, region in candidates:
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    raise PhoneError(f"not a valid phone number: {raw!r}", field=field)


def is_plausible_digits(value: str) -> bool:
    """Cheap check for values already normalised (stored rows, provider ids)."""
    return value.isdigit() and MIN_DIGITS <= len(value) <= MAX_DIGITS
