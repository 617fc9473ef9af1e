"""device_phone_checks: "is this number on WhatsApp?" jobs for the devices of a device channel

Revision ID: 0017_phone_checks
Revises: 0016_identities
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wagate.store.types

revision = "0017_phone_checks"
down_revision = "0016_identities"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "device_phone_checks",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("tenant_id", BIG, nullable=False),
        sa.Column("channel_id", BIG, nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_device_phone_checks_channel_status", "device_phone_checks", ["channel_id", "status", "id"], unique=False
    )
    op.create_index(
        "ix_device_phone_checks_channel_phone", "device_phone_checks", ["channel_id", "phone"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_device_phone_checks_channel_phone", table_name="device_phone_checks")
    op.drop_index("ix_device_phone_checks_channel_status", table_name="device_phone_checks")
    op.drop_table("device_phone_checks")
