"""Operational warnings about cloud channels: a Graph API version Meta is about to retire.

Read by ``/readyz`` (a ``warnings`` list; never a reason to report "not ready": the node
serves, Meta will refuse later), the dashboard's operations page, and logged once when a
channel starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from wagate.channels.cloud.versions import DEFAULT_API_VERSION, notice
from wagate.store.repos.channels import ChannelRow


def channel_version(row: ChannelRow) -> str:
    return str(row.settings.get("api_version") or DEFAULT_API_VERSION)


def version_warnings(rows: Iterable[ChannelRow], today: date) -> list[dict[str, Any]]:
    """One item per cloud channel whose Graph API version retires within the warning period."""
    out: list[dict[str, Any]] = []
    for row in rows:
        if row.kind != "cloud":
            continue
        found = notice(channel_version(row), today)
        if found.warns:
            out.append(
                {"kind": "graph_api_version", "tenant_id": row.tenant_id, "channel": row.name, **found.as_json()}
            )
    return out
