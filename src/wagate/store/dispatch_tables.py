"""Tables of the dispatcher: the durable pacing state of each channel and the send log.

``channel_pacing`` holds, per channel, what the last claim decided (token-bucket arrival
time, the drawn pause, the guard's bookkeeping). Claims lock this row, so several dispatcher
tasks and processes pace one channel together. ``channel_sends`` records every hand-over to a
channel (one row per attempt): daily caps, recipient spacing, new-contact counts and the
unanswered-share guard are all read from it, so pacing survives restarts.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, messages, metadata
from wagate.store.types import UTCDateTime

channel_pacing = sa.Table(
    "channel_pacing",
    metadata,
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tat", UTCDateTime(), nullable=True),
    sa.Column("next_at", UTCDateTime(), nullable=True),
    sa.Column("first_sent_at", UTCDateTime(), nullable=True),
    sa.Column("guard_checked_at", UTCDateTime(), nullable=True),
    sa.Column("guard_since", UTCDateTime(), nullable=True),
    sa.Column("paused_reason", sa.Text(), nullable=True),
    sa.Column("paused_at", UTCDateTime(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

channel_sends = sa.Table(
    "channel_sends",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    sa.Column("message_id", BigId, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phone", sa.String(140), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("new_contact", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("business_initiated", sa.Boolean(), nullable=True),
    sa.Index("ix_channel_sends_channel_at", "channel_id", "at"),
    sa.Index("ix_channel_sends_channel_phone", "channel_id", "phone", "at"),
)

#: Housekeeping looks for the next validity and lease deadlines without scanning the queue.
ix_messages_expiry = sa.Index("ix_messages_expiry", messages.c.status, messages.c.expires_at)
ix_messages_lease = sa.Index("ix_messages_lease", messages.c.status, messages.c.lease_expires_at)
