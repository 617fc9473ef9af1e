"""Opt-in and opt-out: every change is written with its history row and a ``consent.changed``
event in one transaction (the opt-out keyword path is ``services.policy.optout_hook``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.consent import OptIn, validate_opt_in
from wagate.domain.identities import parse_address
from wagate.domain.phones import normalize_phone
from wagate.domain.records import Tenant
from wagate.errors import NotFoundError, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import identities
from wagate.store.repos import consents as repo

MAX_BATCH = 1000


def _prepared(tenant: Tenant, data: object, prefix: str = "") -> tuple[str, OptIn]:
    if not isinstance(data, dict):
        raise ValidationError("a consent must be a JSON object", field=prefix.rstrip(".") or "body")
    opt_in = validate_opt_in(data, prefix)
    if not isinstance(opt_in.phone, str | int):
        raise ValidationError("phone must be a phone number", field=f"{prefix}phone")
    return normalize_phone(str(opt_in.phone), tenant.default_region, f"{prefix}phone"), opt_in


def _store(conn: Connection, tenant: Tenant, phone: str, opt_in: OptIn, via: str, now: datetime) -> tuple[Any, bool]:
    return repo.opt_in(
        conn,
        tenant.id,
        phone,
        scopes=opt_in.scopes,
        source=opt_in.source,
        evidence=opt_in.evidence,
        via=via,
        now=now,
        consented_at=opt_in.consented_at,
    )


async def record_opt_in(rt: Runtime, tenant: Tenant, data: Mapping[str, Any], via: str = "api") -> tuple[Any, bool]:
    """One opt-in. Returns ``(row, created)``."""
    phone, opt_in = _prepared(tenant, dict(data))
    now = rt.clock.now()
    return await rt.db.write(lambda c: _store(c, tenant, phone, opt_in, via, now))


async def record_opt_ins(rt: Runtime, tenant: Tenant, items: list[Any]) -> list[Any | WagateError]:
    """A batch (an import): valid items are stored together, each invalid one gets its own error."""
    if not items or len(items) > MAX_BATCH:
        raise ValidationError(f"consents must be a list of 1-{MAX_BATCH}", field="consents")
    prepared: list[tuple[str, OptIn] | WagateError] = []
    for index, item in enumerate(items):
        try:
            prepared.append(_prepared(tenant, item, f"consents[{index}]."))
        except WagateError as exc:
            prepared.append(exc)
    now = rt.clock.now()

    def job(conn: Connection) -> list[Any | WagateError]:
        out: list[Any | WagateError] = []
        for entry in prepared:
            if isinstance(entry, WagateError):
                out.append(entry)
            else:
                out.append(_store(conn, tenant, entry[0], entry[1], "api", now)[0])
        return out

    return await rt.db.write(job)


async def record_opt_out(
    rt: Runtime, tenant: Tenant, phone: str, *, via: str = "api", evidence: dict[str, Any] | None = None
) -> Any:
    address = parse_address(phone, tenant.default_region, "phone")
    now = rt.clock.now()

    def job(conn: Connection) -> Any:
        key = identities.key_for(conn, tenant.id, address.key)  # a BSUID opts its person out
        row, _changed = repo.opt_out(conn, tenant.id, key, via=via, source="api", now=now, evidence=evidence)
        return row

    return await rt.db.write(job)


async def get_consent(rt: Runtime, tenant: Tenant, phone: str) -> tuple[Any, list[Any]]:
    address = parse_address(phone, tenant.default_region, "phone")

    def job(conn: Connection) -> tuple[Any, list[Any]]:
        normalized = identities.key_for(conn, tenant.id, address.key)
        row = repo.get_consent(conn, tenant.id, normalized)
        if row is None:
            raise NotFoundError(f"no consent recorded for {normalized}", field="phone")
        return row, repo.history(conn, tenant.id, normalized)

    return await rt.db.read(job)


async def list_consents(
    rt: Runtime,
    tenant: Tenant,
    *,
    status: str | None,
    phone: str | None,
    scope: str | None,
    after_id: int,
    limit: int,
) -> tuple[list[Any], int | None]:
    """A page of consents and the cursor of the next page (``scope`` filters within the page)."""
    address = parse_address(phone, tenant.default_region, "phone") if phone else None

    def job(conn: Connection) -> list[Any]:
        key = identities.key_for(conn, tenant.id, address.key) if address is not None else None
        return repo.list_consents(conn, tenant.id, status=status, phone=key, after_id=after_id, limit=limit)

    rows = await rt.db.read(job)
    next_cursor = int(rows[-1].id) if len(rows) == limit else None
    return [r for r in rows if scope is None or scope in (r.scopes or [])], next_cursor


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def consent_json(row: Any, history: list[Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "phone": row.phone,
        "status": row.status,
        "scopes": list(row.scopes or []),
        "source": row.source,
        "evidence": row.evidence or {},
        "consented_at": _iso(row.consented_at),
        "revoked_at": _iso(row.revoked_at),
        "revoked_via": row.revoked_via,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }
    if history is not None:
        data["history"] = [
            {
                "action": h.action,
                "scopes": list(h.scopes or []),
                "source": h.source,
                "via": h.via,
                "evidence": h.evidence or {},
                "message_id": h.message_id,
                "at": _iso(h.at),
            }
            for h in history
        ]
    return data
