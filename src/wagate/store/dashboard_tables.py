"""Tables of the operator dashboard: users, their sign-in sessions, conversations and notes.

* ``users`` — people who sign in to the dashboard (``admin`` or ``operator``), one tenant each.
  Logins are unique across the node, so the sign-in form needs no tenant field. Only an
  argon2id hash of the password is stored.
* ``dashboard_sessions`` — one row per signed-in browser. The cookie holds a random token;
  only its SHA-256 is stored (like API tokens), so a copy of the database signs nobody in.
  Logging out deletes the row.
* ``conversations`` — one per channel × client phone, maintained from messages in the
  transactions that store them (``services.conversations``): state, assignee, unread count,
  the times the inbox sorts and filters on.
* ``conversation_notes`` — internal notes operators leave on a conversation; never sent.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import UTCDateTime

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("login", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("name", sa.String(100), nullable=True),
    sa.Column("locale", sa.String(5), nullable=False, server_default="en"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("disabled_at", UTCDateTime(), nullable=True),
    sa.Index("ix_users_tenant", "tenant_id", "login"),
)

dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("user_agent", sa.String(200), nullable=True),
    sa.Index("ix_dashboard_sessions_expires", "expires_at"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phone", sa.String(140), nullable=False),
    # waiting: the client's last message is unanswered; open: answered; closed: closed by an operator.
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("assignee_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("unread", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_message_at", UTCDateTime(), nullable=False),
    sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
    sa.Column("last_reply_at", UTCDateTime(), nullable=True),
    # The first client message no operator has answered yet (what the response clock runs from).
    sa.Column("awaiting_since", UTCDateTime(), nullable=True),
    sa.Column("last_direction", sa.String(3), nullable=False),
    sa.Column("last_preview", sa.String(200), nullable=True),
    # The name the client's WhatsApp profile shows (from inbound messages), until a contact names them.
    sa.Column("profile_name", sa.String(100), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("channel_id", "phone"),
    sa.Index("ix_conversations_recent", "tenant_id", "last_message_at", "id"),
    sa.Index("ix_conversations_assignee", "tenant_id", "assignee_id"),
)

conversation_notes = sa.Table(
    "conversation_notes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("conversation_id", BigId, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    # The author's login or the API token's name, kept even if the user is deleted.
    sa.Column("author", sa.String(100), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_conversation_notes_conversation", "conversation_id", "id"),
)
