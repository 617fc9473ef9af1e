"""Tables of outbound webhooks: subscriptions, one delivery per (event, target), every attempt.

The ``events`` table (``wagate.store.tables``) is the outbox. A fan-out pass reads it forward
from ``webhook_cursor`` and writes one ``webhook_deliveries`` row per matching target in the
same transaction as the cursor move, so every event is fanned out exactly once and a restart
resumes where the last commit left off. Delivery state lives only here — nothing that matters
is kept in memory.

Delivery statuses:

* ``blocked``  — an earlier delivery of the same ordering key (same message, same target) is
  not finished yet; promoted to ``pending`` when that one is delivered or dead-lettered.
* ``pending``  — due at ``next_attempt_at``.
* ``sending``  — claimed under a lease (``lease_owner``, ``lease_expires_at``).
* ``delivered`` — a 2xx answer was received.
* ``dead``     — retries exhausted, or the target answered 410 Gone: the dead-letter list.
* ``replayed`` — a dead letter that was re-sent as a new delivery.
"""

from __future__ import annotations

import sqlalchemy as sa

from wagate.store.tables import BigId, metadata
from wagate.store.types import JSONType, UTCDateTime

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    # ``subscription``: a CRM endpoint; ``callbacks``: the tenant's per-message callback_url sender.
    sa.Column("kind", sa.String(16), nullable=False, server_default="subscription"),
    sa.Column("url", sa.Text(), nullable=True),
    sa.Column("events", JSONType, nullable=False, server_default="[]"),
    sa.Column("format", sa.String(16), nullable=False, server_default="native"),
    sa.Column("description", sa.String(200), nullable=True),
    # Fernet-encrypted (``Runtime.secret_box``); never stored in clear.
    sa.Column("secret", sa.Text(), nullable=False),
    sa.Column("previous_secret", sa.Text(), nullable=True),
    sa.Column("previous_secret_until", UTCDateTime(), nullable=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("disabled_reason", sa.Text(), nullable=True),
    # Events up to this id happened before the subscription existed and are not sent to it.
    sa.Column("start_after_event_id", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_webhook_subscriptions_tenant", "tenant_id", "kind"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("subscription_id", BigId, sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False),
    # No foreign key: events are purged on their own schedule (never while a delivery needs them).
    sa.Column("event_id", sa.BigInteger(), nullable=False),
    sa.Column("event_type", sa.String(32), nullable=False),
    # Per-message callbacks carry their own URL; subscriptions use the subscription's.
    sa.Column("url", sa.Text(), nullable=True),
    sa.Column("format", sa.String(16), nullable=False),
    # Deliveries with the same (subscription, ordering key) go out strictly one after another.
    sa.Column("ordering_key", sa.String(200), nullable=True),
    # Concurrency bucket: the subscription, or the host of a per-message callback URL.
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    sa.Column("last_status_code", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at", "target"),
    # (key, status) first: "open deliveries of these messages" is an index-only lookup.
    sa.Index("ix_webhook_deliveries_order", "ordering_key", "status", "subscription_id", "id"),
    sa.Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
    sa.Index("ix_webhook_deliveries_event", "event_id"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", BigId, sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=True),
    sa.Column("latency_ms", sa.Float(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("response", sa.Text(), nullable=True),
    sa.Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)

webhook_cursor = sa.Table(
    "webhook_cursor",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    # Every event id <= this one has been fanned out (or is a gap that will never be filled).
    sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
