"""Creating and changing delivery channels."""

from __future__ import annotations

from typing import Any

from wagate.domain.channels import merge_pacing, merge_policy, validate_kind, validate_name
from wagate.domain.records import ChannelRow, Tenant
from wagate.errors import ConflictError, NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.store.repos import channels as repo

MASK = "***"  # how ``domain.channels.public_settings`` shows a secret


async def create_channel(rt: Runtime, tenant: Tenant, body: dict[str, Any]) -> ChannelRow:
    name = validate_name(body.get("name"))
    kind_name = validate_kind(body.get("kind"), rt.registry.kinds)
    kind = rt.registry.get(kind_name)
    settings = body.get("settings") or {}
    if not isinstance(settings, dict):
        raise ValidationError("settings must be an object", field="settings")
    settings = kind.settings_for_storage(settings, rt.secret_box)
    pacing = merge_pacing(kind.pacing, None, body.get("pacing"), coexistence=settings.get("coexistence") is True)
    policy = merge_policy(kind.policy, None, body.get("policy"))
    is_default = bool(body.get("is_default", False))
    now = rt.clock.now()

    def job(conn: Any) -> ChannelRow:
        if repo.get_channel(conn, tenant.id, name) is not None:
            raise ConflictError(f"channel {name!r} exists", field="name", code="exists")
        first = not repo.list_channels(conn, tenant.id)
        return repo.insert_channel(
            conn,
            tenant_id=tenant.id,
            name=name,
            kind=kind_name,
            settings=settings,
            pacing=pacing,
            policy=policy,
            is_default=is_default or first,
            now=now,
        )

    row = await rt.db.write(job)
    rt.forget_channels(tenant.id)
    rt.wakeup.notify()
    return row


async def get_channel(rt: Runtime, tenant: Tenant, name: str) -> ChannelRow:
    row = await rt.db.read(lambda c: repo.get_channel(c, tenant.id, name))
    if row is None:
        raise NotFoundError(f"channel {name!r} not found", field="name")
    return row


async def update_channel(rt: Runtime, tenant: Tenant, name: str, body: dict[str, Any]) -> ChannelRow:
    current = await get_channel(rt, tenant, name)
    values: dict[str, Any] = {}
    if any(key in body for key in ("settings", "pacing", "policy")):
        kind = rt.registry.get(current.kind)  # a kind this node does not run cannot be reconfigured here
    if "settings" in body:
        if not isinstance(body["settings"], dict):
            raise ValidationError("settings must be an object", field="settings")
        # A client echoing back a masked secret ("***") keeps the stored one.
        changes = {k: v for k, v in body["settings"].items() if v != MASK}
        values["settings"] = kind.settings_for_storage({**current.settings, **changes}, rt.secret_box)
    coexistence = values.get("settings", current.settings).get("coexistence") is True
    if "pacing" in body or (coexistence and current.settings.get("coexistence") is not True):
        values["pacing"] = merge_pacing(kind.pacing, current.pacing, body.get("pacing"), coexistence=coexistence)
    if "policy" in body:
        values["policy"] = merge_policy(kind.policy, current.policy, body["policy"])
    if "is_default" in body:
        if not isinstance(body["is_default"], bool):
            raise ValidationError("is_default must be true or false", field="is_default")
        values["is_default"] = body["is_default"]
    if "status" in body:
        if body["status"] not in ("active", "paused"):
            raise ValidationError("status must be active or paused", field="status")
        values["status"] = body["status"]
    for key in body:
        if key not in ("settings", "pacing", "policy", "is_default", "status", "name", "kind"):
            raise ValidationError(f"unknown field {key!r}", field=key)
    if body.get("kind", current.kind) != current.kind:
        raise ValidationError("kind cannot change", field="kind")
    if not values:
        return current
    now = rt.clock.now()
    row = await rt.db.write(lambda c: repo.update_channel(c, current.id, values, now))
    rt.forget_channels(tenant.id)
    rt.wakeup.notify()
    return row
