"""Tables of the policy layer: templates, consents (state and history), refusals, counters.

* ``templates`` — local templates (``channel`` '' = every channel of the tenant) and templates
  synced from a cloud channel's ``message_templates`` (``source`` 'cloud', bound to the channel).
* ``consents`` — the current consent of each phone; ``consent_events`` — every change, forever.
* ``policy_refusals`` — every message a rule refused (``outcome`` 'refused') or let through
  with a warning ('warned'), with the door it came through.
* ``policy_daily_counts`` — the tenant's daily cap counter, kept only while a cap is set.
* ``tier_reach`` — unique clients reached by business-initiated templates per limit group,
  with the last time; rows older than 24 h are pruned as the group is checked, and
  ``tier_counts`` keeps their number, so a check costs the same at 250 and at 100,000.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

templates = sa.Table(
    "templates",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False, server_default=""),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("scope", sa.String(64), nullable=True),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("header", JSONType, nullable=True),
    sa.Column("footer", sa.Text(), nullable=True),
    sa.Column("buttons", JSONType, nullable=False, server_default="[]"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.String(8), nullable=False, server_default="local"),
    sa.Column("provider_status", sa.String(32), nullable=True),
    # Meta's template id and what its webhooks said beyond the status: quality, a category change
    # (``impending`` or done), the rejection reason.
    sa.Column("provider_id", sa.String(64), nullable=True),
    sa.Column("provider_info", JSONType, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "channel", "name", "language"),
    sa.Index("ix_templates_tenant_name", "tenant_id", "name"),
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("scopes", JSONType, nullable=False, server_default="[]"),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("evidence", JSONType, nullable=False, server_default="{}"),
    sa.Column("consented_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_via", sa.String(16), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "phone"),
)

consent_events = sa.Table(
    "consent_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("action", sa.String(8), nullable=False),
    sa.Column("scopes", JSONType, nullable=False, server_default="[]"),
    sa.Column("source", sa.String(16), nullable=True),
    sa.Column("via", sa.String(16), nullable=False),
    sa.Column("evidence", JSONType, nullable=False, server_default="{}"),
    sa.Column("message_id", BigId, nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_consent_events_phone", "tenant_id", "phone", "id"),
)

policy_refusals = sa.Table(
    "policy_refusals",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("field", sa.String(128), nullable=True),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("phone", sa.String(16), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("client_ref", sa.String(128), nullable=True),
    sa.Column("message_id", BigId, nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_policy_refusals_tenant", "tenant_id", "id"),
)

policy_daily_counts = sa.Table(
    "policy_daily_counts",
    metadata,
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

tier_reach = sa.Table(
    "tier_reach",
    metadata,
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("limit_group", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(16), primary_key=True),
    sa.Column("reached_at", UTCDateTime(), nullable=False),
    sa.Index("ix_tier_reach_group", "tenant_id", "limit_group", "reached_at"),
)

tier_counts = sa.Table(
    "tier_counts",
    metadata,
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("limit_group", sa.String(64), primary_key=True),
    sa.Column("reached", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
