"""The policy layer at work: facts in, decisions out, and what they leave behind.

``judge`` runs inside ``services.messages.accept_messages``'s transaction, the one door every
API goes through (``/v1``, ``/api2``, ``/whatsapp``, dashboard, campaigns), so every rule holds
for all of them. ``record`` writes the refusals and warnings, the daily counter and the tier
reach in that same transaction. ``install`` wires what reacts to later events: the opt-out
keyword hook on inbound messages and the service-window re-check before a send.

When is a rule checked?

* at acceptance: everything (templates, window, consent, duplicates, daily cap, tier);
* again just before sending: the service window, for free-form messages on channels with
  ``service_window`` on — a reply queued at 23:59 of the window must not go out at 00:01
  (the Cloud API would refuse it with 131047). The message fails with ``outside_service_window``.
  The caps are *not* re-checked: acceptance charged them already (a cap counts messages
  accepted, a tier counts clients reached), and charging twice would refuse messages the
  CRM was told were accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy.engine import Connection

from wagate.channels.base import OutgoingMessage
from wagate.dispatch.dispatcher import send_guards
from wagate.domain.consent import confirmation_for, match_optout_keyword
from wagate.domain.limits import counts_toward_cap, day_of
from wagate.domain.messages import MessageType, OutboundDraft, OutboundMessage, validate_outbound
from wagate.domain.phones import normalize_phone
from wagate.domain.policy import Candidate, ChannelPolicy, Decision, Facts, TenantPolicy, evaluate, update_tenant_policy
from wagate.domain.window import WINDOW, window_at
from wagate.errors import PolicyError, SendError, WagateError
from wagate.runtime import Runtime
from wagate.services.inbound import inbound_hooks
from wagate.store.repos import consents as consent_repo
from wagate.store.repos import messages as message_repo
from wagate.store.repos import policy as repo
from wagate.store.repos import templates as template_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.tenants import Tenant


@dataclass(frozen=True, slots=True)
class Pending:
    """A valid message a door wants to store: its channel row and the values of its future row."""

    message: OutboundMessage
    channel: ChannelRow
    values: dict[str, Any]


def candidate_of(item: Pending, policy: ChannelPolicy) -> Candidate:
    return Candidate(
        phone=item.message.phone,
        type=item.message.type.value,
        payload=item.message.payload,
        channel_id=item.channel.id,
        channel=item.channel.name,
        policy=policy,
        origin=item.message.origin,
        native_templates=item.channel.kind == "cloud",
    )


def candidates_of(pending: list[Pending]) -> list[Candidate]:
    """Candidates for a batch; each channel's policy is parsed once, not once per message."""
    policies: dict[int, ChannelPolicy] = {}
    out: list[Candidate] = []
    for item in pending:
        policy = policies.get(item.channel.id)
        if policy is None:
            policy = policies[item.channel.id] = ChannelPolicy.of(item.channel.kind, item.channel.policy)
        out.append(candidate_of(item, policy))
    return out


@dataclass(frozen=True, slots=True)
class Judgement:
    """The decisions for a batch, and how many new clients each tier group reached."""

    decisions: list[Decision]
    tier_added: dict[str, int]


def gather(
    conn: Connection, tenant: Tenant, candidates: list[Candidate], settings: TenantPolicy, now: datetime, *, lock: bool
) -> Facts:
    """Ask the store only what this batch's rules need (a batch on a rule-free channel asks nothing)."""
    facts = Facts()
    names = {c.payload["template"]["name"] for c in candidates if c.is_template}
    if names:
        facts.templates = template_repo.templates_for_send(conn, tenant.id, names, {c.channel for c in candidates})
    pairs = {(c.channel_id, c.phone) for c in candidates if c.policy.needs_window}
    longest = max((c.policy.duplicate_window_s for c in candidates), default=0)
    if lock and longest:
        repo.lock_phones(conn, tenant.id, (c.phone for c in candidates if c.policy.duplicate_window_s))
    facts.last_inbound, facts.recent = repo.activity(
        conn,
        tenant.id,
        window_pairs=pairs,
        window_since=now - WINDOW if pairs else None,
        duplicate_phones={c.phone for c in candidates if c.policy.duplicate_window_s},
        duplicate_since=now - timedelta(seconds=longest) if longest else None,
    )
    consent_phones = {c.phone for c in candidates if c.policy.consent != "off"}
    if consent_phones:
        facts.consents = consent_repo.states(conn, tenant.id, consent_phones)
    if settings.daily_cap is not None and any(counts_toward_cap(c.origin) for c in candidates):
        day, start, end = day_of(now, settings.timezone)
        facts.daily_used = repo.daily_used(conn, tenant.id, day, start, end, now, lock=lock)
    groups: dict[str, tuple[int, set[str]]] = {}
    for c in candidates:
        if c.is_template and c.policy.messaging_limit is not None:
            limit, phones_of_group = groups.setdefault(
                c.policy.tier_group(c.channel), (c.policy.messaging_limit, set())
            )
            phones_of_group.add(c.phone)
    for group, (limit, phones_of_group) in sorted(groups.items()):
        facts.tiers[group] = repo.tier_state(conn, tenant.id, group, limit, phones_of_group, now, lock=lock)
    return facts


def judge(conn: Connection, tenant: Tenant, pending: list[Pending], now: datetime, *, lock: bool = True) -> Judgement:
    """One decision per pending message, in order. Allowed template messages get their rendered payload."""
    if not pending:
        return Judgement([], {})
    settings = TenantPolicy.of(tenant.settings)
    candidates = candidates_of(pending)
    facts = gather(conn, tenant, candidates, settings, now, lock=lock)
    before = {group: tier.count for group, tier in facts.tiers.items()}
    decisions = evaluate(candidates, facts, settings, now)
    return Judgement(decisions, {group: facts.tiers[group].count - count for group, count in before.items()})


def accept_reason(decision: Decision) -> str:
    """The first history row's reason: where a warned message's warning is kept for good."""
    if not decision.warnings:
        return "accepted"
    notes = "; ".join(f"{w.code}: {w.message}" for w in decision.warnings)
    return f"accepted with warning ({notes})"


def record(
    conn: Connection,
    tenant: Tenant,
    pending: list[Pending],
    judgement: Judgement,
    message_ids: list[int | None],
    now: datetime,
) -> None:
    """Write what the decisions leave: refusal/warning rows, the daily counter, tier reach."""
    decisions = judgement.decisions
    rows: list[dict[str, Any]] = []
    capped = 0
    reach: dict[str, list[str]] = {}
    for item, decision, message_id in zip(pending, decisions, message_ids, strict=True):
        problems = [("refused", decision.error)] if decision.error else [("warned", w) for w in decision.warnings]
        for outcome, error in problems:
            rows.append(
                {
                    "tenant_id": tenant.id,
                    "outcome": outcome,
                    "code": error.code,
                    "field": error.field,
                    "message": error.message,
                    "channel": item.channel.name,
                    "phone": item.message.phone,
                    "origin": item.message.origin,
                    "client_ref": item.message.client_ref,
                    "message_id": message_id,
                    "at": now,
                }
            )
        if decision.allowed:
            capped += int(decision.counts_toward_cap)
            if decision.tier_group is not None:
                reach.setdefault(decision.tier_group, []).append(item.message.phone)
    repo.record_refusals(conn, rows)
    settings = TenantPolicy.of(tenant.settings)
    if capped and settings.daily_cap is not None:
        repo.add_daily(conn, tenant.id, day_of(now, settings.timezone)[0], capped, now)
    for group, phones in sorted(reach.items()):
        repo.record_reach(conn, tenant.id, group, phones, judgement.tier_added.get(group, 0), now)


def observe(rt: Runtime, judged: list[tuple[Pending, Decision]]) -> None:
    """Count decisions in ``wagate_policy_decisions_total`` once they are committed."""
    counter: Counter | None = rt.extras.get("policy_counter")
    if counter is None:
        return
    for item, decision in judged:
        if decision.error is not None:
            counter.labels("refused", decision.error.code, item.message.origin).inc()
        for warning in decision.warnings:
            counter.labels("warned", warning.code, item.message.origin).inc()


@dataclass(frozen=True, slots=True)
class Preview:
    """What a message would become if sent now: its rendered payload and any warnings."""

    message: OutboundMessage
    channel: str
    payload: dict[str, Any]
    warnings: tuple[PolicyError, ...] = ()


async def preview_messages(rt: Runtime, tenant: Tenant, drafts: list[OutboundDraft]) -> list[Preview | WagateError]:
    """Judge drafts without storing or charging anything (a campaign's dry run).

    The answer is what acceptance would decide at this moment; caps and tiers are read, not
    taken, so a later real send can still meet a limit that others used up meanwhile.
    """
    from wagate.services.messages import resolve_channel

    slots: list[Pending | WagateError] = []
    now = rt.clock.now()
    for draft in drafts:
        try:
            message = validate_outbound(draft, tenant.default_region)
            channel = await resolve_channel(rt, tenant, message.channel)
        except WagateError as exc:
            slots.append(exc)
            continue
        slots.append(Pending(message, channel, {}))
    pending = [s for s in slots if isinstance(s, Pending)]
    judgement = await rt.db.read(lambda c: judge(c, tenant, pending, now, lock=False))
    decisions = iter(judgement.decisions)
    out: list[Preview | WagateError] = []
    for slot in slots:
        if not isinstance(slot, Pending):
            out.append(slot)
            continue
        decision = next(decisions)
        if decision.error is not None:
            out.append(decision.error)
        else:
            out.append(Preview(slot.message, slot.channel.name, decision.payload, decision.warnings))
    return out


# ---------------------------------------------------------------- reacting to inbound messages and sends


def optout_hook(
    conn: Connection,
    rt: Runtime,
    channel: ChannelRow,
    message_id: int,
    phone: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """An inbound opt-out keyword: revoke consent, record it, and enqueue one confirmation.

    Runs in the inbound message's transaction, so the message, the revocation, the
    ``consent.changed`` event and the confirmation commit together. A repeated keyword from
    a phone already opted out is recorded but not confirmed again (no reply loops).
    """
    text = payload.get("text")
    if isinstance(text, dict):  # the Cloud API's {"text": {"body": …}}
        text = text.get("body")
    button = payload.get("button")
    if text is None and isinstance(button, dict):  # a quick-reply button such as "Stop promotions"
        text = button.get("text")
    settings = TenantPolicy.of(repo.tenant_settings(conn, channel.tenant_id))
    keyword = match_optout_keyword(text, settings.optout_keywords)
    if keyword is None:
        return
    _row, changed = consent_repo.opt_out(
        conn,
        channel.tenant_id,
        phone,
        via="keyword",
        source="chat",
        now=now,
        evidence={"text": text, "keyword": keyword, "channel": channel.name},
        message_id=message_id,
    )
    confirmation = confirmation_for(keyword, settings.optout_confirmation).strip()
    if not changed or not confirmation:
        return
    reply = OutboundMessage(
        phone=phone,
        type=MessageType.TEXT,
        channel=channel.name,
        payload={"text": confirmation},
        validity_seconds=None,
        callback_url=None,
        callback_data=None,
        operator=None,
        client_ref=None,
        origin="optout",
    )
    values = message_repo.outbound_row(channel.tenant_id, channel.id, reply, now)
    message_repo.insert_outbound(conn, [values], {channel.id: channel.name}, now, reasons=["opt-out confirmation"])


async def window_guard(rt: Runtime, channel: ChannelRow, message: OutgoingMessage) -> None:
    """Re-check the service window just before a free-form message leaves (see the module docstring)."""
    if message.type == MessageType.TEMPLATE.value or not ChannelPolicy.of(channel.kind, channel.policy).service_window:
        return
    last = await rt.db.read(lambda c: repo.last_inbound_one(c, channel.tenant_id, channel.id, message.phone))
    if not window_at(last, rt.clock.now()).open:
        raise SendError(
            "the 24-hour service window closed before the message could be sent",
            code="outside_service_window",
            retryable=False,
        )


def install(rt: Runtime) -> None:
    """Wire the policy into a runtime once: inbound hook, send guard, metrics."""
    if rt.extras.get("policy_installed"):
        return
    rt.extras["policy_installed"] = True
    inbound_hooks(rt).append(optout_hook)
    send_guards(rt).append(window_guard)
    registry = rt.extras.get("metrics_registry")
    if registry is not None:
        rt.extras["policy_counter"] = Counter(
            "wagate_policy_decisions_total",
            "Messages refused or let through with a warning by a policy rule",
            ["outcome", "code", "origin"],
            registry=registry,
        )


# ---------------------------------------------------------------- the tenant's policy settings and views


async def tenant_policy(rt: Runtime, tenant: Tenant) -> TenantPolicy:
    settings = await rt.db.read(lambda c: repo.tenant_settings(c, tenant.id))
    return TenantPolicy.of(settings)


async def update_policy(rt: Runtime, tenant: Tenant, body: Mapping[str, Any]) -> TenantPolicy:
    """PATCH the tenant's policy; takes effect at once on this node (the auth cache is dropped)."""

    def job(conn: Connection) -> dict[str, Any]:
        current = repo.tenant_settings(conn, tenant.id).get("policy") or {}
        updated = update_tenant_policy(current, body)
        if updated.get("daily_cap") is None:
            repo.forget_daily(conn, tenant.id)
        return repo.set_tenant_policy(conn, tenant.id, updated)

    settings = await rt.db.write(job)
    rt.extras.get("auth_cache", {}).clear()
    return TenantPolicy.of(settings)


async def usage(rt: Runtime, tenant: Tenant) -> dict[str, Any]:
    """Today's use of the daily cap and each channel's tier use, for ``GET /v1/policy``."""
    settings = await tenant_policy(rt, tenant)
    now = rt.clock.now()
    channels = await rt.channels_of(tenant.id, fresh=True)
    day, start, end = day_of(now, settings.timezone)

    def job(conn: Connection) -> dict[str, Any]:
        # Counted only while a cap is set (without one there is no counter to read cheaply).
        used = (
            repo.daily_used(conn, tenant.id, day, start, end, now, lock=False)
            if settings.daily_cap is not None
            else None
        )
        tiers: dict[str, Any] = {}
        for row in sorted(channels.values(), key=lambda r: r.id):
            policy = ChannelPolicy.of(row.kind, row.policy)
            group = policy.tier_group(row.name)
            tiers[row.name] = {
                "group": group,
                "messaging_limit": policy.messaging_limit,
                "reached_24h": repo.tier_usage(conn, tenant.id, group, now),
            }
        return {"day": day, "messages_today": used, "resets_at": end.isoformat(), "tiers": tiers}

    return await rt.db.read(job)


async def contact_window(rt: Runtime, tenant: Tenant, phone: str, channel_name: str | None) -> dict[str, Any]:
    """The service window of one client on one channel (the default channel if none is named)."""
    from wagate.services.messages import resolve_channel

    normalized = normalize_phone(phone, tenant.default_region, "phone")
    channel = await resolve_channel(rt, tenant, channel_name)
    last = await rt.db.read(lambda c: repo.last_inbound_one(c, tenant.id, channel.id, normalized))
    policy = ChannelPolicy.of(channel.kind, channel.policy)
    return {
        "phone": normalized,
        "channel": channel.name,
        **window_at(last, rt.clock.now()).as_json(),
        "enforced": policy.service_window,
    }


def refusal_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "outcome": row.outcome,
        "error": {"code": row.code, "message": row.message, "field": row.field},
        "channel": row.channel,
        "phone": row.phone,
        "origin": row.origin,
        "client_ref": row.client_ref,
        "message_id": row.message_id,
        "at": row.at.isoformat(),
    }
