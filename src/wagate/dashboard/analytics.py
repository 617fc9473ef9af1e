"""The analytics page: the operators' table, per-day charts (SVG) and the CSV of the same numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from wagate.api.deps import RuntimeDep
from wagate.dashboard import charts
from wagate.dashboard.auth import UserDep
from wagate.dashboard.i18n import Translate, duration, translator
from wagate.dashboard.render import DashboardRoute, context, render
from wagate.domain.analytics import Report, Summary
from wagate.services import analytics as service
from wagate.services import pricing as pricing_service

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


def _seconds(value: float, t: Translate) -> str:
    """Durations for an axis: tenths below 10 s (a fast sandbox answers in under a second)."""
    if value >= 10:
        return duration(value, t)
    return t("unit_s", n=f"{value:.1f}".rstrip("0").rstrip("."))


def _charts(report: Report, operator: str | None, t: Translate) -> dict[str, Any]:
    daily: dict[Any, Summary] = report.operators_daily.get(operator, {}) if operator else report.team_daily
    labels = [day.strftime("%d.%m") for day in report.days]
    summaries = [daily.get(day, Summary()) for day in report.days]
    response = [
        charts.Series(t("median"), "s-median", [s.response_median_s for s in summaries]),
        charts.Series(t("p90"), "s-p90", [s.response_p90_s for s in summaries]),
    ]
    team_days = [report.team_daily[day] for day in report.days]
    volume = [
        charts.Series(t("client_messages"), "s-in", [float(s.client_messages) for s in team_days]),
        charts.Series(t("operator_messages"), "s-out", [float(s.messages) for s in summaries]),
    ]
    return {
        "response_chart": charts.line_chart(t("chart_response"), labels, response, lambda v: _seconds(v, t)),
        "response_legend": charts.legend(response),
        "volume_chart": charts.bar_chart(t("chart_volume"), labels, volume),
        "volume_legend": charts.legend(volume),
    }


@router.get("/dashboard/analytics")
async def analytics_page(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    params = request.query_params
    since, until = params.get("since") or None, params.get("until") or None
    report, names = await service.operators_report(rt, user.tenant, since=since, until=until)
    operator = params.get("operator") or None
    if operator not in report.operators:
        operator = None
    t = translator(user.locale)
    hours = report.settings.working_hours
    hours_text = None
    if hours is not None:
        days = ", ".join(t(f"day_{d}") for d in sorted(hours.days))
        hours_text = f"{days} {hours.start:%H:%M}–{hours.end:%H:%M} ({hours.tz.key})"
    tz = report.settings.tz
    costs = {
        group: (await pricing_service.costs_report(rt, user.tenant, group=group, since=since, until=until))
        for group in ("day", "operator", "campaign")
    }
    ctx = context(
        request,
        user,
        report=report,
        names=names,
        operator=operator,
        since_value=report.since.astimezone(tz).date().isoformat(),
        until_value=(report.until - timedelta(microseconds=1)).astimezone(tz).date().isoformat(),
        sla_text=duration(report.settings.sla.total_seconds(), t),
        hours_text=hours_text,
        costs=costs,
        **_charts(report, operator, t),
    )
    return render("analytics.html", ctx)


@router.get("/dashboard/analytics.csv")
async def analytics_csv(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    params = request.query_params
    report, names = await service.operators_report(
        rt, user.tenant, since=params.get("since") or None, until=params.get("until") or None
    )
    day = report.since.astimezone(report.settings.tz).date().isoformat()
    return Response(
        service.report_csv(report, names),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="operators-{day}.csv"', "Cache-Control": "no-store"},
    )
