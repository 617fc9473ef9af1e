"""prices and costs of messages, tenants' rate cards, Meta's template ids and webhook facts

Revision ID: 0013_cloud_pricing
Revises: 0012_automations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wagate.store.types

revision = "0013_cloud_pricing"
down_revision = "0012_automations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pricing_cards",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rates", wagate.store.types.JSONType, nullable=False),
        sa.Column("countries", wagate.store.types.JSONType, server_default="{}", nullable=False),
        sa.Column("updated_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pricing_cards_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_pricing_cards")),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("pricing", wagate.store.types.JSONType, nullable=True))
        batch.add_column(sa.Column("cost_amount", sa.Numeric(16, 6, asdecimal=False), nullable=True))
        batch.add_column(sa.Column("cost_currency", sa.String(length=3), nullable=True))
    with op.batch_alter_table("cloud_pending_statuses") as batch:
        batch.add_column(sa.Column("pricing", wagate.store.types.JSONType, nullable=True))
    with op.batch_alter_table("templates") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("provider_info", wagate.store.types.JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.drop_column("provider_info")
        batch.drop_column("provider_id")
    with op.batch_alter_table("cloud_pending_statuses") as batch:
        batch.drop_column("pricing")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("cost_currency")
        batch.drop_column("cost_amount")
        batch.drop_column("pricing")
    op.drop_table("pricing_cards")
