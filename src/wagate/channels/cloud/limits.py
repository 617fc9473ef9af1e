"""Meta's messaging limit and throughput, as the policy's tier check uses them.

Since October 2025 the messaging limit — unique customers a business may reach outside the
customer service window in a moving 24 hours — is set per business portfolio and shared by its
numbers: 250 → 2,000 → 10,000 → 100,000 → unlimited
(https://developers.facebook.com/documentation/business-messaging/whatsapp/messaging-limits).
Meta reports it as ``whatsapp_business_manager_messaging_limit`` on the phone number and in
``phone_number_quality_update`` webhooks (``max_daily_conversations_per_business``, formerly
``current_limit``); throughput (80 → 1,000 messages per second) as ``throughput.level``.

A cloud channel follows Meta's limit in its policy (``messaging_limit``, with
``messaging_limit_source: "meta"`` and the tier in ``meta_messaging_limit``) unless an admin set
a limit of their own (a ``messaging_limit`` without that source, or ``messaging_limit_source:
"manual"``): an admin's stricter limit always wins.
"""

from __future__ import annotations

from typing import Any

#: Meta's tier names → unique customers per 24 h (None: unlimited).
TIERS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10000,
    "TIER_100K": 100000,
    "TIER_UNLIMITED": None,
}


def follows_meta(policy: dict[str, Any]) -> bool:
    source = policy.get("messaging_limit_source")
    if source == "manual":
        return False
    return source == "meta" or policy.get("messaging_limit") is None


def policy_with_limit(policy: dict[str, Any], tier: str | None, throughput: str | None = None) -> dict[str, Any] | None:
    """The channel policy after Meta reported ``tier`` (and ``throughput``); None when nothing changes."""
    out = dict(policy)
    if tier is not None and tier in TIERS and follows_meta(policy):
        out.update(messaging_limit=TIERS[tier], messaging_limit_source="meta", meta_messaging_limit=tier)
    elif tier is not None and tier in TIERS:
        out["meta_messaging_limit"] = tier
    if throughput:
        out["meta_throughput"] = throughput
    return out if out != policy else None


def tier_of(value: dict[str, Any]) -> str | None:
    """The portfolio's tier from a webhook value or a phone number object."""
    for key in ("whatsapp_business_manager_messaging_limit", "max_daily_conversations_per_business", "current_limit"):
        tier = value.get(key)
        if isinstance(tier, str) and tier.upper() in TIERS:
            return tier.upper()
    return None


def throughput_of(value: dict[str, Any]) -> str | None:
    level = value.get("throughput")
    if isinstance(level, dict) and isinstance(level.get("level"), str):
        return str(level["level"]).upper()
    return None
