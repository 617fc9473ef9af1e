"""Use cases behind ``/v1/webhooks`` and ``/v1/events``: shared by the API and anything else.

Secrets: made here, shown to the caller once (on creation and on rotation), stored only
encrypted with ``rt.secret_box``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain import webhooks as domain
from wagate.domain.inputs import is_row_id
from wagate.domain.records import Tenant
from wagate.errors import ConflictError, NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.store.repos import webhooks as repo
from wagate.webhooks.formats import wants
from wagate.webhooks.signer import new_secret

MAX_ROTATION_GRACE = 7 * 86400
DEFAULT_ROTATION_GRACE = 86400
MAX_REPLAY = 1000


@dataclass(frozen=True, slots=True)
class Created:
    row: Any
    secret: str


def _wake(rt: Runtime) -> None:
    for poke in rt.hooks.webhook_pokes:
        poke()


async def create(rt: Runtime, tenant: Tenant, body: dict[str, Any]) -> Created:
    draft = domain.validate_subscription(body)
    secret = new_secret()
    stored = rt.secret_box.encrypt(secret)
    now = rt.clock.now()
    row = await rt.db.write(
        lambda c: repo.insert_subscription(
            c,
            tenant_id=tenant.id,
            url=draft.url,
            events_=draft.events,
            fmt=draft.format,
            description=draft.description,
            secret=stored,
            now=now,
        )
    )
    return Created(row, secret)


async def list_all(rt: Runtime, tenant: Tenant) -> list[Any]:
    return await rt.db.read(lambda c: repo.list_subscriptions(c, tenant.id))


def _found(row: Any | None, subscription_id: int) -> Any:
    if row is None:
        raise NotFoundError(f"webhook {subscription_id} not found", field="id")
    return row


async def get(rt: Runtime, tenant: Tenant, subscription_id: int) -> tuple[Any, dict[str, int]]:
    def job(conn: Connection) -> tuple[Any, dict[str, int]]:
        row = _found(repo.get_subscription(conn, tenant.id, subscription_id), subscription_id)
        return row, repo.delivery_counts(conn, subscription_id)

    return await rt.db.read(job)


async def callbacks(rt: Runtime, tenant: Tenant) -> tuple[Any, dict[str, int]]:
    def job(conn: Connection) -> tuple[Any, dict[str, int]]:
        row = repo.get_callbacks(conn, tenant.id)
        if row is None:
            raise NotFoundError("no per-message callbacks yet: rotate the callbacks secret to create it", field="id")
        return row, repo.delivery_counts(conn, int(row.id))

    return await rt.db.read(job)


async def delete(rt: Runtime, tenant: Tenant, subscription_id: int) -> None:
    deleted = await rt.db.write(lambda c: repo.delete_subscription(c, tenant.id, subscription_id))
    if not deleted:
        raise NotFoundError(f"webhook {subscription_id} not found", field="id")


async def update(rt: Runtime, tenant: Tenant, subscription_id: int, body: dict[str, Any]) -> Any:
    """Change url, events, format, description; ``status: active`` re-enables a disabled one."""
    now = rt.clock.now()

    def job(conn: Connection) -> Any:
        row = _found(repo.get_subscription(conn, tenant.id, subscription_id), subscription_id)
        if row.kind != "subscription":
            raise ConflictError("the per-message callbacks sender has no url or events to change", field="id")
        values: dict[str, Any] = {}
        fmt = domain.validate_format(body["format"]) if "format" in body else row.format
        if "url" in body:
            values["url"] = domain.validate_url(body["url"])
        if "events" in body or "format" in body:
            values["events"] = domain.validate_events(body.get("events", row.events), fmt)
            values["format"] = fmt
        if "description" in body:
            values["description"] = domain.validate_subscription(
                {"url": row.url, "events": row.events, "format": row.format, "description": body["description"]}
            ).description
        if "status" in body:
            if body["status"] not in ("active", "disabled"):
                raise ValidationError("status must be active or disabled", field="status")
            values["status"] = body["status"]
            values["disabled_reason"] = None if body["status"] == "active" else "disabled through the API"
        return repo.update_subscription(conn, subscription_id, values, now)

    return await rt.db.write(job)


async def rotate(rt: Runtime, tenant: Tenant, subscription_id: int | None, body: dict[str, Any]) -> Created:
    """A new secret; the previous one keeps signing alongside for ``grace_seconds`` (default 24 h).

    ``subscription_id`` ``None`` is the tenant's per-message callbacks sender, created if needed.
    """
    grace = body.get("grace_seconds", DEFAULT_ROTATION_GRACE)
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= MAX_ROTATION_GRACE:
        raise ValidationError(f"grace_seconds must be an integer from 0 to {MAX_ROTATION_GRACE}", field="grace_seconds")
    secret = new_secret()
    stored = rt.secret_box.encrypt(secret)
    now = rt.clock.now()

    def job(conn: Connection) -> Any:
        if subscription_id is None:
            row = repo.get_callbacks(conn, tenant.id)
            if row is None:
                return repo.insert_subscription(
                    conn,
                    tenant_id=tenant.id,
                    url=None,
                    events_=["message.status"],
                    fmt="native",
                    description="per-message callback_url",
                    secret=stored,
                    now=now,
                    kind="callbacks",
                )
        else:
            row = _found(repo.get_subscription(conn, tenant.id, subscription_id), subscription_id)
        return repo.update_subscription(
            conn,
            int(row.id),
            {
                "secret": stored,
                "previous_secret": row.secret if grace else None,
                "previous_secret_until": now + timedelta(seconds=grace) if grace else None,
            },
            now,
        )

    return Created(await rt.db.write(job), secret)


async def deliveries(
    rt: Runtime, tenant: Tenant, subscription_id: int, *, status: str | None, before: int | None, limit: int
) -> list[tuple[Any, list[Any]]]:
    def job(conn: Connection) -> list[tuple[Any, list[Any]]]:
        _found(repo.get_subscription(conn, tenant.id, subscription_id), subscription_id)
        return repo.list_deliveries(conn, subscription_id, status=status, before_id=before, limit=limit)

    return await rt.db.read(job)


def _ids(value: Any, field: str) -> list[int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and is_row_id(v) for v in value
    ):
        raise ValidationError(f"{field} must be a list of integer ids", field=field)
    if len(value) > MAX_REPLAY:
        raise ValidationError(f"at most {MAX_REPLAY} ids per replay", field=field, code="too_long")
    return list(value)


async def replay(rt: Runtime, tenant: Tenant, subscription_id: int, body: dict[str, Any]) -> int:
    """Re-send: ``{"event_ids": [...]}`` chosen events, ``{"delivery_ids": [...]}`` chosen dead
    letters, or ``{}`` every dead letter of the subscription. Returns how many were queued.

    A replay is a new delivery with the same ``webhook-id`` (receivers dedupe on it), queued
    behind anything still open for the same message.
    """
    from wagate.domain.webhooks import ordering_key, target_of

    event_ids = _ids(body.get("event_ids"), "event_ids")
    delivery_ids = _ids(body.get("delivery_ids"), "delivery_ids")
    now = rt.clock.now()

    def job(conn: Connection) -> int:
        sub = _found(repo.get_subscription(conn, tenant.id, subscription_id), subscription_id)
        if sub.status != "active":
            raise ConflictError(
                "the subscription is disabled; re-enable it (PATCH status=active) before replaying", field="status"
            )
        rows: list[dict[str, Any]] = []
        if event_ids is not None:
            found = repo.tenant_events(conn, tenant.id, event_ids)
            missing = sorted(set(event_ids) - {int(e.id) for e in found})
            if missing:
                raise NotFoundError(f"events not found (or purged): {missing[:20]}", field="event_ids")
            for event in found:
                payload = event.payload or {}
                url = payload.get("callback_url") if sub.kind == "callbacks" else None
                fmt = ("devino" if payload.get("origin") == "devino" else "native") if url else sub.format
                if sub.kind == "callbacks" and (event.type != "message.status" or not url):
                    raise ValidationError(f"event {event.id} has no callback_url", field="event_ids")
                if sub.kind == "subscription" and event.type not in sub.events:
                    raise ValidationError(f"event {event.id} is a {event.type}, not subscribed", field="event_ids")
                if not wants(fmt, event.type, payload):
                    raise ValidationError(f"event {event.id} has no {fmt} form", field="event_ids")
                message_id = int(event.message_id) if event.message_id is not None else None
                rows.append(
                    repo.delivery_row(
                        tenant_id=tenant.id,
                        subscription_id=int(sub.id),
                        event_id=int(event.id),
                        event_type=event.type,
                        url=url,
                        fmt=fmt,
                        ordering_key=ordering_key(event.type, message_id, payload),
                        target=target_of(int(sub.id), url),
                        now=now,
                    )
                )
        else:
            dead = repo.dead_deliveries(conn, int(sub.id), delivery_ids)
            if delivery_ids is not None and len(dead) != len(set(delivery_ids)):
                found_ids = {int(r.id) for r in dead}
                missing = sorted(set(delivery_ids) - found_ids)
                raise NotFoundError(f"no dead letters with ids {missing[:20]}", field="delivery_ids")
            for row in dead[:MAX_REPLAY]:
                rows.append(
                    repo.delivery_row(
                        tenant_id=tenant.id,
                        subscription_id=int(sub.id),
                        event_id=int(row.event_id),
                        event_type=row.event_type,
                        url=row.url,
                        fmt=row.format,
                        ordering_key=row.ordering_key,
                        target=row.target,
                        now=now,
                    )
                )
            repo.mark_replayed(conn, [int(r.id) for r in dead[:MAX_REPLAY]], now)
        repo.enqueue(conn, rows)
        repo.notify_deliveries(conn)
        return len(rows)

    count = await rt.db.write(job)
    _wake(rt)
    return count


# ---------------------------------------------------------------------------------------------
# The pull feed


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: list[Any]
    next_cursor: int
    has_more: bool


def parse_cursor(value: str | None) -> int:
    if value is None or value == "":
        return 0
    text = value.removeprefix("evt_")
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not is_row_id(int(text)):
        raise ValidationError("cursor is not one this API returned", field="cursor")
    return int(text)


def parse_types(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    types: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if name not in domain.EVENT_TYPES:
                raise ValidationError(f"unknown event type {name!r}", field="types")
            types.append(name)
    return types or None


async def feed(rt: Runtime, tenant: Tenant, cursor: int, types: list[str] | None, limit: int) -> FeedPage:
    """Events after ``cursor`` in id order. ``next_cursor`` always moves forward past what was
    examined (even when nothing matched), so polling an idle feed never rescans."""

    def job(conn: Connection) -> FeedPage:
        horizon = repo.read_cursor(conn)
        rows = repo.feed(conn, tenant_id=tenant.id, after_id=cursor, horizon=horizon, types=types, limit=limit)
        if len(rows) == limit:
            return FeedPage(rows, int(rows[-1].id), True)
        return FeedPage(rows, max(cursor, horizon), False)

    return await rt.db.read(job)


def on_wake(rt: Runtime, poke: Callable[[], None]) -> None:
    rt.hooks.webhook_pokes.append(poke)
