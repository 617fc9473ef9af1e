"""Tables of campaigns (docs/campaigns.md).

* ``campaigns`` — one bulk send: template, channel, schedule, window, ban-protection
  thresholds, the dry-run ``report``, its state and why it is paused or waiting.
* ``campaign_recipients`` — one row per line of the uploaded file, in file order (``line``),
  with its state; ``message_id`` is set in the very transaction that creates the message,
  which is what makes resuming safe: a recipient with a message is never enqueued again.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("template_name", sa.String(512), nullable=False),
    sa.Column("template_language", sa.String(16), nullable=False),
    sa.Column("template_category", sa.String(16), nullable=False),
    sa.Column("consent_scope", sa.String(64), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("window_start", sa.String(5), nullable=True),
    sa.Column("window_end", sa.String(5), nullable=True),
    sa.Column("start_at", UTCDateTime(), nullable=True),
    sa.Column("max_in_flight", sa.Integer(), nullable=False),
    sa.Column("protection", JSONType, nullable=False, server_default="{}"),
    sa.Column("report", JSONType, nullable=False, server_default="{}"),
    sa.Column("source", JSONType, nullable=False, server_default="{}"),
    sa.Column("paused_code", sa.String(32), nullable=True),
    sa.Column("paused_reason", sa.Text(), nullable=True),
    #: Ban protection judges only messages after this id (set on resume, so old signals do not re-trip).
    sa.Column("protection_after_id", BigId, nullable=False, server_default="0"),
    #: Why a running campaign is not sending right now (start time, window, a limit) and until when.
    sa.Column("waiting", sa.String(32), nullable=True),
    sa.Column("hold_until", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index("ix_campaigns_tenant", "tenant_id", "id"),
    sa.Index("ix_campaigns_state", "state"),
)

campaign_recipients = sa.Table(
    "campaign_recipients",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("line", sa.Integer(), nullable=False),
    #: The person key (E.164 digits or a BSUID) when valid; the file's text (cut to 32 characters) when not.
    sa.Column("phone", sa.String(140), nullable=False),
    sa.Column("name", sa.String(250), nullable=True),
    sa.Column("params", JSONType, nullable=False, server_default="[]"),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("message_id", BigId, nullable=True),
    sa.Column("enqueued_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("campaign_id", "line"),
    sa.Index("ix_campaign_recipients_state", "campaign_id", "state", "line"),
    sa.Index("ix_campaign_recipients_message", "campaign_id", "message_id"),
)
