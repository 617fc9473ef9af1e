"""Channel names, default pacing and policy profiles, and validation of both (docs/api.md, channels)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from wagate.domain.limits import validate_duplicate_window, validate_limit_group, validate_messaging_limit
from wagate.errors import ValidationError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
CONSENT_MODES = ("enforce", "warn", "off")
#: Settings whose name contains one of these are masked even when a kind forgot to list them.
SECRET_HINTS = ("token", "secret", "password", "key")

#: A number in coexistence (the Business app on the phone stays connected) is limited by Meta
#: to 20 messages/s.
COEXISTENCE_PER_SECOND = 20.0
#: Default policy profiles a channel kind picks from (``wagate.channels.kind.ChannelKind.policy``).
#: Keys beyond the contract's two (docs/policy.md): ``duplicate_window_s`` (0 = off),
#: ``compat_duplicate_window_s`` (the same guard for messages sent through the WAMM- and
#: Devino-style doors; 0 by default, as the hosted services had no such rule),
#: ``messaging_limit`` (Cloud API tier: 250/2000/10000/100000, null = unlimited) and
#: ``limit_group`` (channels sharing one tier count).
#:
#: The official API's rules: the 24-hour window and opt-in are enforced.
STRICT_POLICY: dict[str, Any] = {
    "service_window": True,
    "consent": "enforce",
    "duplicate_window_s": 300,
    "compat_duplicate_window_s": 0,
    "messaging_limit": None,
    "limit_group": None,
}
#: Routes whose far end owns WhatsApp's rules (a phone, WhatsApp Web, another system): consent
#: is recorded as a warning, duplicates are still refused.
RELAXED_POLICY: dict[str, Any] = {
    "service_window": False,
    "consent": "warn",
    "duplicate_window_s": 300,
    "compat_duplicate_window_s": 0,
    "messaging_limit": None,
    "limit_group": None,
}
#: Every rule off: the in-memory test kind, so tests of other features are not affected by
#: policy (policy tests switch rules on).
NO_POLICY: dict[str, Any] = {
    "service_window": False,
    "consent": "off",
    "duplicate_window_s": 0,
    "compat_duplicate_window_s": 0,
    "messaging_limit": None,
    "limit_group": None,
}


def validate_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError("name must be 1-64 letters, digits, '_', '-', '.'", field="name")
    return name


def validate_kind(kind: object, known: list[str]) -> str:
    if not isinstance(kind, str) or kind not in known:
        raise ValidationError(f"kind must be one of {', '.join(known)}", field="kind")
    return kind


def _number(value: object, field: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ValidationError(f"{field} must be a number ≥ {minimum:g}", field=field)
    return float(value)


def merge_pacing(
    defaults: Mapping[str, Any], current: dict[str, Any] | None, update: object, *, coexistence: bool = False
) -> dict[str, Any]:
    """The kind's ``defaults``, overlaid by the stored pacing, overlaid by the update; validated.

    A cloud channel in coexistence (``settings.coexistence``) never goes faster than Meta's
    20 messages/s unless the update itself asks for another ``per_second``.

    Besides the four keys of the contract, the dispatcher's own keys (burst, recipient spacing,
    the anti-ban rules; see ``wagate.domain.pacing`` and docs/dispatcher.md) are filled with
    the kind's defaults and validated. Unknown keys are kept as they are.
    """
    if update is not None and not isinstance(update, dict):
        raise ValidationError("pacing must be an object", field="pacing")
    pacing = {
        **defaults,
        **(current or {}),
        **(update or {}),
    }
    pacing["per_second"] = _number(pacing["per_second"], "pacing.per_second", 0.001)
    asked = isinstance(update, dict) and "per_second" in update
    if coexistence and not asked and pacing["per_second"] > COEXISTENCE_PER_SECOND:
        pacing["per_second"] = COEXISTENCE_PER_SECOND
    pacing["min_interval_s"] = _number(pacing["min_interval_s"], "pacing.min_interval_s")
    pacing["max_interval_s"] = _number(pacing["max_interval_s"], "pacing.max_interval_s")
    if pacing["max_interval_s"] < pacing["min_interval_s"]:
        raise ValidationError("pacing.max_interval_s must be ≥ min_interval_s", field="pacing.max_interval_s")
    cap = pacing.get("daily_cap")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        raise ValidationError("pacing.daily_cap must be a whole number ≥ 0 or null", field="pacing.daily_cap")
    _validate_extra_pacing(pacing)
    return pacing


def _whole(value: object, field: str, minimum: int, nullable: bool) -> None:
    if value is None and nullable:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        suffix = " or null" if nullable else ""
        raise ValidationError(f"{field} must be a whole number ≥ {minimum}{suffix}", field=field)


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _validate_extra_pacing(pacing: dict[str, Any]) -> None:
    """The dispatcher's pacing keys (documented in docs/dispatcher.md)."""
    _whole(pacing.get("burst"), "pacing.burst", 1, nullable=True)
    pacing["recipient_interval_s"] = _number(pacing.get("recipient_interval_s"), "pacing.recipient_interval_s")
    _whole(pacing.get("new_contacts_daily_cap"), "pacing.new_contacts_daily_cap", 0, nullable=True)
    caps = pacing.get("warmup_daily_caps")
    if caps is not None:
        if not isinstance(caps, list):
            raise ValidationError(
                "pacing.warmup_daily_caps must be a list of whole numbers", field="pacing.warmup_daily_caps"
            )
        for cap in caps:
            _whole(cap, "pacing.warmup_daily_caps", 0, nullable=False)
    start = pacing.get("warmup_start")
    if start is not None and not _is_date(start):
        raise ValidationError("pacing.warmup_start must be a date (YYYY-MM-DD) or null", field="pacing.warmup_start")
    threshold = pacing.get("unanswered_threshold")
    if threshold is not None:
        value = _number(threshold, "pacing.unanswered_threshold")
        if not 0 < value <= 1:
            raise ValidationError(
                "pacing.unanswered_threshold must be in (0, 1] or null", field="pacing.unanswered_threshold"
            )
        pacing["unanswered_threshold"] = value
    _whole(pacing.get("unanswered_min_sample"), "pacing.unanswered_min_sample", 1, nullable=False)
    pacing["unanswered_window_hours"] = _number(
        pacing.get("unanswered_window_hours"), "pacing.unanswered_window_hours", 0.001
    )
    pacing["unanswered_grace_minutes"] = _number(
        pacing.get("unanswered_grace_minutes"), "pacing.unanswered_grace_minutes"
    )


def merge_policy(defaults: Mapping[str, Any], current: dict[str, Any] | None, update: object) -> dict[str, Any]:
    """The kind's ``defaults``, overlaid by the stored policy, overlaid by the update; validated."""
    if update is not None and not isinstance(update, dict):
        raise ValidationError("policy must be an object", field="policy")
    policy = {**defaults, **(current or {}), **(update or {})}
    if not isinstance(policy["service_window"], bool):
        raise ValidationError("policy.service_window must be true or false", field="policy.service_window")
    if policy["consent"] not in CONSENT_MODES:
        raise ValidationError("policy.consent must be enforce, warn or off", field="policy.consent")
    policy["duplicate_window_s"] = validate_duplicate_window(policy.get("duplicate_window_s", 0))
    policy["compat_duplicate_window_s"] = validate_duplicate_window(
        policy.get("compat_duplicate_window_s", 0), "policy.compat_duplicate_window_s"
    )
    policy["messaging_limit"] = validate_messaging_limit(policy.get("messaging_limit"))
    policy["limit_group"] = validate_limit_group(policy.get("limit_group"))
    return policy


def is_secret(key: str, secret_fields: tuple[str, ...] = ()) -> bool:
    return key in secret_fields or any(h in key.lower() for h in SECRET_HINTS)


def public_settings(settings: dict[str, Any], secret_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """Settings as shown by the API: the kind's secret fields (and anything named like a
    credential) masked (invariant 8: secrets never in clear)."""
    return {key: ("***" if value and is_secret(key, secret_fields) else value) for key, value in settings.items()}
