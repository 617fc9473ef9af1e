"""identities: BSUID, parent BSUID, username and LID on contacts; person keys up to 140 characters

Revision ID: 0016_identities
Revises: 0015_web_sessions

Every column that holds a person key (``phone`` in messages, contacts, conversations,
consents, consent events, refusals, tier reach, channel sends, campaign recipients and
callback requests) widens
to 140 characters so it can hold a BSUID. No row is rewritten: existing keys are phone
numbers and stay what they are.

On PostgreSQL widening a ``varchar`` is a catalogue change. SQLite ignores declared lengths,
and rebuilding a table there would fire ``ON DELETE CASCADE`` of the tables that refer to it
(foreign keys are on inside the migration's transaction), so on SQLite only the declared type
in the schema text changes (``writable_schema``, the documented way to change a declared type
without touching the stored rows).

Outbound messages get ``sent_to`` (the identity they were addressed to); existing outbound
rows were addressed to their phone and say so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wagate.store.types

revision = "0016_identities"
down_revision = "0015_web_sessions"
branch_labels = None
depends_on = None

#: (table, old length, nullable)
WIDENED = (
    ("messages", 16, False),
    ("contacts", 16, False),
    ("conversations", 16, False),
    ("consents", 16, False),
    ("consent_events", 16, False),
    ("policy_refusals", 16, True),
    ("tier_reach", 16, False),
    ("channel_sends", 16, False),
    ("campaign_recipients", 32, False),
    ("callback_requests", 16, False),
)


def _declared_length(table: str, length: int, new: int) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
        bind.exec_driver_sql("PRAGMA writable_schema=ON")
        bind.exec_driver_sql(
            f"UPDATE sqlite_master SET sql = replace(sql, 'phone VARCHAR({length})', 'phone VARCHAR({new})') "
            f"WHERE type = 'table' AND name = '{table}'"
        )
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    else:
        op.alter_column(table, "phone", type_=sa.String(length=new), existing_type=sa.String(length=length))


def upgrade() -> None:
    for table, length, _nullable in WIDENED:
        _declared_length(table, length, 140)
    op.add_column("messages", sa.Column("sent_to", sa.String(length=140), nullable=True))
    op.execute("UPDATE messages SET sent_to = phone WHERE direction = 'out'")
    op.add_column("contacts", sa.Column("user_id", sa.String(length=140), nullable=True))
    op.add_column("contacts", sa.Column("parent_user_id", sa.String(length=140), nullable=True))
    op.add_column("contacts", sa.Column("username", sa.String(length=64), nullable=True))
    op.add_column("contacts", sa.Column("lid", sa.String(length=64), nullable=True))
    op.create_index("ix_contacts_user_id", "contacts", ["tenant_id", "user_id"], unique=True)
    op.create_index("ix_contacts_lid", "contacts", ["tenant_id", "lid"], unique=True)
    op.create_index("ix_contacts_parent_user_id", "contacts", ["tenant_id", "parent_user_id"])
    op.create_table(
        "identity_conflicts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("other_key", sa.String(length=140), nullable=False),
        sa.Column("identities", wagate.store.types.JSONType, server_default="{}", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", wagate.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_identity_conflicts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_conflicts")),
    )
    op.create_index("ix_identity_conflicts_tenant", "identity_conflicts", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_identity_conflicts_tenant", table_name="identity_conflicts")
    op.drop_table("identity_conflicts")
    op.drop_index("ix_contacts_parent_user_id", table_name="contacts")
    op.drop_index("ix_contacts_lid", table_name="contacts")
    op.drop_index("ix_contacts_user_id", table_name="contacts")
    for column in ("lid", "username", "parent_user_id", "user_id"):
        op.drop_column("contacts", column)
    op.drop_column("messages", "sent_to")
