"""cloud channel: status webhooks waiting for their message

Revision ID: 0003_cloud
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wagate.store.types

revision = "0003_cloud"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloud_pending_statuses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("provider_code", sa.String(length=16), nullable=True),
        sa.Column("received_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_cloud_pending_statuses_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_pending_statuses")),
    )
    with op.batch_alter_table("cloud_pending_statuses", schema=None) as batch_op:
        batch_op.create_index("ix_cloud_pending_statuses_provider", ["channel_id", "provider_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cloud_pending_statuses", schema=None) as batch_op:
        batch_op.drop_index("ix_cloud_pending_statuses_provider")
    op.drop_table("cloud_pending_statuses")
