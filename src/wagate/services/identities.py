"""One person, several identities: matching, merging and linking, inside the caller's transaction.

Every channel that learns who someone is calls ``observe`` in the transaction that stores what
it learned (an inbound message, a status, a system message), so the person key it stores the
record under is the one every earlier record of that person already carries:

* the strongest identity decides who the event is about: BSUID, then phone, then LID, then the
  parent BSUID (usernames change hands and are never matched on);
* identities the event carries that point at *another* record are merged into the first one:
  its messages, conversations (with notes), consents and consent history, refusals, pacing
  facts and campaign recipients move to the surviving key, and the contact cards become one
  (the record with a phone survives, so phone-keyed history never moves);
* a merge that would put two different phone numbers on one person is not applied: it is
  recorded in ``identity_conflicts`` (``GET /v1/identity-conflicts``) and logged for an admin.

A BSUID change (``user_changed_user_id``, ``user_id_update``) goes through ``change_user_id``;
a WhatsApp Web channel that learns which phone a LID belongs to calls ``link_lid``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.identities import Identities, is_lid, is_phone_key
from wagate.runtime import Runtime
from wagate.store.automation_tables import automation_states, callback_requests
from wagate.store.campaign_tables import campaign_recipients, campaigns
from wagate.store.dashboard_tables import conversation_notes, conversations
from wagate.store.dispatch_tables import channel_sends
from wagate.store.identity_tables import identity_conflicts
from wagate.store.policy_tables import consent_events, consents, policy_refusals, tier_reach
from wagate.store.tables import contacts, messages

log = logging.getLogger("wagate.identities")

_IDENTITY_COLUMNS = ("user_id", "parent_user_id", "username", "lid")
_CARD_COLUMNS = ("name", "info", "email", "web")


def _find(conn: Connection, tenant_id: int, column: str, value: str | None) -> Any | None:
    if not value:
        return None
    return conn.execute(
        sa.select(contacts)
        .where(contacts.c.tenant_id == tenant_id, contacts.c[column] == value)
        .order_by(contacts.c.id)
    ).first()


def contact_of(conn: Connection, tenant_id: int, key: str) -> Any | None:
    """The contact card whose person key is ``key``."""
    return _find(conn, tenant_id, "phone", key)


def contacts_of(conn: Connection, tenant_id: int, keys: list[str]) -> dict[str, Any]:
    """Person key → contact card, for a page of messages (one query)."""
    if not keys:
        return {}
    rows = conn.execute(
        sa.select(contacts).where(contacts.c.tenant_id == tenant_id, contacts.c.phone.in_(sorted(set(keys))))
    )
    return {r.phone: r for r in rows}


def key_for(conn: Connection, tenant_id: int, identity: str) -> str:
    """The person key to file something addressed to ``identity`` under (a phone, BSUID or LID).

    A BSUID or LID wagate already links to a person resolves to that person's key, so a message
    sent to someone's BSUID lands in the same conversation as the ones sent to their phone.
    """
    if is_phone_key(identity):
        return identity
    column = "lid" if is_lid(identity) else "user_id"
    row = _find(conn, tenant_id, column, identity)
    return str(row.phone) if row is not None else identity


def _conflict(
    conn: Connection, tenant_id: int, key: str, other: str, ids: Identities, reason: str, source: str, now: datetime
) -> None:
    conn.execute(
        identity_conflicts.insert().values(
            tenant_id=tenant_id,
            key=key,
            other_key=other,
            identities=ids.as_json(),
            reason=reason,
            source=source,
            created_at=now,
        )
    )
    log.warning("identity merge refused: %s", reason, extra={"tenant_id": tenant_id, "source": source})


def list_conflicts(conn: Connection, tenant_id: int, limit: int = 100) -> list[Any]:
    return list(
        conn.execute(
            sa.select(identity_conflicts)
            .where(identity_conflicts.c.tenant_id == tenant_id)
            .order_by(identity_conflicts.c.id.desc())
            .limit(limit)
        )
    )


def observe(conn: Connection, tenant_id: int, ids: Identities, now: datetime, source: str) -> str | None:
    """Match (or create) the person ``ids`` describe, merge what they link; returns the person key.

    ``None`` only when ``ids`` carry nothing a record can be keyed on (a bare username).
    """
    found: dict[str, Any] = {}
    for kind, column in (("user_id", "user_id"), ("phone", "phone"), ("lid", "lid")):
        row = _find(conn, tenant_id, column, getattr(ids, kind))
        if row is not None:
            found[kind] = row
    if not found and ids.parent_user_id:
        row = _find(conn, tenant_id, "parent_user_id", ids.parent_user_id)
        if row is not None:
            found["parent_user_id"] = row
    if not found:
        key = ids.key() or ids.parent_user_id
        if key is None:
            return None
        values = {c: getattr(ids, c) for c in _IDENTITY_COLUMNS}
        conn.execute(
            contacts.insert().values(tenant_id=tenant_id, phone=key, tags=[], created_at=now, updated_at=now, **values)
        )
        return key
    primary = next(found[k] for k in ("user_id", "phone", "lid", "parent_user_id") if k in found)
    conflicted = False
    for row in {r.id: r for r in found.values()}.values():
        if row.id == primary.id:
            continue
        merged = merge_contacts(conn, tenant_id, primary, row, ids, now, source)
        if merged is None:
            conflicted = True
            continue
        primary = merged
    primary_phone = primary.phone if is_phone_key(primary.phone) else None
    if ids.phone and primary_phone and ids.phone != primary_phone:
        if conflicted:  # already recorded, once per event
            return str(primary.phone)
        _conflict(
            conn,
            tenant_id,
            primary.phone,
            ids.phone,
            ids,
            f"{ids.user_id or ids.lid} belongs to {primary_phone}, the event says {ids.phone}",
            source,
            now,
        )
        return str(primary.phone)
    updates = {
        c: getattr(ids, c) for c in _IDENTITY_COLUMNS if getattr(ids, c) and getattr(ids, c) != getattr(primary, c)
    }
    if updates:
        _clear_identities_elsewhere(conn, tenant_id, primary.id, updates)
        conn.execute(contacts.update().where(contacts.c.id == primary.id).values(**updates, updated_at=now))
    key = str(primary.phone)
    if ids.phone and not primary_phone:
        rekey(conn, tenant_id, key, ids.phone)
        conn.execute(contacts.update().where(contacts.c.id == primary.id).values(phone=ids.phone, updated_at=now))
        key = ids.phone
    return key


def _clear_identities_elsewhere(conn: Connection, tenant_id: int, keep_id: int, updates: dict[str, Any]) -> None:
    """A BSUID or LID names one person: take it off a stale card before giving it to ``keep_id``."""
    for column in ("user_id", "lid"):
        value = updates.get(column)
        if value:
            conn.execute(
                contacts.update()
                .where(contacts.c.tenant_id == tenant_id, contacts.c[column] == value, contacts.c.id != keep_id)
                .values({column: None})
            )


def merge_contacts(
    conn: Connection, tenant_id: int, first: Any, second: Any, ids: Identities, now: datetime, source: str
) -> Any | None:
    """Make two cards (and every record under their keys) one person; returns the survivor.

    The card with a phone key survives, so phone-keyed history never moves. Two different
    phones are a conflict: recorded, nothing merged, ``None`` returned.
    """
    first_phone = is_phone_key(first.phone)
    second_phone = is_phone_key(second.phone)
    if first_phone and second_phone and first.phone != second.phone:
        _conflict(
            conn,
            tenant_id,
            first.phone,
            second.phone,
            ids,
            f"the event links {first.phone} and {second.phone}, two different phone numbers",
            source,
            now,
        )
        return None
    survivor, gone = (second, first) if second_phone and not first_phone else (first, second)
    values: dict[str, Any] = {}
    for column in (*_IDENTITY_COLUMNS, *_CARD_COLUMNS):
        mine, theirs = getattr(survivor, column), getattr(gone, column)
        if mine is None and theirs is not None:
            values[column] = theirs
    # The event's own identities are the newest word on who this is.
    for column in _IDENTITY_COLUMNS:
        if getattr(ids, column):
            values[column] = getattr(ids, column)
    tags = sorted(set(survivor.tags or []) | set(gone.tags or []))
    conn.execute(contacts.delete().where(contacts.c.id == gone.id))
    conn.execute(contacts.update().where(contacts.c.id == survivor.id).values(**values, tags=tags, updated_at=now))
    rekey(conn, tenant_id, str(gone.phone), str(survivor.phone))
    log.info("merged two records of one person", extra={"tenant_id": tenant_id, "source": source})
    return conn.execute(sa.select(contacts).where(contacts.c.id == survivor.id)).first()


def rekey(conn: Connection, tenant_id: int, old: str, new: str) -> None:
    """Move every record filed under person key ``old`` to ``new`` (history, consent, campaigns)."""
    if old == new:
        return
    conn.execute(messages.update().where(messages.c.tenant_id == tenant_id, messages.c.phone == old).values(phone=new))
    for table in (consent_events, policy_refusals, callback_requests):
        conn.execute(table.update().where(table.c.tenant_id == tenant_id, table.c.phone == old).values(phone=new))
    conn.execute(
        channel_sends.update()
        .where(channel_sends.c.phone == old, channel_sends.c.message_id.in_(_message_ids(tenant_id, new)))
        .values(phone=new)
    )
    conn.execute(
        campaign_recipients.update()
        .where(
            campaign_recipients.c.phone == old,
            campaign_recipients.c.campaign_id.in_(sa.select(campaigns.c.id).where(campaigns.c.tenant_id == tenant_id)),
        )
        .values(phone=new)
    )
    _rekey_tier_reach(conn, tenant_id, old, new)
    _rekey_consent(conn, tenant_id, old, new)
    _rekey_conversations(conn, tenant_id, old, new)


def _message_ids(tenant_id: int, key: str) -> sa.Select[Any]:
    return sa.select(messages.c.id).where(messages.c.tenant_id == tenant_id, messages.c.phone == key)


def _rekey_tier_reach(conn: Connection, tenant_id: int, old: str, new: str) -> None:
    groups = {
        r.limit_group: r.reached_at
        for r in conn.execute(
            sa.select(tier_reach.c.limit_group, tier_reach.c.reached_at).where(
                tier_reach.c.tenant_id == tenant_id, tier_reach.c.phone == new
            )
        )
    }
    for row in list(
        conn.execute(sa.select(tier_reach).where(tier_reach.c.tenant_id == tenant_id, tier_reach.c.phone == old))
    ):
        where = (tier_reach.c.tenant_id == tenant_id, tier_reach.c.limit_group == row.limit_group)
        if row.limit_group in groups:
            latest = max(groups[row.limit_group], row.reached_at)
            conn.execute(tier_reach.delete().where(*where, tier_reach.c.phone == old))
            conn.execute(tier_reach.update().where(*where, tier_reach.c.phone == new).values(reached_at=latest))
        else:
            conn.execute(tier_reach.update().where(*where, tier_reach.c.phone == old).values(phone=new))


def _rekey_consent(conn: Connection, tenant_id: int, old: str, new: str) -> None:
    """One consent per person: an opt-out on either record wins, else the newer answer."""
    mine = conn.execute(sa.select(consents).where(consents.c.tenant_id == tenant_id, consents.c.phone == new)).first()
    theirs = conn.execute(sa.select(consents).where(consents.c.tenant_id == tenant_id, consents.c.phone == old)).first()
    if theirs is None:
        return
    if mine is None:
        conn.execute(consents.update().where(consents.c.id == theirs.id).values(phone=new))
        return

    def rank(row: Any) -> tuple[bool, Any]:
        return (row.status == "revoked", row.updated_at)

    keep, drop = (theirs, mine) if rank(theirs) > rank(mine) else (mine, theirs)
    conn.execute(consents.delete().where(consents.c.id == drop.id))
    if keep.id == theirs.id:
        conn.execute(consents.update().where(consents.c.id == theirs.id).values(phone=new))


def _rekey_conversations(conn: Connection, tenant_id: int, old: str, new: str) -> None:
    """One conversation per channel and person: two become one, with both sets of notes."""
    c = conversations.c
    for gone in list(conn.execute(sa.select(conversations).where(c.tenant_id == tenant_id, c.phone == old))):
        keep = conn.execute(sa.select(conversations).where(c.channel_id == gone.channel_id, c.phone == new)).first()
        if keep is None:
            conn.execute(conversations.update().where(c.id == gone.id).values(phone=new))
            continue
        for table in (conversation_notes, callback_requests):
            conn.execute(table.update().where(table.c.conversation_id == gone.id).values(conversation_id=keep.id))
        has_state = conn.execute(
            sa.select(automation_states.c.conversation_id).where(automation_states.c.conversation_id == keep.id)
        ).first()
        if has_state is None:
            conn.execute(
                automation_states.update()
                .where(automation_states.c.conversation_id == gone.id)
                .values(conversation_id=keep.id)
            )
        latest = keep if keep.last_message_at >= gone.last_message_at else gone
        waiting = [r.awaiting_since for r in (keep, gone) if r.awaiting_since is not None]
        states = {keep.state, gone.state}
        conn.execute(conversations.delete().where(c.id == gone.id))
        conn.execute(
            conversations.update()
            .where(c.id == keep.id)
            .values(
                state="waiting" if "waiting" in states else latest.state,
                assignee_id=keep.assignee_id if keep.assignee_id is not None else gone.assignee_id,
                unread=keep.unread + gone.unread,
                last_message_at=latest.last_message_at,
                last_inbound_at=_latest(keep.last_inbound_at, gone.last_inbound_at),
                last_reply_at=_latest(keep.last_reply_at, gone.last_reply_at),
                awaiting_since=min(waiting) if waiting else None,
                last_direction=latest.last_direction,
                last_preview=latest.last_preview,
                profile_name=keep.profile_name or gone.profile_name,
                created_at=min(keep.created_at, gone.created_at),
            )
        )


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def change_user_id(
    conn: Connection,
    tenant_id: int,
    *,
    previous: str | None,
    ids: Identities,
    now: datetime,
    source: str,
) -> str | None:
    """A user's BSUID changed from ``previous`` to ``ids.user_id``: one person, never a fork.

    The card known by the previous BSUID takes the new one (and the new parent BSUID); a record
    already filed under the new BSUID is merged into it. Returns the person key, or ``None`` when
    wagate never heard of either id (nothing to carry over).
    """
    old = _find(conn, tenant_id, "user_id", previous)
    if old is None:
        return observe(conn, tenant_id, ids, now, source) if ids.user_id and (ids.phone or ids.lid) else None
    new = _find(conn, tenant_id, "user_id", ids.user_id)
    survivor: Any | None = old
    if new is not None and new.id != old.id:
        survivor = merge_contacts(conn, tenant_id, old, new, ids, now, source)
        if survivor is None:
            return str(old.phone)
    assert survivor is not None
    updates = {c: getattr(ids, c) for c in ("user_id", "parent_user_id") if getattr(ids, c)}
    if updates:
        _clear_identities_elsewhere(conn, tenant_id, survivor.id, updates)
        conn.execute(contacts.update().where(contacts.c.id == survivor.id).values(**updates, updated_at=now))
    key = str(survivor.phone)
    if key == previous and ids.user_id and not ids.phone:
        rekey(conn, tenant_id, key, ids.user_id)
        conn.execute(contacts.update().where(contacts.c.id == survivor.id).values(phone=ids.user_id))
        key = ids.user_id
    elif ids.phone:
        key = change_phone(conn, tenant_id, old_phone=key, ids=ids, now=now, source=source)
    return key


def change_phone(
    conn: Connection, tenant_id: int, *, old_phone: str, ids: Identities, now: datetime, source: str
) -> str:
    """WhatsApp says the user now has ``ids.phone`` (``user_changed_number``): their records move
    from ``old_phone`` to it. If the new number already belongs to another record, that is two
    phones on one person: recorded as a conflict, nothing moves."""
    assert ids.phone is not None
    if old_phone == ids.phone:
        return old_phone
    card = contact_of(conn, tenant_id, old_phone)
    taken = contact_of(conn, tenant_id, ids.phone)
    if taken is not None or card is None:
        if taken is not None and card is not None and taken.id != card.id:
            _conflict(
                conn,
                tenant_id,
                old_phone,
                ids.phone,
                ids,
                f"the user of {old_phone} changed number to {ids.phone}, which another record already has",
                source,
                now,
            )
            return old_phone
        return observe(conn, tenant_id, ids, now, source) or ids.phone
    rekey(conn, tenant_id, old_phone, ids.phone)
    values = {c: getattr(ids, c) for c in ("user_id", "parent_user_id") if getattr(ids, c)}
    conn.execute(contacts.update().where(contacts.c.id == card.id).values(phone=ids.phone, updated_at=now, **values))
    return ids.phone


def record_lid(conn: Connection, tenant_id: int, lid: str, phone: str | None, now: datetime) -> str | None:
    """Link a WhatsApp Web LID to a phone (either may be new); returns the person key."""
    return observe(conn, tenant_id, Identities(phone=phone, lid=lid), now, source="web")


async def link_lid(rt: Runtime, tenant_id: int, lid: str, phone: str | None) -> str | None:
    """``record_lid`` in its own transaction, for a channel that learns a LID ↔ phone mapping.

    The WhatsApp Web channel calls this when the protocol tells it which phone a ``…@lid``
    address belongs to (or first sees a LID without one); every record filed under the LID
    moves to the phone, and later messages from either address land in one conversation.
    """
    now = rt.clock.now()
    return await rt.db.write(lambda c: record_lid(c, tenant_id, lid, phone, now))
