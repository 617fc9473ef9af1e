"""Tables of recurring campaigns (docs/campaigns.md, "Recurring campaigns").

* ``campaign_schedules`` — a draft campaign used as the pattern (template, channel, window,
  protection, recipients) and when it repeats; ``next_run_at`` is the next planned run.
* ``campaign_runs`` — one row per planned run: the child campaign it started, or why it was
  skipped (the previous run still sending) or failed (the template is gone …).
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

campaign_schedules = sa.Table(
    "campaign_schedules",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("campaign_id", BigId, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, unique=True),
    sa.Column("recurrence", JSONType, nullable=False),
    # active → ended (no run left before the end date) | cancelled
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("next_run_at", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_campaign_schedules_due", "state", "next_run_at"),
)

campaign_runs = sa.Table(
    "campaign_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("schedule_id", BigId, sa.ForeignKey("campaign_schedules.id", ondelete="CASCADE"), nullable=False),
    sa.Column("planned_at", UTCDateTime(), nullable=False),
    sa.Column("child_id", BigId, sa.ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True),
    # started | skipped | failed
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_campaign_runs_schedule", "schedule_id", "id"),
)
