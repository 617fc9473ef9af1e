"""Templates: local ones an admin approves (device and web channels, or tenant-wide) and ones
synced from a cloud channel's ``message_templates``, whose status is Meta's to give.

A template is addressed by id or by name (with ``language`` and ``channel`` to disambiguate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.inputs import is_row_id
from wagate.domain.templates import (
    CONTENT_FIELDS,
    from_cloud,
    normalize_language,
    validate_content,
    validate_language,
    validate_name,
    validate_status,
)
from wagate.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.store.repos import templates as repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.tenants import Tenant

CREATE_FIELDS = ("name", "language", "channel", "status", *CONTENT_FIELDS)


def _forbid_status(is_admin: bool) -> None:
    if not is_admin:
        raise ForbiddenError("only an admin may set a template's status", field="status", code="forbidden")


async def _local_channel(rt: Runtime, tenant: Tenant, name: object) -> str:
    """'' for tenant-wide; otherwise an existing channel's name."""
    if name is None or name == "":
        return ""
    if not isinstance(name, str):
        raise ValidationError("channel must be a channel name", field="channel")
    from wagate.services.messages import resolve_channel

    row = await resolve_channel(rt, tenant, name)
    if row.kind == "cloud":
        raise ValidationError(
            f"templates of cloud channel {row.name!r} come from the Cloud API: POST /v1/templates/sync?channel={row.name}",
            field="channel",
            code="cloud_channel",
        )
    return row.name


async def create_template(rt: Runtime, tenant: Tenant, body: Mapping[str, Any], *, is_admin: bool) -> Any:
    """A new local template, ``pending`` unless an admin sets its status."""
    for key in body:
        if key not in CREATE_FIELDS:
            raise ValidationError(f"unknown field {key!r}", field=key)
    name = validate_name(body.get("name"))
    language = validate_language(body.get("language"))
    values = validate_content(body, partial=False)
    status = "pending"
    if body.get("status") is not None:
        _forbid_status(is_admin)
        status = validate_status(body["status"])
    channel = await _local_channel(rt, tenant, body.get("channel"))
    now = rt.clock.now()

    def job(conn: Connection) -> Any:
        if repo.find_templates(conn, tenant.id, name, language=language, channel=channel):
            where = f" on channel {channel!r}" if channel else ""
            raise ConflictError(f"template {name!r} ({language}){where} exists", field="name", code="exists")
        return repo.insert_template(
            conn,
            tenant.id,
            {**values, "name": name, "language": language, "channel": channel, "status": status, "source": "local"},
            now,
        )

    return await rt.db.write(job)


def _pick(conn: Connection, tenant: Tenant, ref: str, language: str | None, channel: str | None) -> Any:
    if ref.isascii() and ref.isdigit():
        row = repo.get_template(conn, tenant.id, int(ref)) if is_row_id(int(ref)) else None
        if row is None:
            raise NotFoundError(f"template {ref} not found", field="id")
        return row
    lang = normalize_language(language) if language else None
    rows = repo.find_templates(conn, tenant.id, ref, language=lang, channel=channel)
    if not rows:
        raise NotFoundError(f"template {ref!r} not found", field="name")
    if len(rows) > 1:
        raise ConflictError(
            f"template {ref!r} exists in several versions; name its language (and channel) or use its id",
            field="language",
            code="ambiguous",
        )
    return rows[0]


async def get_template(
    rt: Runtime, tenant: Tenant, ref: str, language: str | None = None, channel: str | None = None
) -> Any:
    return await rt.db.read(lambda c: _pick(c, tenant, ref, language, channel))


async def list_templates(rt: Runtime, tenant: Tenant, **filters: Any) -> list[Any]:
    if filters.get("language"):
        filters["language"] = normalize_language(filters["language"])
    return await rt.db.read(lambda c: repo.list_templates(c, tenant.id, **filters))


async def update_template(
    rt: Runtime,
    tenant: Tenant,
    ref: str,
    body: Mapping[str, Any],
    *,
    is_admin: bool,
    language: str | None = None,
    channel: str | None = None,
) -> Any:
    """Change content or status. Editing a local template as a non-admin sends it back to ``pending``;
    a synced template's content and status belong to Meta (only its local ``scope`` may change)."""
    for key in body:
        if key not in (*CONTENT_FIELDS, "status", "name", "language", "channel"):
            raise ValidationError(f"unknown field {key!r}", field=key)
    values = validate_content(body, partial=True)
    if "status" in body:
        _forbid_status(is_admin)
        values["status"] = validate_status(body["status"])
    now = rt.clock.now()

    def job(conn: Connection) -> Any:
        row = _pick(conn, tenant, ref, language, channel)
        for key in ("name", "language", "channel"):
            if key in body and body[key] != getattr(row, key) and not (key == "channel" and body[key] in (None, "")):
                raise ValidationError(f"{key} cannot change; create a new template", field=key)
        if row.source == "cloud":
            locked = sorted(k for k in values if k != "scope")
            if locked:
                raise ConflictError(
                    f"{locked[0]} of a template synced from the Cloud API is Meta's; change it there and sync",
                    field=locked[0],
                    code="synced_template",
                )
        content_changed = any(k in values and values[k] != getattr(row, k) for k in CONTENT_FIELDS if k != "scope")
        if content_changed and "status" not in values and not is_admin:
            values["status"] = "pending"
        if not values:
            return row
        return repo.update_template(conn, tenant.id, row.id, values, now)

    return await rt.db.write(job)


async def delete_template(
    rt: Runtime, tenant: Tenant, ref: str, language: str | None = None, channel: str | None = None
) -> None:
    def job(conn: Connection) -> None:
        row = _pick(conn, tenant, ref, language, channel)
        repo.delete_template(conn, tenant.id, row.id)

    await rt.db.write(job)


async def sync_templates(rt: Runtime, channel: ChannelRow, items: list[Any]) -> dict[str, Any]:
    """Upsert a cloud channel's templates as the Cloud API listed them (see ``domain.templates.from_cloud``).

    The list is the whole truth for the channel: synced templates missing from it are deleted.
    """
    parsed = [t for t in (from_cloud(item, channel.name) for item in items) if t is not None]
    now = rt.clock.now()
    counts = await rt.db.write(lambda c: repo.sync_channel(c, channel.tenant_id, channel.name, parsed, now))
    return {"channel": channel.name, **counts, "skipped": len(items) - len(parsed)}


async def sync_from_channel(rt: Runtime, tenant: Tenant, channel_name: str | None) -> dict[str, Any]:
    """Ask the channel for its templates (``list_templates``, cloud channels) and sync them."""
    from wagate.services.messages import resolve_channel

    row = await resolve_channel(rt, tenant, channel_name)
    if not rt.registry.knows(row.kind):
        raise ValidationError(f"channel kind {row.kind!r} is not available on this node", field="channel")
    instance = await rt.channel_instance(row)
    lister = getattr(instance, "list_templates", None)
    if lister is None:
        raise ValidationError(
            f"channel {row.name!r} ({row.kind}) has no template list to sync; create templates locally",
            field="channel",
            code="not_supported",
        )
    items = await lister()
    return await sync_templates(rt, row, list(items))


def template_json(row: Any) -> dict[str, Any]:
    template = repo.to_template(row)
    return {
        "id": row.id,
        "name": row.name,
        "language": row.language,
        "category": row.category,
        "scope": row.scope,
        "required_scope": template.required_scope,
        "body": row.body,
        "params": template.param_count,
        "header": row.header,
        "footer": row.footer,
        "buttons": list(row.buttons or []),
        "status": row.status,
        "provider_status": row.provider_status,
        "channel": row.channel or None,
        "source": row.source,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
