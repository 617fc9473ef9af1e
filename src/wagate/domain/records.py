"""The core records every layer speaks of, as typed rows: a tenant, a caller, a dashboard user, a channel.

The store's repositories build them from rows and return them (``store.repos.tenants``,
``store.repos.users``, ``store.repos.channels``); the services, the dispatcher, the channels and
the doors read them without importing the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["ChannelRow", "Principal", "Tenant", "User"]


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    default_region: str
    #: The tenant's settings object (JSON: policy, webhook formats …).
    settings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's tenant and role."""

    tenant: Tenant
    role: str
    token_id: int
    token_name: str


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard user."""

    id: int
    tenant: Tenant
    login: str
    role: str
    name: str | None
    locale: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return self.name or self.login


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """A delivery channel: its kind, settings, pacing and policy (JSON objects, complete: the
    kind's defaults were merged in when it was created)."""

    id: int
    tenant_id: int
    name: str
    kind: str
    settings: dict[str, Any]
    pacing: dict[str, Any]
    policy: dict[str, Any]
    is_default: bool
    status: str
    created_at: datetime
    updated_at: datetime
