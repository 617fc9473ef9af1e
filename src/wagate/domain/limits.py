"""Limits: the tenant's daily cap, the Cloud API messaging tiers, and the duplicate guard.

* **Daily cap** — a tenant setting: at most N messages accepted from API doors per calendar day
  in the tenant's time zone (the seed's test accounts: 30 a day).
* **Messaging tier** — Meta limits how many *unique* clients a business reaches with
  business-initiated template messages (templates sent outside the service window) in any
  rolling 24 hours: 250, 2,000, 10,000, 100,000 or unlimited. Per channel, or per group of
  channels sharing one count (Meta counts per business portfolio since October 2025).
* **Duplicates** — the same content to the same client within a period is refused (the seed's
  Devino status 2009), so a retrying CRM cannot spam a client by accident.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from wagate.errors import ValidationError

TIERS: tuple[int, ...] = (250, 2000, 10000, 100000)
TIER_WINDOW = timedelta(hours=24)
MAX_DUPLICATE_WINDOW = 7 * 24 * 3600
#: Origins whose messages are not "API messages": operators typing in the dashboard and
#: wagate's own automatic answers (the opt-out confirmation). They never count toward the cap.
UNCAPPED_ORIGINS = frozenset({"dashboard", "optout", "automation"})


def validate_messaging_limit(value: object, field: str = "policy.messaging_limit") -> int | None:
    if value is None or value == "unlimited":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in TIERS:
        allowed = ", ".join(str(t) for t in TIERS)
        raise ValidationError(f"messaging_limit must be one of {allowed} or null (unlimited)", field=field)
    return value


def validate_duplicate_window(value: object, field: str = "policy.duplicate_window_s") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DUPLICATE_WINDOW:
        raise ValidationError(f"duplicate_window_s must be 0 (off) to {MAX_DUPLICATE_WINDOW} seconds", field=field)
    return value


def validate_limit_group(value: object, field: str = "policy.limit_group") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationError("limit_group must be a name of at most 64 characters", field=field)
    return value


def validate_daily_cap(value: object, field: str = "daily_cap") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("daily_cap must be a whole number ≥ 0 or null", field=field)
    return value


def validate_timezone(value: object, field: str = "timezone") -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("timezone must be an IANA name such as Europe/Moscow", field=field)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown time zone {value!r}", field=field) from exc
    return value


def day_of(now: datetime, timezone: str) -> tuple[str, datetime, datetime]:
    """``(day key, start, end)`` of the calendar day containing ``now`` in ``timezone`` (UTC datetimes)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1, hours=2)).replace(hour=0)  # DST-safe next midnight
    return start.date().isoformat(), start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def counts_toward_cap(origin: str) -> bool:
    return origin not in UNCAPPED_ORIGINS


def content_key(type: str, payload: dict[str, Any]) -> str:
    """What "the same message" means for the duplicate guard: the same type and content."""
    return type + ":" + orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
