"""The webhook delivery log page (admins): subscriptions, their recent deliveries, replay.

It reads the same rows ``GET /v1/webhooks/{id}/deliveries`` reads and replays through the
same use case as ``POST /v1/webhooks/{id}/replay`` (``webhooks.service.replay``), so the page
and the API can never disagree about what a replay does. Plain HTML forms, then a 303 back to
the page with the result, like the other administration pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import Connection

from wagate.api.deps import RuntimeDep
from wagate.api.v1.webhooks import DELIVERY_STATUSES
from wagate.dashboard.auth import AdminUserDep
from wagate.dashboard.render import DashboardRoute, context, render
from wagate.domain.records import User
from wagate.errors import ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.store.repos import webhooks as repo
from wagate.webhooks import service

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

PAGE = "/dashboard/webhooks"
#: Deliveries shown per subscription on the whole page, and when one subscription is chosen.
RECENT = 20
FOCUSED = 200


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row of the log: the delivery, the message its event is about, its attempts."""

    row: Any
    message_id: int | None
    attempts: list[Any]

    @property
    def latency_ms(self) -> float | None:
        """The latency of the last attempt that got an answer or an error (``None`` before any)."""
        return self.attempts[-1].latency_ms if self.attempts else None

    @property
    def next_attempt_at(self) -> Any:
        return self.row.next_attempt_at if self.row.status in ("pending", "blocked") else None


@dataclass(frozen=True, slots=True)
class Target:
    subscription: Any
    counts: dict[str, int]
    deliveries: list[Delivery]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _log(conn: Connection, tenant_id: int, status: str | None, only: int | None) -> list[Target]:
    subscriptions = repo.list_subscriptions(conn, tenant_id)
    callbacks = repo.get_callbacks(conn, tenant_id)
    if callbacks is not None:
        subscriptions.append(callbacks)
    if only is not None:
        subscriptions = [s for s in subscriptions if int(s.id) == only]
    limit = FOCUSED if only is not None else RECENT
    logs = [repo.list_deliveries(conn, int(s.id), status=status, before_id=None, limit=limit) for s in subscriptions]
    # The message an event is about lives on the event (deliveries do not copy it); a purged
    # event simply shows no message id.
    event_ids = sorted({int(d.event_id) for log in logs for d, _ in log})
    messages = {}
    for start in range(0, len(event_ids), 500):
        for event in repo.tenant_events(conn, tenant_id, event_ids[start : start + 500]):
            messages[int(event.id)] = int(event.message_id) if event.message_id is not None else None
    return [
        Target(
            subscription=s,
            counts=repo.delivery_counts(conn, int(s.id)),
            deliveries=[Delivery(d, messages.get(int(d.event_id)), attempts) for d, attempts in log],
        )
        for s, log in zip(subscriptions, logs, strict=True)
    ]


async def _show(
    request: Request, rt: Runtime, user: User, *, error: str | None = None, status_code: int = 200
) -> Response:
    status = request.query_params.get("status") or None
    if status not in (None, *DELIVERY_STATUSES):
        status = None
    only = _int(request.query_params.get("subscription"))
    targets = await rt.db.read(lambda c: _log(c, user.tenant.id, status, only))
    ctx = context(
        request,
        user,
        targets=targets,
        status=status,
        statuses=DELIVERY_STATUSES,
        only=only,
        error=error,
        replayed=_int(request.query_params.get("replayed")),
        done=request.query_params.get("done"),
    )
    return render("webhooks.html", ctx, status=status_code)


@router.get(PAGE)
async def webhooks_page(request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    return await _show(request, rt, user)


def _event_id(value: str) -> int:
    text = value.strip().removeprefix("evt_")
    if not text.isdigit():
        raise ValidationError("an event id is a number (or evt_ and a number)", field="event_id")
    return int(text)


def _back(request: Request, **params: str | int) -> str:
    """The page as it was (same filter), with the outcome in the query."""
    keep: dict[str, str | int] = {}
    if (status := request.query_params.get("status")) in DELIVERY_STATUSES:
        keep["status"] = str(status)
    if (only := _int(request.query_params.get("subscription"))) is not None:
        keep["subscription"] = only
    return f"{PAGE}?{urlencode({**keep, **params})}"


@router.post(PAGE + "/{subscription_id}/replay")
async def replay(subscription_id: int, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    """Re-send one chosen event, one dead letter, or (no field) every dead letter of the subscription."""
    form = await request.form()
    event_id = str(form.get("event_id") or "")
    delivery_id = str(form.get("delivery_id") or "")
    try:
        body: dict[str, Any] = {}
        if event_id.strip():
            body["event_ids"] = [_event_id(event_id)]
        elif delivery_id.isdigit():
            body["delivery_ids"] = [int(delivery_id)]
        count = await service.replay(rt, user.tenant, subscription_id, body)
    except WagateError as exc:
        if exc.code == "forbidden":
            raise
        return await _show(request, rt, user, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(_back(request, replayed=count), status_code=303)


@router.post(PAGE + "/{subscription_id}/enable")
async def enable(subscription_id: int, request: Request, rt: RuntimeDep, user: AdminUserDep) -> Response:
    """Re-enable a subscription that a ``410 Gone`` (or the API) disabled, so it can be replayed."""
    try:
        await service.update(rt, user.tenant, subscription_id, {"status": "active"})
    except WagateError as exc:
        if exc.code == "forbidden":
            raise
        return await _show(request, rt, user, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(_back(request, done="enabled"), status_code=303)
