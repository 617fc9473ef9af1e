"""Tables of the web channel (WhatsApp Web, kind ``web``).

``web_sessions`` holds one row per web channel: which node runs its session (``owner``, a
lease until ``lease_expires_at``, fenced by ``fence`` which grows at every take-over) and what
the session last reported (``state``, the current ``qr`` payload, the linked ``phone`` and its
device ``jid``, the last ``error``, ``since`` when the state began). Every node answers
``GET /v1/channels/{name}/session`` from this row, so it does not matter which node is asked.

``web_lids`` maps the LIDs (``…@lid``) WhatsApp addresses people by to their phone numbers,
per channel, whenever the protocol tells us both.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import UTCDateTime

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column(
        "channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    sa.Column("fence", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("state", sa.String(16), nullable=False, server_default="connecting"),
    sa.Column("qr", sa.Text(), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("jid", sa.String(128), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

web_lids = sa.Table(
    "web_lids",
    metadata,
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("lid", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
