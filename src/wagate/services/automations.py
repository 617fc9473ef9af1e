"""Automations at work: the bot answers inbound messages, stops for people, records callback requests.

``Automations.install(rt)`` adds two hooks that run inside the transactions storing messages:

* inbound (after the conversation hook): the client's message, the bot's state, its replies
  (judged by the same policy as every message, ``origin: "automation"``), a hand-off note or a
  callback request with its ``callback.requested`` event — all commit together with the inbound
  message, so a provider is acknowledged only once the answer is queued, and two messages of one
  client are answered in order;
* outbound: an operator's reply (a message naming an ``operator``) hands the conversation to
  people; the bot stays quiet there until someone hands it back.

The bot's replies carry no operator, so conversations stay ``waiting`` (a client still needs a
person) and analytics never count them as replies. Opt-out keywords are left to the policy
layer: the bot says nothing to them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.automations import SESSION_GAP, BotState, Reaction, Settings, parse_settings, react
from wagate.domain.consent import match_optout_keyword
from wagate.domain.messages import MAX_TEXT, OutboundDraft
from wagate.domain.phones import normalize_phone
from wagate.domain.policy import TenantPolicy, tenant_timezone
from wagate.errors import NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.services.inbound import inbound_hooks
from wagate.services.messages import Accepted, accept_in_transaction, outbound_hooks
from wagate.store.repos import automations as repo
from wagate.store.repos import conversations as conversation_repo
from wagate.store.repos import events as event_repo
from wagate.store.repos import tenants as tenant_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.tenants import Tenant

log = logging.getLogger("wagate.automations")

#: How long a node trusts its cached copy of a tenant's settings (a PUT on this node drops it at once).
CACHE_SECONDS = 5.0
#: Doors whose messages never take a conversation from the bot, even when they name an operator.
NOT_OPERATORS = frozenset({"campaign", "automation", "optout"})
TRANSCRIPT_MESSAGES = 30
MAX_CALLBACKS = 500


def inbound_text(payload: Mapping[str, Any]) -> str | None:
    """The words of an inbound message: text, a tapped button or list row; ``None`` for media."""
    text = payload.get("text")
    if isinstance(text, Mapping):
        text = text.get("body")
    if isinstance(text, str):
        return text
    for key in ("button", "interactive"):
        value = payload.get(key)
        if isinstance(value, Mapping):
            for inner in (value, value.get("button_reply"), value.get("list_reply")):
                if isinstance(inner, Mapping) and isinstance(inner.get("title") or inner.get("text"), str):
                    return str(inner.get("title") or inner.get("text"))
    return None


def settings_json(settings: Settings, body: Mapping[str, Any]) -> dict[str, Any]:
    """The stored body in its full shape (defaults filled in), as ``GET /v1/automations`` returns it."""
    return {
        "enabled": settings.enabled,
        "language": settings.language,
        "working_hours": settings.working_hours.as_json(),
        "away_message": body.get("away_message") or "",
        "greeting": body.get("greeting"),
        "menu": body.get("menu"),
        "keywords": [{"mode": "word", **k} for k in body.get("keywords") or []],
        "channels": body.get("channels") or {},
    }


@dataclass(frozen=True, slots=True)
class DryRun:
    reaction: Reaction
    open: bool
    back_at: datetime | None


@dataclass(slots=True)
class Automations:
    """The automations of one node: a settings cache and the two message hooks."""

    rt: Runtime
    _cache: dict[int, tuple[float, Settings]] = field(default_factory=dict)

    @classmethod
    def install(cls, rt: Runtime) -> Automations:
        service = cls(rt)
        inbound_hooks(rt).append(service.inbound_hook)
        outbound_hooks(rt).append(service.outbound_hook)
        return service

    # ------------------------------------------------------------ settings

    def _settings_in(self, conn: Connection, tenant_id: int) -> Settings:
        """The tenant's settings, cached: a tenant without automations costs one cached lookup per inbound.

        The stored body always carries its schedule's zone (``put`` stores it), so no tenant row is needed.
        """
        cached = self._cache.get(tenant_id)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        stored = repo.get_settings(conn, tenant_id)
        settings = parse_settings(stored[0]) if stored else Settings(enabled=False)
        self._cache[tenant_id] = (time.monotonic(), settings)
        return settings

    async def get(self, tenant: Tenant) -> dict[str, Any]:
        def job(conn: Connection) -> dict[str, Any]:
            stored = repo.get_settings(conn, tenant.id)
            body = stored[0] if stored else {}
            return settings_json(parse_settings(body, tenant_timezone(tenant.settings) or "UTC"), body)

        return await self.rt.db.read(job)

    async def put(self, tenant: Tenant, body: object) -> dict[str, Any]:
        """Replace the tenant's automations; the body is validated whole and the error names the field."""
        settings = parse_settings(body, tenant_timezone(tenant.settings) or "UTC")
        assert isinstance(body, Mapping)
        stored = {k: v for k, v in body.items() if v is not None}
        stored["working_hours"] = settings.working_hours.as_json()
        now = self.rt.clock.now()
        await self.rt.db.write(lambda conn: repo.put_settings(conn, tenant.id, stored, now))
        self._cache.pop(tenant.id, None)
        return settings_json(settings, stored)

    # ------------------------------------------------------------ the hooks

    def inbound_hook(
        self,
        conn: Connection,
        rt: Runtime,
        channel: ChannelRow,
        message_id: int,
        phone: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> None:
        settings = self._settings_in(conn, channel.tenant_id).for_channel(channel.name)
        if not settings.active:
            return
        tenant = tenant_repo.get_tenant(conn, channel.tenant_id)
        if tenant is None:
            return
        text = inbound_text(payload)
        if text is not None and match_optout_keyword(text, TenantPolicy.of(tenant.settings).optout_keywords):
            return
        conversation = repo.conversation_of(conn, channel.id, phone)
        if conversation is None:  # conversations are kept by the dashboard plug-in; without it, no bot
            return
        stored = repo.get_state(conn, conversation.id)
        state = BotState.of(*stored) if stored else None
        reaction = react(settings, state, text, phone=phone, now=now, region=tenant.default_region)
        repo.put_state(conn, tenant.id, conversation.id, reaction.state.as_json(), now)
        if reaction.replies:
            # One message per client message: the parts (away message, menu …) joined. The
            # channel's per-recipient pacing would space separate messages seconds apart.
            text = "\n\n".join(reaction.replies)[:MAX_TEXT]
            draft = OutboundDraft(to=phone, type="text", text=text, channel=channel.name, origin="automation")
            for outcome in accept_in_transaction(conn, rt, tenant, [(draft, channel)], now):
                if not isinstance(outcome, Accepted):
                    log.info("automation reply to %s not sent: %s", conversation.id, outcome)
        if reaction.handoff:
            self._note_handoff(conn, tenant, channel, phone, conversation.id, state, now)
        if reaction.callback is not None:
            self._record_callback(conn, tenant, channel, conversation.id, reaction, now)

    def _note_handoff(
        self,
        conn: Connection,
        tenant: Tenant,
        channel: ChannelRow,
        phone: str,
        conversation_id: int,
        state: BotState | None,
        now: datetime,
    ) -> None:
        """The bot's transcript as a note on the conversation, for the person who takes it over."""
        since = state.last_at - SESSION_GAP if state and state.last_at else now - SESSION_GAP
        lines = []
        for row in conversation_repo.thread(conn, tenant.id, channel.id, phone, limit=TRANSCRIPT_MESSAGES):
            if row.created_at < since:
                continue
            who = "client" if row.direction == "in" else ("bot" if row.origin == "automation" else "us")
            body = row.payload.get("text")
            body = body.get("body") if isinstance(body, Mapping) else body
            lines.append(f"[{row.created_at:%H:%M}] {who}: {body if isinstance(body, str) else '(' + row.type + ')'}")
        text = "Handed to a person by the bot. Transcript:\n" + "\n".join(lines)
        conversation_repo.add_note(conn, tenant.id, conversation_id, None, "bot", text[:4000], now)

    def _record_callback(
        self,
        conn: Connection,
        tenant: Tenant,
        channel: ChannelRow,
        conversation_id: int,
        reaction: Reaction,
        now: datetime,
    ) -> None:
        request = reaction.callback
        assert request is not None
        asap = request.asap
        callback_id = repo.add_callback(
            conn,
            tenant_id=tenant.id,
            conversation_id=conversation_id,
            channel_id=channel.id,
            phone=request.phone,
            due_at=request.at,
            asap=asap,
            text=request.text,
            now=now,
        )
        when = request.at.isoformat() if request.at else None
        event_repo.append_event(
            conn,
            tenant_id=tenant.id,
            type="callback.requested",
            now=now,
            payload={
                "id": callback_id,
                "phone": request.phone,
                "when": when,
                "conversation_id": conversation_id,
                "text": request.text,
                "channel": channel.name,
                "asap": asap,
                "at": now.isoformat(),
            },
        )
        note = f"Callback requested: +{request.phone}, {when or 'time not understood'} — “{request.text}”"
        conversation_repo.add_note(conn, tenant.id, conversation_id, None, "bot", note, now)

    def outbound_hook(
        self, conn: Connection, rt: Runtime, tenant: Tenant, stored: list[tuple[int, dict[str, Any]]], now: datetime
    ) -> None:
        """An operator's reply hands the conversation to people: the bot stops answering there."""
        pairs = {
            (values["channel_id"], values["phone"])
            for _id, values in stored
            if values.get("operator") and values.get("origin") not in NOT_OPERATORS
        }
        for row in repo.states_of(conn, tenant.id, pairs):
            if row.state.get("mode") != "human":
                state = {**row.state, "mode": "human", "step": "idle", "path": []}
                repo.put_state(conn, tenant.id, row.conversation_id, state, row.last_at)

    # ------------------------------------------------------------ operators' controls

    async def set_mode(self, tenant: Tenant, conversation_id: int, bot: bool) -> dict[str, Any]:
        """Hand a conversation back to the bot (``bot=True``) or take it from the bot."""
        now = self.rt.clock.now()

        def job(conn: Connection) -> dict[str, Any]:
            if conversation_repo.get_conversation(conn, tenant.id, conversation_id) is None:
                raise NotFoundError(f"conversation {conversation_id} not found", field="id")
            stored = repo.get_state(conn, conversation_id)
            state = BotState.of(*stored) if stored else BotState(last_at=now)
            data = {**state.as_json(), "mode": "bot" if bot else "human", "step": "idle", "path": []}
            repo.put_state(conn, tenant.id, conversation_id, data, state.last_at or now)
            return {"conversation_id": conversation_id, "bot": bot}

        return await self.rt.db.write(job)

    async def mode_of(self, tenant: Tenant, conversation_id: int) -> str | None:
        """``bot`` or ``human`` for a conversation the bot spoke in; ``None`` if it never did."""

        def job(conn: Connection) -> str | None:
            if conversation_repo.get_conversation(conn, tenant.id, conversation_id) is None:
                raise NotFoundError(f"conversation {conversation_id} not found", field="id")
            stored = repo.get_state(conn, conversation_id)
            return str(stored[0].get("mode", "bot")) if stored else None

        return await self.rt.db.read(job)

    async def dry_run(
        self,
        tenant: Tenant,
        *,
        text: str | None,
        channel: ChannelRow,
        phone: str | None,
        at: datetime | None,
        settings_body: object | None = None,
    ) -> DryRun:
        """What the bot would answer ``text`` now (or ``at``): nothing is stored or sent.

        With ``phone``, the client's conversation state counts (menu position, away message
        already sent); with ``settings_body``, unsaved settings are tried (the editor's preview).
        """
        now = at or self.rt.clock.now()
        zone = tenant_timezone(tenant.settings) or "UTC"

        def job(conn: Connection) -> tuple[Settings, BotState | None]:
            if settings_body is not None:
                settings = parse_settings(settings_body, zone)
            else:
                stored = repo.get_settings(conn, tenant.id)
                settings = parse_settings(stored[0], zone) if stored else Settings(enabled=False)
            state = None
            if phone is not None:
                conversation = repo.conversation_of(conn, channel.id, phone)
                found = repo.get_state(conn, conversation.id) if conversation is not None else None
                state = BotState.of(*found) if found else None
            return settings.for_channel(channel.name), state

        settings, state = await self.rt.db.read(job)
        if not settings.enabled:
            return DryRun(Reaction((), state or BotState(), rules=("disabled",)), True, None)
        reaction = react(settings, state, text, phone=phone or "70000000000", now=now, region=tenant.default_region)
        hours = settings.working_hours
        is_open = hours.always_open or hours.is_open(now)
        return DryRun(reaction, is_open, None if is_open else hours.next_open(now))

    # ------------------------------------------------------------ callback requests

    async def list_callbacks(
        self, tenant: Tenant, *, status: str | None, conversation_id: int | None, limit: int
    ) -> list[Any]:
        if status is not None and status not in (*repo.CALLBACK_STATUSES, "all"):
            raise ValidationError("status is open, taken, done or all", field="status")
        statuses = list(repo.CALLBACK_STATUSES) if status == "all" else [status] if status else ["open", "taken"]
        limit = max(1, min(limit, MAX_CALLBACKS))
        return await self.rt.db.read(
            lambda conn: repo.list_callbacks(
                conn, tenant.id, statuses=statuses, conversation_id=conversation_id, limit=limit
            )
        )

    async def set_callback(self, tenant: Tenant, callback_id: int, status: str, by: str) -> Any:
        """Take a callback request (``taken``, by whom), mark it ``done``, or reopen it (``open``)."""
        if status not in repo.CALLBACK_STATUSES:
            raise ValidationError("status is open, taken or done", field="status")
        now = self.rt.clock.now()

        def job(conn: Connection) -> Any:
            if repo.get_callback(conn, tenant.id, callback_id) is None:
                raise NotFoundError(f"callback request {callback_id} not found", field="id")
            repo.set_callback_status(conn, callback_id, status, by, now)
            return repo.get_callback(conn, tenant.id, callback_id)

        return await self.rt.db.write(job)


def callback_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "channel": row.channel,
        "phone": row.phone,
        "client_phone": row.client_phone,
        "when": row.due_at.isoformat() if row.due_at else None,
        "asap": bool(row.asap),
        "text": row.text,
        "status": row.status,
        "taken_by": row.taken_by,
        "taken_at": row.taken_at.isoformat() if row.taken_at else None,
        "done_at": row.done_at.isoformat() if row.done_at else None,
        "created_at": row.created_at.isoformat(),
    }


def normalize_optional_phone(value: object, region: str) -> str | None:
    return normalize_phone(value, region, "phone") if value not in (None, "") else None
