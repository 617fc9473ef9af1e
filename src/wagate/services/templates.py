"""Templates: local ones an admin approves (device and web channels, or tenant-wide) and ones
synced from a cloud channel's ``message_templates``, whose status is Meta's to give.

A template is addressed by id or by name (with ``language`` and ``channel`` to disambiguate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.inputs import is_row_id
from wagate.domain.records import ChannelRow, Tenant
from wagate.domain.templates import (
    CATEGORIES,
    CLOUD_STATUS,
    CONTENT_FIELDS,
    from_cloud,
    normalize_language,
    validate_content,
    validate_language,
    validate_name,
    validate_status,
)
from wagate.errors import ChannelError, ConflictError, ForbiddenError, NotFoundError, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.store.repos import templates as repo
from wagate.store.repos.events import append_event

CREATE_FIELDS = ("name", "language", "channel", "status", *CONTENT_FIELDS)


def _forbid_status(is_admin: bool) -> None:
    if not is_admin:
        raise ForbiddenError("only an admin may set a template's status", field="status", code="forbidden")


async def _target_channel(rt: Runtime, tenant: Tenant, name: object) -> ChannelRow | None:
    """None for tenant-wide; otherwise an existing channel."""
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        raise ValidationError("channel must be a channel name", field="channel")
    from wagate.services.messages import resolve_channel

    return await resolve_channel(rt, tenant, name)


def _cloud_submittable(values: dict[str, Any]) -> None:
    header = values.get("header")
    if isinstance(header, dict) and header.get("type") != "text":
        raise ValidationError(
            "a media header needs a sample uploaded to Meta: create this template in WhatsApp Manager, then sync",
            field="header.type",
            code="not_supported",
        )


def _examples(body: Mapping[str, Any]) -> list[str] | None:
    examples = body.get("examples")
    if examples is None:
        return None
    if not isinstance(examples, list) or not all(isinstance(e, str) and 0 < len(e) <= 200 for e in examples):
        raise ValidationError("examples must be a list of sample values, one per {{n}}", field="examples")
    return list(examples)


async def _submit(
    rt: Runtime,
    tenant: Tenant,
    channel: ChannelRow,
    name: str,
    language: str,
    values: dict[str, Any],
    examples: list[str] | None,
) -> Any:
    """Submit to the channel's WABA, then store Meta's answer as a Meta-owned (``cloud``) template."""
    from wagate.channels.cloud.payloads import template_submission

    instance = await rt.channel_instance(channel)
    submit = getattr(instance, "submit_template", None)
    if submit is None:
        raise ValidationError(
            f"channel {channel.name!r} cannot submit templates", field="channel", code="not_supported"
        )
    body = template_submission(name, language, values, examples)
    try:
        answer = await submit(body)
    except ChannelError as exc:
        if exc.code == "provider_rejected" or exc.code == "missing_waba_id":
            raise ValidationError(
                f"Meta refused the template on channel {channel.name!r}: {exc.message}",
                field="name",
                code="provider_rejected",
            ) from exc
        raise
    raw_status = str(answer.get("status") or "PENDING").upper()
    status = CLOUD_STATUS.get(raw_status, "pending")
    category = str(answer.get("category") or values["category"]).lower()
    now = rt.clock.now()
    stored = {
        **values,
        "category": category if category in CATEGORIES else values["category"],
        "name": name,
        "language": language,
        "channel": channel.name,
        "status": status,
        "source": "cloud",
        "provider_status": raw_status,
        "provider_id": str(answer["id"]) if answer.get("id") is not None else None,
    }

    def job(conn: Connection) -> Any:
        taken = repo.find_templates(conn, tenant.id, name, language=language, channel=channel.name)
        for row in taken:  # a stale copy (Meta lists it too, or a sync raced us): Meta's answer wins
            repo.delete_template(conn, tenant.id, row.id)
        return repo.insert_template(conn, tenant.id, stored, now)

    return await rt.db.write(job)


async def cloud_channels(rt: Runtime, tenant: Tenant) -> list[ChannelRow]:
    """The tenant's cloud channels that can hold templates (they name their WABA)."""
    rows = (await rt.channels_of(tenant.id, fresh=True)).values()
    return sorted((r for r in rows if r.kind == "cloud" and r.settings.get("waba_id")), key=lambda r: r.name)


async def create_template(rt: Runtime, tenant: Tenant, body: Mapping[str, Any], *, is_admin: bool) -> Any:
    """A new template.

    On a cloud channel it is Meta's: submitted to the channel's WABA with examples, stored with
    Meta's status (an admin cannot set it). Tenant-wide, it is a local template (``pending``
    unless an admin sets its status) for device and web channels, and is also submitted to every
    cloud channel of the tenant; ``submissions`` in the answer says how each went.
    """
    for key in body:
        if key not in (*CREATE_FIELDS, "examples"):
            raise ValidationError(f"unknown field {key!r}", field=key)
    name = validate_name(body.get("name"))
    language = validate_language(body.get("language"))
    values = validate_content(body, partial=False)
    examples = _examples(body)
    channel = await _target_channel(rt, tenant, body.get("channel"))
    if channel is not None and channel.kind == "cloud":
        if body.get("status") is not None:
            raise ValidationError(
                f"the status of a template on cloud channel {channel.name!r} is Meta's review",
                field="status",
                code="meta_owned",
            )
        _cloud_submittable(values)
        exists = await rt.db.read(
            lambda c: repo.find_templates(c, tenant.id, name, language=language, channel=channel.name)
        )
        if exists:
            raise ConflictError(
                f"template {name!r} ({language}) on channel {channel.name!r} exists", field="name", code="exists"
            )
        return await _submit(rt, tenant, channel, name, language, values, examples)
    status = "pending"
    if body.get("status") is not None:
        _forbid_status(is_admin)
        status = validate_status(body["status"])
    channel_name = channel.name if channel is not None else ""
    now = rt.clock.now()

    def job(conn: Connection) -> Any:
        if repo.find_templates(conn, tenant.id, name, language=language, channel=channel_name):
            where = f" on channel {channel_name!r}" if channel_name else ""
            raise ConflictError(f"template {name!r} ({language}){where} exists", field="name", code="exists")
        return repo.insert_template(
            conn,
            tenant.id,
            {
                **values,
                "name": name,
                "language": language,
                "channel": channel_name,
                "status": status,
                "source": "local",
            },
            now,
        )

    row = await rt.db.write(job)
    if channel is not None:
        return row
    submissions: list[dict[str, Any]] = []
    for cloud in await cloud_channels(rt, tenant):
        try:
            _cloud_submittable(values)
            submitted = await _submit(rt, tenant, cloud, name, language, values, examples)
        except WagateError as exc:
            submissions.append({"channel": cloud.name, "error": {"code": exc.code, "message": exc.message}})
        else:
            submissions.append({"channel": cloud.name, "id": submitted.id, "status": submitted.status})
    return TemplateCreated(row, submissions)


@dataclass(frozen=True, slots=True)
class TemplateCreated:
    """A tenant-wide template and what its submission to each cloud channel of the tenant gave."""

    row: Any
    submissions: list[dict[str, Any]]


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

    def job(conn: Connection) -> dict[str, int]:
        before = {
            (r.name, r.language): r
            for r in repo.list_templates(conn, channel.tenant_id, channel=channel.name, limit=100_000)
        }
        counts = repo.sync_channel(conn, channel.tenant_id, channel.name, parsed, now)
        for row in repo.list_templates(conn, channel.tenant_id, channel=channel.name, limit=100_000):
            old = before.get((row.name, row.language))
            if (
                row.source != "cloud"
                or old is None
                or (old.provider_status, old.category)
                == (
                    row.provider_status,
                    row.category,
                )
            ):
                continue
            # A change the webhooks did not tell (one was lost, or the node was down): the CRM hears it now.
            append_event(
                conn,
                tenant_id=channel.tenant_id,
                type="template.status",
                now=now,
                payload={
                    "template_id": row.id,
                    "name": row.name,
                    "language": row.language,
                    "channel": row.channel,
                    "change": "sync",
                    "status": row.status,
                    "provider_status": row.provider_status,
                    "category": row.category,
                    "reason": (row.provider_info or {}).get("reason"),
                    "quality": (row.provider_info or {}).get("quality"),
                    "category_change": (row.provider_info or {}).get("category_change"),
                    "at": now.isoformat(),
                },
            )
        return counts

    counts = await rt.db.write(job)
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
        "provider_id": row.provider_id,
        "provider_info": row.provider_info,
        "channel": row.channel or None,
        "source": row.source,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


#: Meta's status events that do not map onto a review outcome: FLAGGED keeps the template sendable
#: (its quality dropped, a pause may follow); REINSTATED lifts a pause.
META_EVENT_STATUS = {**CLOUD_STATUS, "REINSTATED": "approved", "UNPAUSED": "approved"}


def _event_changes(row: Any, event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column values, provider_info) a template webhook gives one stored template."""
    info: dict[str, Any] = dict(row.provider_info or {})
    values: dict[str, Any] = {}
    if event.field == "message_template_status_update" and event.status:
        values["provider_status"] = event.status
        status = META_EVENT_STATUS.get(event.status)
        if status is not None:
            values["status"] = status
        if event.reason:
            info["reason"] = event.reason
        elif status == "approved":
            info.pop("reason", None)
    elif event.field == "template_category_update":
        if event.impending:
            info["category_change"] = {
                "to": (event.correct_category or "").lower(),
                "at": event.category_update_at.isoformat() if event.category_update_at else None,
            }
        elif event.new_category and event.new_category.lower() in CATEGORIES:
            values["category"] = event.new_category.lower()
            info.pop("category_change", None)
            if event.previous_category:
                info["previous_category"] = event.previous_category.lower()
    elif event.field == "message_template_quality_update" and event.quality:
        info["quality"] = event.quality
    values["provider_info"] = info
    return values, info


async def apply_meta_event(rt: Runtime, channel: ChannelRow, event: Any) -> int:
    """Follow one of Meta's template webhooks on every cloud channel of the tenant sharing that WABA,
    with a ``template.status`` event per template changed. Returns how many templates changed."""
    waba = event.waba_id or channel.settings.get("waba_id")
    rows = (await rt.channels_of(channel.tenant_id)).values()
    names = sorted(
        {r.name for r in rows if r.kind == "cloud" and str(r.settings.get("waba_id") or "") == str(waba)}
        | {channel.name}
    )
    language = normalize_language(event.language) if event.language else None
    now = rt.clock.now()

    def job(conn: Connection) -> int:
        changed = 0
        for row in repo.meta_rows(conn, channel.tenant_id, names, event.template_id, event.name, language):
            values, info = _event_changes(row, event)
            if event.template_id and not row.provider_id:
                values["provider_id"] = event.template_id
            updated = repo.update_template(conn, channel.tenant_id, row.id, values, now)
            append_event(
                conn,
                tenant_id=channel.tenant_id,
                type="template.status",
                now=now,
                payload={
                    "template_id": row.id,
                    "name": row.name,
                    "language": row.language,
                    "channel": row.channel,
                    "change": event.field,
                    "status": updated.status,
                    "provider_status": updated.provider_status,
                    "category": updated.category,
                    "reason": info.get("reason"),
                    "quality": info.get("quality"),
                    "category_change": info.get("category_change"),
                    "at": now.isoformat(),
                },
            )
            changed += 1
        return changed

    return await rt.db.write(job)
