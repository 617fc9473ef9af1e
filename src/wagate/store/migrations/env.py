"""Alembic environment: always run on a connection handed in by ``wagate.store.migrate``."""

from __future__ import annotations

from alembic import context

from wagate.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through wagate.store.migrate (wagate migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
