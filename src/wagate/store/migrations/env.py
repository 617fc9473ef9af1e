"""Alembic environment: always run on a connection handed in by ``wagate.store.migrate``."""

from __future__ import annotations

from alembic import context

from wagate.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through wagate.store.migrate (wagate migrate)")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """whatsmeow's own tables (the web channel's device store on PostgreSQL) are not ours to manage."""
    return not (type_ == "table" and reflected and (name or "").startswith("whatsmeow_"))


context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
