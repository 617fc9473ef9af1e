"""recurring campaigns: schedules and their runs

Revision ID: 0014_recurring
Revises: 0013_cloud_pricing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import wagate.store.types

revision = "0014_recurring"
down_revision = "0013_cloud_pricing"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "campaign_schedules",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("tenant_id", BIG, nullable=False),
        sa.Column("campaign_id", BIG, nullable=False),
        sa.Column("recurrence", JSON, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("next_run_at", wagate.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_schedules_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_schedules_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_schedules")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_schedules_campaign_id")),
    )
    with op.batch_alter_table("campaign_schedules", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_schedules_due", ["state", "next_run_at"], unique=False)
    op.create_table(
        "campaign_runs",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("schedule_id", BIG, nullable=False),
        sa.Column("planned_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.Column("child_id", BIG, nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["campaigns.id"], name=op.f("fk_campaign_runs_child_id_campaigns"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["campaign_schedules.id"],
            name=op.f("fk_campaign_runs_schedule_id_campaign_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_runs")),
    )
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_runs_schedule", ["schedule_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_runs_schedule")
    op.drop_table("campaign_runs")
    with op.batch_alter_table("campaign_schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_schedules_due")
    op.drop_table("campaign_schedules")
