"""Tables of the identity layer.

``identity_conflicts`` keeps every merge wagate refused to apply on its own: an event said two
records are one person, but they carry different phone numbers (a recycled number, a wrong
mapping). Nothing is merged; an admin sees the conflict (``GET /v1/identity-conflicts``) and
decides.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

identity_conflicts = sa.Table(
    "identity_conflicts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    # The person keys of the two records the event would have merged.
    sa.Column("key", sa.String(140), nullable=False),
    sa.Column("other_key", sa.String(140), nullable=False),
    # What the event asserted (phone, user_id, parent_user_id, username, lid).
    sa.Column("identities", JSONType, nullable=False, server_default="{}"),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_identity_conflicts_tenant", "tenant_id", "id"),
)
