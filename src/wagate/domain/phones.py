"""Phone numbers in, E.164 digits out.

CRMs send numbers as people type them (``+7 (900) 123-45-67``, ``8 900 123 45 67``);
wagate stores and returns E.164 digits without ``+`` (``79001234567``), the form both
the Cloud API (``wa_id``) and the hosted services use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from wagate.errors import ValidationError

_JUNK = re.compile(r"[\s()\-.\u00a0/]")
MIN_DIGITS = 8
MAX_DIGITS = 15


class PhoneError(ValidationError):
    default_code = "invalid_phone"


@lru_cache(maxsize=256)
def _region_codes(region: str) -> tuple[int, str] | None:
    """(country calling code, national prefix) of a region, e.g. RU → (7, "8")."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None or metadata.country_code is None:
        return None
    return int(metadata.country_code), metadata.national_prefix or ""


@dataclass(frozen=True, slots=True)
class _Desc:
    """One ``PhoneNumberDesc``: the lengths it allows (empty: any) and its compiled pattern."""

    lengths: frozenset[int]
    pattern: re.Pattern[str] | None

    def matches(self, national: str) -> bool:
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(national) is not None


@dataclass(frozen=True, slots=True)
class _RegionRules:
    leading_digits: re.Pattern[str] | None
    general: _Desc
    types: tuple[_Desc, ...]

    def valid(self, national: str) -> bool:
        return self.general.matches(national) and any(t.matches(national) for t in self.types)


_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)  # fmt: skip


def _desc(desc: phonenumbers.PhoneNumberDesc | None) -> _Desc:
    if desc is None:
        return _Desc(frozenset(), None)
    pattern = desc.national_number_pattern
    return _Desc(frozenset(desc.possible_length or ()), re.compile(pattern) if pattern else None)


@lru_cache(maxsize=512)
def _rules(country_code: int) -> tuple[_RegionRules, ...]:
    """Each region of a calling code, with its patterns compiled once (phonenumbers looks them
    up in its regex cache on every call, most of ``is_valid_number``'s cost)."""
    rules: list[_RegionRules] = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = (
            phonenumbers.PhoneMetadata.metadata_for_nongeo_region(country_code)
            if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
            else phonenumbers.PhoneMetadata.metadata_for_region(region)
        )
        if metadata is None:
            continue
        leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
        types = tuple(_desc(getattr(metadata, name)) for name in _TYPES)
        rules.append(_RegionRules(leading, _desc(metadata.general_desc), types))
    return tuple(rules)


def _valid(country_code: int, national: str) -> bool:
    """``phonenumbers.is_valid_number`` for a number without leading zeros, with precompiled
    patterns: the region is chosen as ``region_code_for_number`` chooses it (the only region;
    else the first whose leading digits match, or whose patterns accept the number), then the
    number must match the region's general pattern and one of its type patterns.
    ``tests/unit/test_phones.py`` checks the two agree."""
    if not national or national[0] == "0" or not national.isdigit():
        return False  # leading zeros need parse()'s Italian-zero handling: take the slow path
    rules = _rules(country_code)
    if len(rules) == 1:
        return rules[0].valid(national)
    for region in rules:
        if region.leading_digits is not None:
            if region.leading_digits.match(national):
                return region.valid(national)
        elif region.valid(national):
            return True
    return False


def _fast_path(cleaned: str, region: str) -> str | None:
    """The common CRM inputs without a full ``parse()`` (a third of the cost); validity is still
    decided by ``phonenumbers.is_valid_number``. ``None`` sends the input down the full path."""
    if cleaned.startswith("+"):
        digits = cleaned[1:]
        if not digits or digits[0] == "0":
            return None
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return digits if _valid(code, digits[size:]) else None
        return None
    codes = _region_codes(region)
    if codes is None:
        return None
    code, trunk = codes
    prefix = str(code)
    if cleaned.startswith(prefix) and not _fits_region(region, cleaned):
        # As parse() does: a leading country code is stripped only when the whole string is no national number.
        rest = cleaned[len(prefix) :]
        return cleaned if _valid(code, rest) else None
    if trunk and cleaned.startswith(trunk) and _valid(code, cleaned[len(trunk) :]):
        return prefix + cleaned[len(trunk) :]
    if _valid(code, cleaned):
        return prefix + cleaned
    return None


@lru_cache(maxsize=256)
def _general_pattern(region: str) -> re.Pattern[str] | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None or metadata.general_desc is None or metadata.general_desc.national_number_pattern is None:
        return None
    return re.compile(metadata.general_desc.national_number_pattern)


def _fits_region(region: str, national: str) -> bool:
    pattern = _general_pattern(region)
    return pattern is None or pattern.fullmatch(national) is not None


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
    fast = _fast_path(cleaned, default_region)
    if fast is not None:
        return fast
    full = _full_path(cleaned, digits, default_region)
    if full is not None:
        return full
    raise PhoneError(f"not a valid phone number: {raw!r}", field=field)


def _full_path(cleaned: str, digits: str, default_region: str) -> str | None:
    """``phonenumbers.parse`` for everything the fast path does not settle."""
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
    return None


def is_plausible_digits(value: str) -> bool:
    """Cheap check for values already normalised (stored rows, provider ids)."""
    return value.isdigit() and MIN_DIGITS <= len(value) <= MAX_DIGITS
