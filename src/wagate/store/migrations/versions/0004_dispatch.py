"""dispatcher: channel pacing state, send log, deadline indexes

Revision ID: 0002_dispatch
Revises: 0005_policy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wagate.store.types

revision = "0002_dispatch"
down_revision = "0005_policy"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "channel_pacing",
        sa.Column("channel_id", BigId, nullable=False),
        sa.Column("tat", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("next_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("first_sent_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("guard_checked_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("guard_since", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("paused_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_pacing_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_pacing")),
    )
    op.create_table(
        "channel_sends",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("channel_id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.Column("new_contact", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("business_initiated", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_sends_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_channel_sends_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_sends")),
    )
    op.create_index("ix_channel_sends_channel_at", "channel_sends", ["channel_id", "at"], unique=False)
    op.create_index("ix_channel_sends_channel_phone", "channel_sends", ["channel_id", "phone", "at"], unique=False)
    # Plain CREATE INDEX (no batch mode): the messages table is never copied.
    op.create_index("ix_messages_expiry", "messages", ["status", "expires_at"], unique=False)
    op.create_index("ix_messages_lease", "messages", ["status", "lease_expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_lease", table_name="messages")
    op.drop_index("ix_messages_expiry", table_name="messages")
    op.drop_table("channel_sends")
    op.drop_table("channel_pacing")
