"""The schema of the gateway core. Later features add their tables in their own modules
(importing ``metadata`` from here) and their own Alembic revisions.

``messages`` is the queue: the dispatcher claims rows from it under a lease.
``events`` is the outbox: every state change appends to it in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.types import JSONType, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("default_region", sa.String(2), nullable=False, server_default="RU"),
    sa.Column("settings", JSONType, nullable=False, server_default="{}"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("settings", JSONType, nullable=False, server_default="{}"),
    sa.Column("pacing", JSONType, nullable=False, server_default="{}"),
    sa.Column("policy", JSONType, nullable=False, server_default="{}"),
    sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id"), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("provider_id", sa.String(128), nullable=True),
    sa.Column("client_ref", sa.String(128), nullable=True),
    sa.Column("callback_url", sa.Text(), nullable=True),
    sa.Column("callback_data", sa.Text(), nullable=True),
    sa.Column("operator", sa.String(128), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False, server_default="api"),
    sa.Column("campaign_id", BigId, nullable=True),
    # The provider's pricing object of the message (Meta's, from status webhooks) and what it cost by
    # the tenant's rate card when it became known.
    sa.Column("pricing", JSONType, nullable=True),
    sa.Column("cost_amount", sa.Numeric(16, 6, asdecimal=False), nullable=True),
    sa.Column("cost_currency", sa.String(3), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_messages_claim", "status", "channel_id", "due_at"),
    sa.Index("ix_messages_tenant_id", "tenant_id", "id"),
    sa.Index("ix_messages_tenant_phone", "tenant_id", "phone", "id"),
    sa.Index("ix_messages_provider", "channel_id", "provider_id", unique=True),
)

message_status_history = sa.Table(
    "message_status_history",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("message_id", BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("applied", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_message_status_history_message", "message_id", "id"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("message_id", BigId, nullable=True),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_events_tenant", "tenant_id", "id"),
    sa.Index("ix_events_message", "message_id", "id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=False),
    sa.Column("response", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_idempotency_keys_created", "created_at"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("name", sa.String(250), nullable=True),
    sa.Column("info", sa.Text(), nullable=True),
    sa.Column("email", sa.String(150), nullable=True),
    sa.Column("web", sa.String(150), nullable=True),
    sa.Column("tags", JSONType, nullable=False, server_default="[]"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "phone"),
)

phone_checks = sa.Table(
    "phone_checks",
    metadata,
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("phone", sa.String(16), primary_key=True),
    sa.Column("whatsapp", sa.String(8), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("checked_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
)
