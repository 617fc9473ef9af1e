"""Consents: the current state per phone, every change in ``consent_events``, and a
``consent.changed`` outbox event — all in the caller's one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.domain.consent import ACTIVE, REVOKED, ConsentState
from wagate.store.policy_tables import consent_events, consents
from wagate.store.repos.events import append_event

CHUNK = 500


def get_consent(conn: Connection, tenant_id: int, phone: str) -> Any | None:
    return conn.execute(sa.select(consents).where(consents.c.tenant_id == tenant_id, consents.c.phone == phone)).first()


_STATES = sa.select(
    consents.c.phone, consents.c.status, consents.c.scopes, consents.c.source, consents.c.updated_at
).where(
    consents.c.tenant_id == sa.bindparam("b_tenant_id"),
    consents.c.phone.in_(sa.bindparam("b_phones", expanding=True)),
)


def states(conn: Connection, tenant_id: int, phones: Iterable[str]) -> dict[str, ConsentState]:
    """The consent of each phone that has one (the accept path asks this for every batch)."""
    wanted = sorted(set(phones))
    out: dict[str, ConsentState] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = conn.execute(_STATES, {"b_tenant_id": tenant_id, "b_phones": wanted[start : start + CHUNK]})
        for r in rows:
            out[r.phone] = ConsentState(
                status=r.status, scopes=tuple(r.scopes or ()), source=r.source, updated_at=r.updated_at
            )
    return out


def _event_payload(row: Any, action: str, via: str, previous: Any | None, message_id: int | None) -> dict[str, Any]:
    return {
        "phone": row.phone,
        "action": action,
        "status": row.status,
        "scopes": list(row.scopes or []),
        "previous_status": previous.status if previous is not None else None,
        "previous_scopes": list(previous.scopes or []) if previous is not None else [],
        "source": row.source,
        "via": via,
        "message_id": message_id,
        "at": row.updated_at.isoformat(),
    }


def _record(
    conn: Connection,
    *,
    tenant_id: int,
    phone: str,
    action: str,
    scopes: list[str],
    source: str | None,
    via: str,
    evidence: dict[str, Any],
    message_id: int | None,
    now: datetime,
    previous: Any | None,
) -> Any:
    conn.execute(
        consent_events.insert().values(
            tenant_id=tenant_id,
            phone=phone,
            action=action,
            scopes=scopes,
            source=source,
            via=via,
            evidence=evidence,
            message_id=message_id,
            at=now,
        )
    )
    row = get_consent(conn, tenant_id, phone)
    assert row is not None
    changed = previous is None or previous.status != row.status or list(previous.scopes or []) != list(row.scopes or [])
    if changed:
        append_event(
            conn,
            tenant_id=tenant_id,
            type="consent.changed",
            now=now,
            payload=_event_payload(row, action, via, previous, message_id),
        )
    return row


def opt_in(
    conn: Connection,
    tenant_id: int,
    phone: str,
    *,
    scopes: list[str],
    source: str,
    evidence: dict[str, Any],
    via: str,
    now: datetime,
    consented_at: datetime | None = None,
) -> tuple[Any, bool]:
    """Record an opt-in (the scopes replace earlier ones). Returns ``(row, created)``."""
    previous = get_consent(conn, tenant_id, phone)
    values = {
        "status": ACTIVE,
        "scopes": scopes,
        "source": source,
        "evidence": evidence,
        "consented_at": consented_at or now,
        "revoked_at": None,
        "revoked_via": None,
        "updated_at": now,
    }
    if previous is None:
        conn.execute(consents.insert().values(tenant_id=tenant_id, phone=phone, created_at=now, **values))
    else:
        conn.execute(consents.update().where(consents.c.id == previous.id).values(**values))
    row = _record(
        conn,
        tenant_id=tenant_id,
        phone=phone,
        action="opt_in",
        scopes=scopes,
        source=source,
        via=via,
        evidence=evidence,
        message_id=None,
        now=now,
        previous=previous,
    )
    return row, previous is None


def opt_out(
    conn: Connection,
    tenant_id: int,
    phone: str,
    *,
    via: str,
    source: str,
    now: datetime,
    evidence: dict[str, Any] | None = None,
    message_id: int | None = None,
) -> tuple[Any, bool]:
    """Revoke every scope; a phone never seen before is recorded as opted out too (an explicit
    "stop" must hold even without an earlier opt-in). Returns ``(row, changed)``: a repeated
    opt-out is recorded in the history but changes nothing."""
    previous = get_consent(conn, tenant_id, phone)
    values = {"status": REVOKED, "scopes": [], "revoked_at": now, "revoked_via": via, "updated_at": now}
    if previous is None:
        conn.execute(
            consents.insert().values(
                tenant_id=tenant_id, phone=phone, source=source, evidence={}, created_at=now, **values
            )
        )
    elif previous.status == REVOKED:
        values = {"updated_at": now}
        conn.execute(consents.update().where(consents.c.id == previous.id).values(**values))
    else:
        conn.execute(consents.update().where(consents.c.id == previous.id).values(**values))
    row = _record(
        conn,
        tenant_id=tenant_id,
        phone=phone,
        action="opt_out",
        scopes=[],
        source=source,
        via=via,
        evidence=evidence or {},
        message_id=message_id,
        now=now,
        previous=previous,
    )
    return row, previous is None or previous.status != REVOKED


def list_consents(
    conn: Connection,
    tenant_id: int,
    *,
    status: str | None = None,
    phone: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Any]:
    query = (
        sa.select(consents)
        .where(consents.c.tenant_id == tenant_id, consents.c.id > after_id)
        .order_by(consents.c.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(consents.c.status == status)
    if phone is not None:
        query = query.where(consents.c.phone == phone)
    return list(conn.execute(query))


def history(conn: Connection, tenant_id: int, phone: str) -> list[Any]:
    return list(
        conn.execute(
            sa.select(consent_events)
            .where(consent_events.c.tenant_id == tenant_id, consent_events.c.phone == phone)
            .order_by(consent_events.c.id)
        )
    )
