"""Tables of the Cloud API channel.

``cloud_pending_statuses`` holds status webhooks that named a ``wamid`` wagate did not know
yet. Meta may call the webhook before the send request's answer has been stored (the
dispatcher records the ``wamid`` a moment after Meta returns it), so such a status is kept,
durably, and applied by the receiver's sweeper once the message carries that id.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

cloud_pending_statuses = sa.Table(
    "cloud_pending_statuses",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    sa.Column("provider_id", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("provider_code", sa.String(16), nullable=True),
    sa.Column("pricing", JSONType, nullable=True),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Index("ix_cloud_pending_statuses_provider", "channel_id", "provider_id", "id"),
)
