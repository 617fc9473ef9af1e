"""The policy layer: one pure decision per outbound message, the same for every API door.

``evaluate`` takes the messages a door wants to send, the facts the store gathered about them
(templates, consents, the service window, recent messages, counters) and answers, for each,
*allowed* (possibly with warnings) or *refused* with a ``PolicyError``. It keeps a running
budget, so a batch is judged as if its messages arrived one after another: the 31st message
of a day capped at 30 is refused even when all 31 came in one request.

What is "business-initiated" (see docs/policy.md):

* a free-form (non-template) message is a reply while the client's service window is open, and
  business-initiated otherwise;
* a template is business-initiated outside the window; a **marketing** template always is
  (a promotion is never a reply, and a client who just wrote "STOP" must not get one).

Checks run in a fixed order and the first failure wins: template → window → consent →
duplicate → daily cap → tier. Caps come last so refused messages never use up quota.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wagate.domain.channels import STRICT_POLICY
from wagate.domain.consent import DEFAULT_CONFIRMATION, DEFAULT_OPTOUT_KEYWORDS, ConsentState, check_consent
from wagate.domain.limits import (
    content_key,
    counts_toward_cap,
    validate_daily_cap,
    validate_timezone,
)
from wagate.domain.templates import Template, choose, prepare_send
from wagate.domain.window import window_at
from wagate.errors import PolicyError, ValidationError

CONSENT_MODES = ("enforce", "warn", "off")
#: Origins of the compatibility doors (``api/compat``).
COMPAT_ORIGINS = frozenset({"wamm", "devino"})


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """A channel's ``policy`` object with the kind's defaults filled in."""

    service_window: bool
    consent: str
    duplicate_window_s: int = 0
    #: The guard for messages of the compatibility doors (``COMPAT_ORIGINS``): off by default.
    compat_duplicate_window_s: int = 0
    messaging_limit: int | None = None
    limit_group: str | None = None

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> ChannelPolicy:
        """A stored policy (complete: its kind's defaults were merged in when the channel was
        created); a key missing from a hand-made one is read strictly."""
        merged = {**STRICT_POLICY, **policy}
        return cls(
            service_window=bool(merged.get("service_window")),
            consent=str(merged.get("consent", "enforce")),
            duplicate_window_s=int(merged.get("duplicate_window_s") or 0),
            compat_duplicate_window_s=int(merged.get("compat_duplicate_window_s") or 0),
            messaging_limit=merged.get("messaging_limit"),
            limit_group=merged.get("limit_group") or None,
        )

    def duplicate_window(self, origin: str) -> int:
        """Seconds within which the same message to the same client is refused (0 = off).

        The WAMM- and Devino-style doors have their own window, off by default: the hosted
        services they stand in for sent a repeated message again, and CRMs rely on that.
        """
        return self.compat_duplicate_window_s if origin in COMPAT_ORIGINS else self.duplicate_window_s

    def tier_group(self, channel: str) -> str:
        return self.limit_group or channel

    @property
    def needs_window(self) -> bool:
        return self.service_window or self.consent != "off" or self.messaging_limit is not None


# ---------------------------------------------------------------- tenant settings

DEFAULT_OPTIN_SCOPES: list[dict[str, Any]] = [
    {
        "id": "utility",
        "label": {"en": "Order, delivery and appointment updates", "ru": "Статусы заказов, доставки и записей"},
    },
    {"id": "authentication", "label": {"en": "Login and confirmation codes", "ru": "Коды входа и подтверждения"}},
    {"id": "marketing", "label": {"en": "News, offers and discounts", "ru": "Новости, акции и скидки"}},
]


def tenant_timezone(settings: Mapping[str, Any]) -> str | None:
    """The zone a tenant chose (``PATCH /v1/policy {"timezone"}``), or ``None`` if it chose none.

    The one place a tenant's zone lives: the daily cap's midnight, analytics days, campaign
    windows and the WAMM-style API's dates all read it. Where it is unset, each falls back to its
    own default (UTC; ``WAGATE_COMPAT_TIMEZONE`` for the WAMM-style dates).
    """
    zone = (settings.get("policy") or {}).get("timezone")
    return zone if isinstance(zone, str) and zone else None


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """The tenant's policy settings (``tenants.settings["policy"]``), defaults filled in."""

    daily_cap: int | None = None
    timezone: str = "UTC"
    optout_keywords: tuple[str, ...] = DEFAULT_OPTOUT_KEYWORDS
    optout_confirmation: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONFIRMATION))
    optin: dict[str, Any] = field(default_factory=dict)
    #: Days message bodies and media are kept; None: the deployment's ``WAGATE_RETENTION_DAYS``.
    retention_days: float | None = None

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> TenantPolicy:
        data = settings.get("policy") or {}
        return cls(
            daily_cap=data.get("daily_cap"),
            timezone=tenant_timezone(settings) or "UTC",
            optout_keywords=tuple(data.get("optout_keywords") or DEFAULT_OPTOUT_KEYWORDS),
            optout_confirmation={**DEFAULT_CONFIRMATION, **(data.get("optout_confirmation") or {})},
            optin=dict(data.get("optin") or {}),
            retention_days=data.get("retention_days"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "daily_cap": self.daily_cap,
            "timezone": self.timezone,
            "optout_keywords": list(self.optout_keywords),
            "optout_confirmation": self.optout_confirmation,
            "optin": optin_settings(self.optin),
            "retention_days": self.retention_days,
        }


def optin_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """The opt-in page settings with defaults: what the public page shows and records."""
    return {
        "enabled": bool(data.get("enabled", True)),
        "company": data.get("company"),
        "description": data.get("description"),
        "business_phone": data.get("business_phone"),
        "scopes": data.get("scopes") or DEFAULT_OPTIN_SCOPES,
        "text_version": str(data.get("text_version") or "1"),
    }


def _validate_optin(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError("optin must be an object", field="optin")
    out: dict[str, Any] = {}
    for key in value:
        if key not in ("enabled", "company", "description", "business_phone", "scopes", "text_version"):
            raise ValidationError(f"unknown field {key!r}", field=f"optin.{key}")
    if "enabled" in value:
        if not isinstance(value["enabled"], bool):
            raise ValidationError("optin.enabled must be true or false", field="optin.enabled")
        out["enabled"] = value["enabled"]
    for key, limit in (("company", 200), ("description", 2000), ("business_phone", 32), ("text_version", 32)):
        if key in value:
            item = value[key]
            if item is not None and (not isinstance(item, str) or len(item) > limit):
                raise ValidationError(f"optin.{key} must be a string of at most {limit}", field=f"optin.{key}")
            out[key] = item
    if "scopes" in value:
        from wagate.domain.templates import validate_scope

        scopes = value["scopes"]
        if scopes is not None:
            if not isinstance(scopes, list) or not 1 <= len(scopes) <= 20:
                raise ValidationError("optin.scopes must be a list of 1-20 items", field="optin.scopes")
            for index, item in enumerate(scopes):
                where = f"optin.scopes[{index}]"
                if not isinstance(item, dict):
                    raise ValidationError("each scope is {id, label}", field=where)
                validate_scope(item.get("id"), f"{where}.id")
                label = item.get("label")
                if not isinstance(label, str | dict) or not label:
                    raise ValidationError("label is a string or {en, ru}", field=f"{where}.label")
        out["scopes"] = scopes
    return out


def update_tenant_policy(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a PATCH of the tenant policy and return the new stored object."""
    stored = dict(current)
    for key, value in update.items():
        if key == "daily_cap":
            stored[key] = validate_daily_cap(value)
        elif key == "timezone":
            stored[key] = validate_timezone(value)
        elif key == "optout_keywords":
            if value is None:
                stored.pop(key, None)
                continue
            if (
                not isinstance(value, list)
                or len(value) > 50
                or not all(isinstance(k, str) and 0 < len(k.strip()) <= 64 for k in value)
            ):
                raise ValidationError("optout_keywords must be a list of short words", field="optout_keywords")
            stored[key] = [k.strip() for k in value]
        elif key == "optout_confirmation":
            if isinstance(value, str):
                value = {"en": value, "ru": value}
            if not isinstance(value, dict) or not all(
                k in ("en", "ru") and isinstance(v, str) and len(v) <= 1000 for k, v in value.items()
            ):
                raise ValidationError(
                    "optout_confirmation is a text or {en, ru}; an empty text sends no confirmation",
                    field="optout_confirmation",
                )
            stored[key] = {**dict(stored.get(key) or {}), **value}
        elif key == "optin":
            stored[key] = {**dict(stored.get(key) or {}), **_validate_optin(value)}
        elif key == "retention_days":
            if value is None:
                stored.pop(key, None)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 36500:
                raise ValidationError(
                    "retention_days is a number of days (0 < days <= 36500) or null for the default",
                    field="retention_days",
                )
            stored[key] = value
        else:
            raise ValidationError(f"unknown field {key!r}", field=key)
    return stored


# ---------------------------------------------------------------- the decision


@dataclass(frozen=True, slots=True)
class Candidate:
    """One validated outbound message as the policy sees it."""

    phone: str
    type: str
    payload: dict[str, Any]
    channel_id: int
    channel: str
    policy: ChannelPolicy
    origin: str = "api"
    #: The channel's templates are the provider's (cloud): only its own ones may be sent.
    native_templates: bool = False

    @property
    def is_template(self) -> bool:
        return self.type == "template"

    @property
    def duplicate_window_s(self) -> int:
        return self.policy.duplicate_window(self.origin)


@dataclass(slots=True)
class TierState:
    """Unique clients reached in the last 24 h in one limit group (only the phones we asked about)."""

    limit: int
    count: int
    reached: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Facts:
    """Everything the store knows that the decisions need; updated as a batch is judged."""

    templates: list[Template] = field(default_factory=list)
    last_inbound: dict[tuple[int, str], datetime] = field(default_factory=dict)
    consents: dict[str, ConsentState] = field(default_factory=dict)
    recent: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    daily_used: int | None = None
    tiers: dict[str, TierState] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    error: PolicyError | None = None
    warnings: tuple[PolicyError, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)
    #: The limit group in which this message reaches a client (to record), if it counts.
    tier_group: str | None = None
    counts_toward_cap: bool = False

    @property
    def allowed(self) -> bool:
        return self.error is None


def _refuse(error: PolicyError) -> Decision:
    return Decision(error=error)


def decide(candidate: Candidate, facts: Facts, tenant: TenantPolicy, now: datetime) -> Decision:
    """Judge one message and, when it is allowed, charge it to the running budget in ``facts``."""
    policy = candidate.policy
    payload = candidate.payload
    template: Template | None = None
    if candidate.is_template:
        spec = payload["template"]
        try:
            template = choose(
                facts.templates, spec["name"], spec["language"], candidate.channel, own_only=candidate.native_templates
            )
            payload = {**payload, **prepare_send(template, list(spec.get("params") or []))}
        except PolicyError as exc:
            return _refuse(exc)

    window_open: bool | None = None
    if policy.needs_window:
        window_open = window_at(facts.last_inbound.get((candidate.channel_id, candidate.phone)), now).open
    business_initiated = window_open is False
    marketing = template is not None and template.category == "marketing"

    if template is None and business_initiated and policy.service_window:
        return _refuse(
            PolicyError(
                "the client has not written in the last 24 hours: only an approved template may start the conversation",
                code="outside_service_window",
                field="to",
            )
        )

    warnings: list[PolicyError] = []
    if policy.consent != "off" and (business_initiated or marketing):
        problem = check_consent(
            facts.consents.get(candidate.phone), template.required_scope if template is not None else None
        )
        if problem is not None:
            if policy.consent == "enforce":
                return _refuse(problem)
            warnings.append(problem)

    key = content_key(candidate.type, payload)
    # The duplicate guard catches a CRM sending twice; a bot answering the same question twice
    # (the menu again, the same FAQ answer) is a conversation, not a duplicate.
    window = candidate.duplicate_window_s
    if window > 0 and candidate.origin != "automation":
        since = now - timedelta(seconds=window)
        if any(k == key and at > since for k, at in facts.recent.get(candidate.phone, ())):
            return _refuse(
                PolicyError(
                    f"the same message went to this client less than {window} s ago",
                    code="duplicate_message",
                    field="to",
                )
            )

    capped = tenant.daily_cap is not None and counts_toward_cap(candidate.origin)
    if capped and (facts.daily_used or 0) >= (tenant.daily_cap or 0):
        return _refuse(
            PolicyError(
                f"the daily limit of {tenant.daily_cap} messages is used up; it resets at midnight ({tenant.timezone})",
                code="daily_cap_exceeded",
                field="to",
            )
        )

    group: str | None = None
    if template is not None and business_initiated and policy.messaging_limit is not None:
        group = policy.tier_group(candidate.channel)
        tier = facts.tiers.setdefault(group, TierState(limit=policy.messaging_limit, count=0))
        if candidate.phone not in tier.reached:
            if tier.count >= policy.messaging_limit:
                return _refuse(
                    PolicyError(
                        f"the messaging limit of {policy.messaging_limit} unique clients per 24 h is reached",
                        code="tier_limit_exceeded",
                        field="to",
                    )
                )
            tier.reached.add(candidate.phone)
            tier.count += 1

    facts.recent.setdefault(candidate.phone, []).append((key, now))
    if capped:
        facts.daily_used = (facts.daily_used or 0) + 1
    return Decision(warnings=tuple(warnings), payload=payload, tier_group=group, counts_toward_cap=capped)


def evaluate(candidates: list[Candidate], facts: Facts, tenant: TenantPolicy, now: datetime) -> list[Decision]:
    """Judge a batch in order (see ``decide``)."""
    return [decide(c, facts, tenant, now) for c in candidates]
