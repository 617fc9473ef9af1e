"""Tables of the automations: the tenant's settings, the bot's memory per conversation, callback requests.

* ``automation_settings`` — one row per tenant: the validated ``PUT /v1/automations`` body.
* ``automation_states`` — one row per conversation the bot has spoken in: its mode (bot or
  handed to a person), menu position, language, the closed period an away message went out for.
  Written in the inbound message's transaction, so two messages of one client are judged in order.
* ``callback_requests`` — what a client asked: the number and the earliest moment to call,
  their own words, and who took it (a task the dashboard lists by due time).
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

automation_settings = sa.Table(
    "automation_settings",
    metadata,
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("body", JSONType, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

automation_states = sa.Table(
    "automation_states",
    metadata,
    sa.Column("conversation_id", BigId, sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("state", JSONType, nullable=False),
    sa.Column("last_at", UTCDateTime(), nullable=False),
)

callback_requests = sa.Table(
    "callback_requests",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("conversation_id", BigId, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    # The number to call (E.164 digits); the client may give another than the one writing.
    sa.Column("phone", sa.String(16), nullable=False),
    # The earliest moment asked for; NULL when the client's words stayed unclear (the text says it).
    sa.Column("due_at", UTCDateTime(), nullable=True),
    sa.Column("asap", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("text", sa.Text(), nullable=False),
    # open → taken (someone will call) → done.
    sa.Column("status", sa.String(8), nullable=False, server_default="open"),
    sa.Column("taken_by", sa.String(100), nullable=True),
    sa.Column("taken_at", UTCDateTime(), nullable=True),
    sa.Column("done_at", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_callback_requests_due", "tenant_id", "status", "due_at"),
    sa.Index("ix_callback_requests_conversation", "conversation_id"),
)
