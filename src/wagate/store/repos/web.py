"""The web channel's rows: the session lease (with fencing) and state, and the LID ↔ phone map.

The lease keeps "one node runs one channel's session": a node holds it while it renews it;
after ``lease_expires_at`` another node may take it, and the take-over increments ``fence``.
Every write a session makes about itself names the fence it holds, so a node that lost the
lease (a long GC pause, a network split) cannot overwrite what the new owner reports.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.store.repos.events import append_event
from wagate.store.web_tables import web_lids, web_sessions


def get_session(conn: Connection, channel_id: int) -> Any | None:
    return conn.execute(sa.select(web_sessions).where(web_sessions.c.channel_id == channel_id)).first()


def _ensure(conn: Connection, channel_id: int, now: datetime) -> Any:
    row = get_session(conn, channel_id)
    if row is None:
        conn.execute(
            web_sessions.insert().values(channel_id=channel_id, state="connecting", since=now, updated_at=now, fence=0)
        )
        row = get_session(conn, channel_id)
    assert row is not None
    return row


def acquire(conn: Connection, channel_id: int, owner: str, now: datetime, ttl_seconds: float) -> int | None:
    """Take or renew the lease; the fence held, or ``None`` while another node holds it."""
    row = _ensure(conn, channel_id, now)
    expires = now + timedelta(seconds=ttl_seconds)
    live = row.owner is not None and row.lease_expires_at is not None and row.lease_expires_at > now
    if live and row.owner != owner:
        return None
    fence = int(row.fence) if row.owner == owner and live else int(row.fence) + 1
    # Guarded by what we read: of two nodes racing for an expired lease, one updates nothing.
    updated = conn.execute(
        web_sessions.update()
        .where(web_sessions.c.channel_id == channel_id, web_sessions.c.fence == row.fence)
        .where(web_sessions.c.owner.is_(None) if row.owner is None else web_sessions.c.owner == row.owner)
        .values(owner=owner, lease_expires_at=expires, fence=fence)
    )
    return fence if updated.rowcount == 1 else None


def release(conn: Connection, channel_id: int, owner: str, fence: int) -> None:
    conn.execute(
        web_sessions.update()
        .where(web_sessions.c.channel_id == channel_id, web_sessions.c.owner == owner, web_sessions.c.fence == fence)
        .values(owner=None, lease_expires_at=None)
    )


def report(
    conn: Connection,
    channel: Any,
    *,
    owner: str,
    fence: int,
    values: dict[str, Any],
    now: datetime,
) -> bool:
    """Write what the session reports (fenced); a change of ``state`` appends a ``channel.status`` event.

    Returns False when this node no longer holds the lease: the caller stops its session.
    """
    row = get_session(conn, channel.id)
    if row is None or row.owner != owner or int(row.fence) != fence:
        return False
    changes = dict(values)
    new_state = changes.get("state", row.state)
    if new_state != row.state:
        changes["since"] = now
    changes["updated_at"] = now
    conn.execute(
        web_sessions.update()
        .where(web_sessions.c.channel_id == channel.id, web_sessions.c.fence == fence)
        .values(**changes)
    )
    if new_state != row.state:
        append_event(
            conn,
            tenant_id=channel.tenant_id,
            type="channel.status",
            now=now,
            payload={
                "channel": channel.name,
                "kind": "web",
                "status": new_state,
                "previous_status": row.state,
                "phone": changes.get("phone", row.phone),
                "reason": changes.get("error") if "error" in changes else None,
                "at": now.isoformat(),
            },
        )
    return True


def remember_lid(conn: Connection, channel_id: int, lid: str, phone: str, now: datetime) -> None:
    existing = conn.execute(
        sa.select(web_lids.c.phone).where(web_lids.c.channel_id == channel_id, web_lids.c.lid == lid)
    ).first()
    if existing is None:
        conn.execute(web_lids.insert().values(channel_id=channel_id, lid=lid, phone=phone, updated_at=now))
    elif existing.phone != phone:
        conn.execute(
            web_lids.update()
            .where(web_lids.c.channel_id == channel_id, web_lids.c.lid == lid)
            .values(phone=phone, updated_at=now)
        )


def phone_for_lid(conn: Connection, channel_id: int, lid: str) -> str | None:
    row = conn.execute(
        sa.select(web_lids.c.phone).where(web_lids.c.channel_id == channel_id, web_lids.c.lid == lid)
    ).first()
    return str(row.phone) if row is not None else None


def lid_for_phone(conn: Connection, channel_id: int, phone: str) -> str | None:
    row = conn.execute(
        sa.select(web_lids.c.lid).where(web_lids.c.channel_id == channel_id, web_lids.c.phone == phone).limit(1)
    ).first()
    return str(row.lid) if row is not None else None
