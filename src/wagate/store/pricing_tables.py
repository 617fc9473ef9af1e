"""The tenant's rate card: what one message costs, by Meta's pricing category and country.

One row per tenant (``PUT /v1/pricing``). ``rates`` maps a category (``marketing``,
``utility``, ``authentication``, ``service``, and optionally ``marketing_lite``,
``authentication_international``) to a price per message in ``currency``; ``countries``
maps a calling code (``"7"``, ``"49"``) to its own ``rates`` that override the defaults for
numbers starting with it.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

pricing_cards = sa.Table(
    "pricing_cards",
    metadata,
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("rates", JSONType, nullable=False),
    sa.Column("countries", JSONType, nullable=False, server_default="{}"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
