"""Tables of the Android device channel: the devices of a ``device`` channel and the
notifications they forwarded.

``devices`` holds one row per phone (or emulator) allowed to pull a channel's messages: its
token is stored only as a SHA-256 hash (like API tokens), and the row carries what the last
heartbeat said (battery, screen, versions) and whether the device is ``online``.
``device_notifications`` records every WhatsApp notification a device posted, keyed by the
device's own notification key, so a notification posted twice is answered from the record —
including the ones that did not become messages ("N new messages" summaries).
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import UTCDateTime

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("serial", sa.String(128), nullable=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="offline"),
    sa.Column("last_seen_at", UTCDateTime(), nullable=True),
    sa.Column("battery", sa.Integer(), nullable=True),
    sa.Column("charging", sa.Boolean(), nullable=True),
    sa.Column("screen_on", sa.Boolean(), nullable=True),
    sa.Column("whatsapp_version", sa.String(64), nullable=True),
    sa.Column("app_version", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("channel_id", "name"),
    sa.Index("ix_devices_status_seen", "status", "last_seen_at"),
)

device_notifications = sa.Table(
    "device_notifications",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    sa.Column("device_id", BigId, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("key", sa.Text(), nullable=False),
    sa.Column("package", sa.String(128), nullable=True),
    sa.Column("title", sa.Text(), nullable=True),
    sa.Column("text", sa.Text(), nullable=True),
    sa.Column("posted_at", UTCDateTime(), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("message_id", BigId, sa.ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("channel_id", "key_hash"),
)

#: Phone checks a device does for its channel ("is this number on WhatsApp?"): the gateway
#: queues one when a CRM asks about a number it has no answer for; a device leases it
#: (``GET /device/v1/checks/next``, paced like sends), opens the chat link and reports.
device_phone_checks = sa.Table(
    "device_phone_checks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", BigId, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result", sa.String(8), nullable=True),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_device_phone_checks_channel_status", "channel_id", "status", "id"),
    sa.Index("ix_device_phone_checks_channel_phone", "channel_id", "phone"),
)
