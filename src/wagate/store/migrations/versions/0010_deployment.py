"""deployment_settings: values shared by every node (the deployment id that namespaces Redis)

Revision ID: 0010_deployment
Revises: 0009_campaigns

The table starts empty: the deployment id is drawn by the first node that starts with
``redis_url`` set, so copies of a migrated database never share one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wagate.store.types

revision = "0010_deployment"
down_revision = "0009_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deployment_settings")),
    )


def downgrade() -> None:
    op.drop_table("deployment_settings")
