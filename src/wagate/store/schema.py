"""The complete metadata: every module that defines tables is imported here.

Alembic's autogenerate and the migration check test compare the database against this.
Feature packages add their table modules to the import list below.
"""

from __future__ import annotations

import wagate.store.automation_tables  # (automation settings, bot states, callback requests)
import wagate.store.campaign_tables  # (campaigns and their recipients)
import wagate.store.dashboard_tables  # (users, sessions, conversations, notes)
import wagate.store.policy_tables  # (templates, consents, refusals, counters)
import wagate.store.recurring_tables  # noqa: F401  (recurring campaign schedules and their runs)
from wagate.store import (
    cloud_tables,  # noqa: F401  (registers its tables)
    deployment_tables,  # noqa: F401  (the deployment's shared key-value settings)
    device_tables,  # noqa: F401  (registers the device channel's tables)
    dispatch_tables,  # noqa: F401  (registers the dispatcher's tables)
    pricing_tables,  # noqa: F401  (the tenants' rate cards)
    web_tables,  # noqa: F401  (the web channel's sessions and LID map)
    webhooks_tables,  # noqa: F401  (registers the webhook tables)
)
from wagate.store.tables import metadata

__all__ = ["metadata"]
