"""Inbound messages say who wrote them: origin "customer" instead of the API's default

Revision ID: 0011_inbound_origin
Revises: 0010_deployment

Inbound rows used to take the column's server default ("api"), which read as if a CRM had sent them.
"""

from __future__ import annotations

from alembic import op

revision = "0011_inbound_origin"
down_revision = "0010_deployment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE messages SET origin = 'customer' WHERE direction = 'in' AND origin = 'api'")


def downgrade() -> None:
    op.execute("UPDATE messages SET origin = 'api' WHERE direction = 'in' AND origin = 'customer'")
