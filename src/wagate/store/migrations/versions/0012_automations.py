"""automations: settings per tenant, the bot's state per conversation, callback requests

Revision ID: 0012_automations
Revises: 0011_inbound_origin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import wagate.store.types

revision = "0012_automations"
down_revision = "0011_inbound_origin"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "automation_settings",
        sa.Column("tenant_id", BIG, nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("updated_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_automation_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_automation_settings")),
    )
    op.create_table(
        "automation_states",
        sa.Column("conversation_id", BIG, nullable=False),
        sa.Column("tenant_id", BIG, nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("last_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_automation_states_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_automation_states_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_automation_states")),
    )
    op.create_table(
        "callback_requests",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("tenant_id", BIG, nullable=False),
        sa.Column("conversation_id", BIG, nullable=False),
        sa.Column("channel_id", BIG, nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("due_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("asap", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("taken_by", sa.String(length=100), nullable=True),
        sa.Column("taken_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("done_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_callback_requests_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_callback_requests_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_callback_requests_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
    )
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.create_index("ix_callback_requests_conversation", ["conversation_id"], unique=False)
        batch_op.create_index("ix_callback_requests_due", ["tenant_id", "status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_requests_due")
        batch_op.drop_index("ix_callback_requests_conversation")
    op.drop_table("callback_requests")
    op.drop_table("automation_states")
    op.drop_table("automation_settings")
