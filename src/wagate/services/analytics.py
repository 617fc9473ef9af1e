"""Operators' response analytics for a period: gathered from the store, computed by
``domain.analytics``, shaped as JSON and CSV for ``/v1/analytics/operators`` and the dashboard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from wagate.domain.analytics import (
    AnalyticsSettings,
    Report,
    Summary,
    Thread,
    ThreadMessage,
    analyze,
    prior_of,
    validate_settings,
)
from wagate.domain.inputs import check_moment
from wagate.domain.policy import TenantPolicy
from wagate.domain.records import Tenant
from wagate.errors import ValidationError
from wagate.runtime import Runtime
from wagate.store.repos import analytics as repo
from wagate.store.repos import users as user_repo

MAX_PERIOD = timedelta(days=366)
DEFAULT_DAYS = 7


def settings_of(stored: Mapping[str, Any]) -> AnalyticsSettings:
    """A tenant's analytics settings; days are counted in its policy time zone unless working hours say."""
    return AnalyticsSettings.of(stored.get("analytics"), TenantPolicy.of(dict(stored)).timezone)


async def get_settings(rt: Runtime, tenant: Tenant) -> AnalyticsSettings:
    stored = await rt.db.read(lambda c: repo.tenant_settings(c, tenant.id))
    return settings_of(stored)


async def update_settings(rt: Runtime, tenant: Tenant, body: Mapping[str, Any]) -> AnalyticsSettings:
    def job(conn: Connection) -> dict[str, Any]:
        stored = repo.tenant_settings(conn, tenant.id)
        merged = validate_settings(stored.get("analytics") or {}, body)
        return repo.set_analytics_settings(conn, tenant.id, merged)

    stored = await rt.db.write(job)
    rt.caches.forget_principals()
    return settings_of(stored)


def _moment(value: str | None, field: str, settings: AnalyticsSettings, *, end: bool) -> datetime | None:
    """``YYYY-MM-DD`` (a whole local day: ``until`` includes it) or an ISO date-time."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if end:
                day += timedelta(days=1)
            return check_moment(datetime.combine(day, time(), settings.tz), field)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not moment.tzinfo:
            moment = moment.replace(tzinfo=settings.tz)
        return check_moment(moment, field)
    except (ValueError, OverflowError) as exc:
        raise ValidationError("a date (YYYY-MM-DD) or an ISO 8601 date-time is required", field=field) from exc


def period(
    since: str | None, until: str | None, settings: AnalyticsSettings, now: datetime
) -> tuple[datetime, datetime]:
    """The period asked for; by default the last 7 local days, today included (to its end)."""
    end = _moment(until, "until", settings, end=True)
    if end is None:
        end = datetime.combine(now.astimezone(settings.tz).date() + timedelta(days=1), time(), settings.tz)
    start = _moment(since, "since", settings, end=False)
    if start is None:
        last_day = (end - timedelta(microseconds=1)).astimezone(settings.tz).date()
        first_day = last_day - timedelta(days=DEFAULT_DAYS - 1)
        start = datetime.combine(first_day, time(), settings.tz)
    if start >= end:
        raise ValidationError("since must be earlier than until", field="since")
    if end - start > MAX_PERIOD:
        raise ValidationError("a period is at most 366 days", field="since")
    return start, end


async def operators_report(
    rt: Runtime,
    tenant: Tenant,
    *,
    since: str | None = None,
    until: str | None = None,
    sla_minutes: float | None = None,
) -> tuple[Report, dict[str, str]]:
    """The report and the operators' display names (login → name)."""
    settings = await get_settings(rt, tenant)
    if sla_minutes is not None:
        if not 0 < sla_minutes <= 7 * 24 * 60:
            raise ValidationError("sla_minutes is above 0 and at most a week", field="sla_minutes")
        settings = AnalyticsSettings(
            sla=timedelta(minutes=sla_minutes),
            working_hours=settings.working_hours,
            dialogue_gap=settings.dialogue_gap,
            tz=settings.tz,
        )
    now = rt.clock.now()
    start, end = period(since, until, settings, now)

    def job(conn: Connection) -> tuple[list[Thread], dict[str, str]]:
        rows = repo.period_messages(conn, tenant.id, start, end)
        by_thread: dict[repo.Key, list[ThreadMessage]] = {}
        for row in rows:
            by_thread.setdefault((row.channel_id, row.phone), []).append(
                ThreadMessage(
                    at=row.created_at,
                    inbound=row.direction == "in",
                    operator=row.operator,
                    status=row.status,
                    type=row.type,
                )
            )
        prior = repo.before(conn, tenant.id, set(by_thread), start)
        assigned = repo.assignees(conn, tenant.id, set(by_thread))
        threads = []
        for key, items in by_thread.items():
            facts = prior.get(key, {})
            threads.append(
                Thread(
                    key=f"{key[0]}:{key[1]}",
                    messages=items,
                    prior=prior_of(
                        facts.get("last_reply"),
                        facts.get("first_unanswered"),
                        facts.get("last_client"),
                        settings.dialogue_gap,
                    ),
                    assignee=assigned.get(key),
                )
            )
        return threads, user_repo.names_by_login(conn, tenant.id)

    threads, names = await rt.db.read(job)
    return analyze(threads, start, end, settings, now), names


# ---------------------------------------------------------------- shapes


def _operator_json(summary: Summary) -> dict[str, Any]:
    """An operator's numbers: client messages are the team's (nobody "receives" them alone)."""
    data = summary.as_json()
    del data["client_messages"]
    return data


def report_json(report: Report, names: Mapping[str, str]) -> dict[str, Any]:
    operators = []
    for login, summary in report.operators.items():
        daily = report.operators_daily.get(login, {})
        operators.append(
            {
                "operator": login,
                "name": names.get(login, login),
                **_operator_json(summary),
                "daily": [
                    {"day": day.isoformat(), **_operator_json(daily[day])} for day in report.days if day in daily
                ],
            }
        )
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "settings": report.settings.as_json(),
        "team": {**report.team.as_json(), "unassigned_unanswered": report.unassigned_unanswered},
        "operators": operators,
        "daily": [{"day": day.isoformat(), **report.team_daily[day].as_json()} for day in report.days],
    }


CSV_COLUMNS = (
    "day",
    "operator",
    "name",
    "conversations",
    "messages_sent",
    "client_messages",
    "responses",
    "response_median_s",
    "response_p90_s",
    "first_responses",
    "first_response_median_s",
    "first_response_p90_s",
    "within_sla",
    "sla_share",
    "unanswered",
)
TEAM = "*"


def _csv_row(day: str, operator: str, name: str, summary: Summary) -> list[Any]:
    data = summary.as_json()
    if operator != TEAM:
        data["client_messages"] = None
    return [
        day,
        operator,
        name,
        data["conversations"],
        data["messages_sent"],
        data["client_messages"],
        data["responses"],
        data["response_time"]["median_s"],
        data["response_time"]["p90_s"],
        data["first_responses"],
        data["first_response_time"]["median_s"],
        data["first_response_time"]["p90_s"],
        data["within_sla"],
        data["sla_share"],
        data["unanswered"],
    ]


def report_csv(report: Report, names: Mapping[str, str]) -> str:
    """The same numbers as the JSON: whole-period rows (``day`` empty), then one row per day.

    ``operator`` ``*`` is the whole team; empty cells are "no value" (no responses to measure).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(_csv_row("", TEAM, "", report.team))
    for login, summary in report.operators.items():
        writer.writerow(_csv_row("", login, names.get(login, login), summary))
    for day in report.days:
        writer.writerow(_csv_row(day.isoformat(), TEAM, "", report.team_daily[day]))
        for login, daily in report.operators_daily.items():
            writer.writerow(_csv_row(day.isoformat(), login, names.get(login, login), daily[day]))
    return out.getvalue()
