"""device channel: devices and the notifications they forwarded

Revision ID: 0007_device
Revises: 0002_dispatch
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wagate.store.types

revision = "0007_device"
down_revision = "0002_dispatch"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("channel_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="offline", nullable=False),
        sa.Column("last_seen_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("battery", sa.Integer(), nullable=True),
        sa.Column("charging", sa.Boolean(), nullable=True),
        sa.Column("screen_on", sa.Boolean(), nullable=True),
        sa.Column("whatsapp_version", sa.String(length=64), nullable=True),
        sa.Column("app_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_devices_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_devices_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("channel_id", "name", name=op.f("uq_devices_channel_id_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_devices_token_hash")),
    )
    op.create_index("ix_devices_status_seen", "devices", ["status", "last_seen_at"], unique=False)
    op.create_table(
        "device_notifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("channel_id", BigId, nullable=False),
        sa.Column("device_id", BigId, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("package", sa.String(length=128), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("posted_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("message_id", BigId, nullable=True),
        sa.Column("received_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_device_notifications_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_notifications_device_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_device_notifications_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_notifications")),
        sa.UniqueConstraint("channel_id", "key_hash", name=op.f("uq_device_notifications_channel_id_key_hash")),
    )


def downgrade() -> None:
    op.drop_table("device_notifications")
    op.drop_index("ix_devices_status_seen", table_name="devices")
    op.drop_table("devices")
