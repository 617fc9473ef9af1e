"""Values shared by every node of one deployment, set once and read at start-up.

``deployment_settings`` is a small key-value table: ``deployment_id`` (a random id drawn by the
first node that needs it) namespaces the Redis channels, so two deployments on one Redis, or
parallel test runs, never hear each other. It lives in the database because that is the one
thing all nodes of a deployment share by definition.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import metadata
from wagate.store.types import UTCDateTime

deployment_settings = sa.Table(
    "deployment_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
