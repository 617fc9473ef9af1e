"""The deployment's shared values (``deployment_settings``): first writer wins, everyone reads it."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wagate.store import dialect
from wagate.store.deployment_tables import deployment_settings

DEPLOYMENT_ID = "deployment_id"


def ensure_value(conn: Connection, name: str, value: str, now: datetime) -> str:
    """Store ``value`` under ``name`` unless a value is there already; return the stored one.

    ``ON CONFLICT DO NOTHING``: nodes starting together agree on whichever insert committed first.
    """
    insert = dialect.insert(conn, deployment_settings)
    conn.execute(insert.values(name=name, value=value, created_at=now).on_conflict_do_nothing(index_elements=["name"]))
    stored = conn.execute(sa.select(deployment_settings.c.value).where(deployment_settings.c.name == name)).scalar_one()
    return str(stored)


def ensure_deployment_id(conn: Connection, now: datetime) -> str:
    """The deployment's random id, drawn on first use (never in a migration: copies of a migrated
    database, such as test templates, must not share it)."""
    return ensure_value(conn, DEPLOYMENT_ID, secrets.token_hex(8), now)
