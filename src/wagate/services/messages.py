"""Accepting, reading and cancelling messages."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from wagate.domain.identities import is_phone_key
from wagate.domain.messages import OutboundDraft, OutboundMessage, validate_outbound
from wagate.domain.policy import Decision
from wagate.domain.records import ChannelRow, Tenant
from wagate.domain.statuses import Status
from wagate.domain.waits import Wait
from wagate.errors import ConflictError, NotFoundError, PolicyError, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import identities, policy
from wagate.services import media as media_service
from wagate.services.policy import Pending
from wagate.store.repos import idempotency
from wagate.store.repos import messages as message_repo
from wagate.store.repos.claims import message_wait

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Accepted:
    """A stored message, as the door's response needs it."""

    id: int
    message: OutboundMessage
    channel: str
    values: dict[str, Any]
    #: Policy warnings it was accepted with (consent in ``warn`` mode); also kept in its history.
    warnings: tuple[PolicyError, ...] = ()


Outcome = Accepted | WagateError


def request_hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def resolve_channel(rt: Runtime, tenant: Tenant, name: str | None, field: str = "channel") -> ChannelRow:
    channels = await rt.channels_of(tenant.id)
    if name is None:
        if not channels:
            raise ValidationError("the tenant has no channel; create one first", field=field, code="no_channel")
        defaults = [c for c in channels.values() if c.is_default]
        return defaults[0] if defaults else min(channels.values(), key=lambda c: c.id)
    row = channels.get(name)
    if row is None:
        row = (await rt.channels_of(tenant.id, fresh=True)).get(name)
    if row is None:
        raise ValidationError(f"unknown channel {name!r}", field=field, code="unknown_channel")
    return row


@dataclass(slots=True)
class _Request:
    """One caller's messages on their way into the store: valid ones pending, invalid ones as errors."""

    rt: Runtime
    tenant: Tenant
    slots: list[Pending | WagateError]
    render: Callable[[list[Outcome]], tuple[int, Any]]
    now: datetime

    @property
    def pending(self) -> list[Pending]:
        return [s for s in self.slots if isinstance(s, Pending)]


@dataclass(slots=True)
class _Stored:
    """What storing one request produced: its answer, its outcomes, and the policy's decisions."""

    answer: tuple[int, Any]
    outcomes: list[Outcome]
    judged: list[tuple[Pending, Decision]]


async def accept_messages(
    rt: Runtime,
    tenant: Tenant,
    drafts: list[OutboundDraft],
    *,
    idempotency_key: str | None = None,
    body_hash: str | None = None,
    render: Callable[[list[Outcome]], tuple[int, Any]],
    campaign_id: int | None = None,
    in_transaction: Callable[[Connection, list[Outcome]], None] | None = None,
) -> tuple[int, Any]:
    """Validate every draft, store the valid ones in one durable transaction, answer via ``render``.

    Invalid items never abort valid ones in a batch: each gets its own error outcome. With an
    idempotency key, the stored answer is replayed for the same body and a different body is a
    conflict; the key, the messages and their events commit together. ``in_transaction`` sees the
    outcomes inside that same transaction (a campaign marks its recipients ``enqueued`` there), and
    an exception it raises undoes the whole batch.

    Requests with neither are *merged*: concurrent ones of the same tenant that meet in one group
    commit are judged and stored as one batch (``Database.write_merged``), so a thousand
    single-message POSTs cost about what one batch of a thousand costs. The policy judges a merged
    batch in arrival order, exactly as it would judge them one after another.
    """
    now = rt.clock.now()
    slots: list[Pending | WagateError] = []
    for draft in drafts:
        try:
            message = validate_outbound(draft, tenant.default_region)
            if isinstance(message.payload.get("media"), dict):
                media_service.check_own_media(rt.settings, tenant.id, str(message.payload["media"].get("url") or ""))
            channel = await resolve_channel(rt, tenant, message.channel)
        except WagateError as exc:
            slots.append(exc)
            continue
        values = message_repo.outbound_row(tenant.id, channel.id, message, now, campaign_id)
        slots.append(Pending(message, channel, values))
    request = _Request(rt, tenant, slots, render, now)

    if idempotency_key is None and in_transaction is None:
        stored: _Stored = await rt.db.write_merged(_store_merged, request, key=(id(rt), tenant.id))
    else:

        def job(conn: Connection) -> _Stored:
            if idempotency_key is not None:
                previous = idempotency.reserve(conn, tenant.id, idempotency_key, body_hash or "", now)
                if previous is not None:
                    if previous.request_hash != body_hash:
                        raise ConflictError(
                            "Idempotency-Key was used with a different body",
                            field="Idempotency-Key",
                            code="idempotency_conflict",
                        )
                    return _Stored((int(previous.status_code), previous.response), [], [])
            (result,) = _store(conn, [request])
            if in_transaction is not None:
                in_transaction(conn, result.outcomes)
            if idempotency_key is not None and body_hash is not None:
                idempotency.remember(conn, tenant.id, idempotency_key, *result.answer)
            return result

        stored = await rt.db.write(job)
    policy.observe(rt, stored.judged)
    if any(d.allowed for _, d in stored.judged):
        rt.wakeup.notify()
    return stored.answer


def accept_in_transaction(
    conn: Connection, rt: Runtime, tenant: Tenant, items: list[tuple[OutboundDraft, ChannelRow]], now: datetime
) -> list[Outcome]:
    """Judge and store messages inside a transaction the caller already holds (a bot's replies to
    the inbound message that called for them). The same policy as ``accept_messages``; the caller
    wakes the dispatcher after its commit."""
    slots: list[Pending | WagateError] = []
    for draft, channel in items:
        try:
            message = validate_outbound(draft, tenant.default_region)
        except WagateError as exc:
            slots.append(exc)
            continue
        slots.append(Pending(message, channel, message_repo.outbound_row(tenant.id, channel.id, message, now)))
    (stored,) = _store(conn, [_Request(rt, tenant, slots, lambda outcomes: (200, None), now)])
    policy.observe(rt, stored.judged)
    return stored.outcomes


def _store_merged(conn: Connection, requests: list[_Request]) -> list[Any]:
    return list(_store(conn, requests))


def _file_under_person(conn: Connection, tenant_id: int, slots: list[Pending | WagateError]) -> None:
    """A message addressed to a BSUID or LID wagate links to a person is filed under that person's
    key (their phone, usually), so policy, consent and the conversation see one person."""
    for index, slot in enumerate(slots):
        if isinstance(slot, Pending) and not is_phone_key(slot.message.phone):
            key = identities.key_for(conn, tenant_id, slot.message.phone)
            if key != slot.message.phone:
                slot.values["phone"] = key
                slots[index] = Pending(dataclasses.replace(slot.message, phone=key), slot.channel, slot.values)


def _store(conn: Connection, requests: list[_Request]) -> list[_Stored]:
    """Judge and store the messages of one tenant's requests as one batch; answer each request.

    The policy layer (services.policy) judges every message of every door here, in the
    transaction that stores them, so what it counted is exactly what is committed.
    """
    rt, tenant = requests[0].rt, requests[0].tenant
    now = max(r.now for r in requests)
    for request in requests:
        _file_under_person(conn, tenant.id, request.slots)
    pending = [p for r in requests for p in r.pending]
    judgement = policy.judge(conn, tenant, pending, now)
    decisions = judgement.decisions
    allowed = [(p, d) for p, d in zip(pending, decisions, strict=True) if d.allowed]
    for item, decision in allowed:
        item.values["payload"] = decision.payload
    ids = message_repo.insert_outbound(
        conn,
        [item.values for item, _ in allowed],
        {item.channel.id: item.channel.name for item in pending},
        now,
        reasons=[policy.accept_reason(d) for _, d in allowed],
    )
    if ids:
        hooks = rt.hooks.outbound
        if hooks:
            stored_rows = list(zip(ids, (item.values for item, _ in allowed), strict=True))
            for hook in list(hooks):
                hook(conn, rt, tenant, stored_rows, now)
    stored = iter(ids)
    message_ids = [next(stored) if d.allowed else None for d in decisions]
    policy.record(conn, tenant, pending, judgement, message_ids, now)
    verdicts = iter(zip(pending, decisions, message_ids, strict=True))
    results: list[_Stored] = []
    for request in requests:
        final: list[Outcome] = []
        judged: list[tuple[Pending, Decision]] = []
        for slot in request.slots:
            if not isinstance(slot, Pending):
                final.append(slot)
                continue
            item, decision, message_id = next(verdicts)
            judged.append((item, decision))
            if decision.error is not None:
                final.append(decision.error)
            else:
                assert message_id is not None
                final.append(Accepted(message_id, item.message, item.channel.name, item.values, decision.warnings))
        results.append(_Stored(request.render(final), final, judged))
    return results


async def get_message(rt: Runtime, tenant: Tenant, message_id: int) -> tuple[Any, list[Any]]:
    def job(conn: Connection) -> tuple[Any, list[Any]]:
        row = message_repo.get_message(conn, tenant.id, message_id)
        if row is None:
            raise NotFoundError(f"message {message_id} not found", field="id")
        return row, message_repo.get_history(conn, message_id)

    return await rt.db.read(job)


async def why_waiting(rt: Runtime, row: Any) -> Wait | None:
    """For a queued outbound message: the pacing rule holding it and until when (None: it may go now)."""
    if row.direction != "out" or row.status != Status.QUEUED.value or row.channel_id is None:
        return None
    now = rt.clock.now()
    return await rt.db.read(lambda conn: message_wait(conn, row, now))


async def cancel_message(rt: Runtime, tenant: Tenant, message_id: int) -> tuple[Any, list[Any]]:
    """Cancel while queued. Races with a dispatcher claim cleanly: whichever commits first wins."""
    now = rt.clock.now()

    def job(conn: Connection) -> None:
        row = message_repo.get_message(conn, tenant.id, message_id)
        if row is None:
            raise NotFoundError(f"message {message_id} not found", field="id")
        change = message_repo.apply_status(
            conn, message_id, Status.CANCELLED, now=now, reason="cancelled by API", record_ignored=False
        )
        if change is None or not change.applied:
            raise ConflictError(
                f"message is {row.status}; only queued messages can be cancelled",
                field="status",
                code="not_cancellable",
            )

    await rt.db.write(job)
    return await get_message(rt, tenant, message_id)
