"""The complete metadata: every module that defines tables is imported here.

Alembic's autogenerate and the migration check test compare the database against this.
Feature packages add their table modules to the import list below.
"""

from __future__ import annotations

from wagate.store import webhooks_tables  # noqa: F401  (registers the webhook tables)
from wagate.store.tables import metadata

__all__ = ["metadata"]
