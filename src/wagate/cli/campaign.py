"""``wagate campaign run FILE.csv --template NAME``: a bulk send through the running server's API.

Uploads the file (``POST /v1/campaigns``), prints the dry-run report, and — unless
``--dry-run`` — starts the campaign and follows it with a progress bar (rate and ETA) until
it completes, is cancelled or pauses itself, ending with the stats table. With ``--dry-run``
the draft is deleted again: nothing was sent and nothing is left behind.

Exit codes: 0 done, 1 the server refused or could not be reached, 3 the campaign paused
(ban protection or by hand; it can be resumed), 130 interrupted (the campaign keeps running
on the server).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from wagate.client import ApiError, Client

campaign_app = typer.Typer(help="Campaigns: bulk template sends from a CSV (docs/campaigns.md).", no_args_is_help=True)

PAUSED_EXIT = 3
FINAL = ("completed", "cancelled", "paused")


class RateColumn(ProgressColumn):
    """Messages per second, as rich measures the task's progress."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} msg/s" if speed else "– msg/s", style="progress.data.speed")


def handled(stats: dict[str, Any]) -> int:
    """Recipients whose turn is over: sent (or beyond), failed, or refused at send time."""
    return int(stats["sent"]) + int(stats["failed"]["count"]) + int(stats["refused"]["count"])


def _lines(bucket: dict[str, Any]) -> str:
    lines = ", ".join(str(n) for n in bucket["lines"][:15])
    if bucket["count"] > 15:
        lines += ", …"
    return lines


def report_table(campaign: dict[str, Any], *, dry_run: bool = True) -> Table:
    """The server's check of the file; headed "Dry run" only when nothing will be sent."""
    report = campaign["report"]
    heading = "Dry run" if dry_run else "Checked before sending"
    table = Table(title=f"{heading} — campaign {campaign['id']} ({campaign['name']})", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("count", justify="right")
    table.add_column("lines")
    table.add_row("rows read", str(report["rows"]), "")
    table.add_row("valid recipients", str(report["valid"]), "")
    table.add_row("would be sent now", str(report["sendable"]), "", style="green")
    for key, label in (
        ("invalid_phone", "invalid phone"),
        ("duplicate", "duplicate"),
        ("invalid_params", "invalid parameters"),
        ("no_consent", f"no consent for {report.get('consent_scope')!r} ({report.get('consent_mode')})"),
        ("opted_out", "opted out"),
    ):
        bucket = report[key]
        table.add_row(label, str(bucket["count"]), _lines(bucket), style="yellow" if bucket["count"] else None)
    for code, bucket in report.get("refused", {}).items():
        table.add_row(f"refused: {code}", str(bucket["count"]), _lines(bucket), style="red")
    return table


def source_line(campaign: dict[str, Any]) -> str:
    source = campaign["source"]
    columns = ", ".join(source.get("params") or [])
    return (
        f"file: {source.get('encoding', 'json')}, delimiter {source.get('delimiter', '')!r}, "
        f"phone column {source.get('phone')!r}, parameters {columns or '–'}; template "
        f"{campaign['template']['name']} ({campaign['template']['language']}) on channel {campaign['channel']}"
    )


def stats_table(campaign: dict[str, Any]) -> Table:
    stats = campaign["stats"]
    conversion = stats["conversion"]
    table = Table(title=f"Campaign {campaign['id']}: {campaign['state']}", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("count", justify="right")
    table.add_column("share of sent", justify="right")

    def share(value: float | None) -> str:
        return f"{value:.1%}" if value is not None else ""

    table.add_row("recipients", str(stats["recipients"]), "")
    table.add_row("still pending", str(stats["pending"]), "")
    table.add_row("queued", str(stats["queued"]), "")
    table.add_row("sent", str(stats["sent"]), "")
    table.add_row("delivered", str(stats["delivered"]), share(conversion["delivered"]))
    table.add_row("read", str(stats["read"]), share(conversion["read"]))
    table.add_row("replied", str(stats["replied"]), share(conversion["replied"]))
    table.add_row("opted out", str(stats["opted_out"]), "")
    table.add_row("failed", str(stats["failed"]["count"]), "", style="red" if stats["failed"]["count"] else None)
    for reason, count in stats["failed"]["by_reason"].items():
        table.add_row(f"  {reason}", str(count), "")
    table.add_row("refused", str(stats["refused"]["count"]), "")
    for reason, count in stats["refused"]["by_reason"].items():
        table.add_row(f"  {reason}", str(count), "")
    return table


def _fail(console: Console, error: ApiError) -> typer.Exit:
    message = f"{error.message} ({error.code}{', field ' + error.field if error.field else ''})"
    console.print(f"[red]the server answered {error.status}:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(1)


@campaign_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The recipients' CSV")],
    template: Annotated[str, typer.Option(help="Template name")],
    language: Annotated[str | None, typer.Option(help="Template language (needed when it has several)")] = None,
    channel: Annotated[str | None, typer.Option(help="Channel name (default channel if absent)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the report, send nothing")] = False,
    name: Annotated[str | None, typer.Option(help="Campaign name (default: the file name)")] = None,
    window: Annotated[str | None, typer.Option(help="Sending window in the tenant's zone, e.g. 10:00-20:00")] = None,
    start_at: Annotated[str | None, typer.Option(help="Start no earlier than (ISO 8601 with zone)")] = None,
    max_in_flight: Annotated[int | None, typer.Option(help="Most messages of the campaign queued at once")] = None,
    url: Annotated[str | None, typer.Option(envvar="WAGATE_URL", help="Server URL")] = None,
    token: Annotated[str | None, typer.Option(envvar="WAGATE_TOKEN", help="API token")] = None,
    poll: Annotated[float, typer.Option(help="Seconds between progress updates")] = 1.0,
    settle: Annotated[
        float, typer.Option(help="After the last send, wait up to this many seconds for delivery receipts")
    ] = 30.0,
) -> None:
    """Upload a CSV as a campaign, show the dry run and, unless --dry-run, send it with a progress bar."""
    console = Console()
    base = (url or "http://127.0.0.1:8080").rstrip("/")
    if not token:
        console.print("[red]a token is needed: --token or WAGATE_TOKEN[/red]")
        raise typer.Exit(2)
    fields = {
        "template": template,
        "language": language,
        "channel": channel,
        "name": name,
        "window": window,
        "start_at": start_at,
        "max_in_flight": str(max_in_flight) if max_in_flight is not None else None,
    }
    data = {k: v for k, v in fields.items() if v is not None}
    try:
        with Client(base, token=token, timeout=600) as client:
            campaign = client.create_campaign(file, **data)
            console.print(report_table(campaign, dry_run=dry_run))
            console.print(source_line(campaign), markup=False, highlight=False)
            if dry_run:
                client.delete_campaign(campaign["id"])
                console.print("dry run: nothing was sent")
                return
            campaign = _follow(console, client, client.campaign_action(campaign["id"], "start"), poll)
            if campaign["state"] == "completed":
                campaign = _settle(client, campaign, settle, poll)
    except ApiError as error:
        raise _fail(console, error) from error
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach {base}: {exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(stats_table(campaign))
    unsettled = awaiting_receipts(campaign["stats"])
    if campaign["state"] == "completed" and unsettled:
        console.print(
            f"[yellow]{unsettled} sent message(s) still await a delivery receipt[/yellow]; the counts keep "
            f"growing on the server: GET /v1/campaigns/{campaign['id']}"
        )
    if campaign["state"] == "paused":
        console.print(
            f"[yellow]paused: {campaign['paused_reason']}[/yellow] — resume with POST /v1/campaigns/{campaign['id']}/resume"
        )
        raise typer.Exit(PAUSED_EXIT)


def awaiting_receipts(stats: dict[str, Any]) -> int:
    """Sent messages whose delivery receipt has not come yet (``sent`` counts everything sent or beyond)."""
    return max(int(stats["sent"]) - int(stats["delivered"]), 0)


def waiting_line(campaign: dict[str, Any]) -> str:
    """Why a running campaign sends nothing now, from the server's ``waiting`` field."""
    waiting = campaign.get("waiting")
    if not waiting:
        return ""
    reasons = {
        "window": "outside the sending window",
        "start_at": "waiting for the start time",
        "daily_cap_exceeded": "the daily cap is reached",
        "tier_limit_exceeded": "the messaging tier's limit is reached",
    }
    reason = reasons.get(waiting.get("reason"), str(waiting.get("reason")))
    until = waiting.get("until")
    return f"{reason}; sends again at {until}" if until else reason


def _settle(client: Client, campaign: dict[str, Any], seconds: float, poll: float) -> dict[str, Any]:
    """Give delivery receipts up to ``seconds`` to land, so the summary is not printed too early."""
    deadline = time.monotonic() + seconds
    while awaiting_receipts(campaign["stats"]) and time.monotonic() < deadline:
        time.sleep(min(poll, max(deadline - time.monotonic(), 0)))
        try:
            campaign = client.get_campaign(campaign["id"])
        except ApiError:
            break
    return campaign


def _follow(console: Console, client: Client, campaign: dict[str, Any], poll: float) -> dict[str, Any]:
    """Poll the campaign until it is completed, cancelled or paused, drawing the progress bar."""
    total = max(int(campaign["stats"]["recipients"]), 1)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(f"campaign {campaign['id']}", total=total)
            said = ""
            while True:
                progress.update(task, completed=handled(campaign["stats"]))
                waiting = waiting_line(campaign)
                if waiting != said:  # a line above the bar each time the reason changes
                    progress.console.print(f"waiting: {waiting}" if waiting else "sending", highlight=False)
                    said = waiting
                if campaign["state"] in FINAL:
                    return campaign
                time.sleep(poll)
                campaign = client.get_campaign(campaign["id"])
    except KeyboardInterrupt:
        console.print(
            f"stopped watching; campaign {campaign['id']} keeps running on the server "
            f"(pause: POST /v1/campaigns/{campaign['id']}/pause)"
        )
        raise typer.Exit(130) from None


def bench(
    rows: Annotated[int, typer.Option(help="Rows in the generated CSV")] = 100_000,
    repeat: Annotated[int, typer.Option(help="Rounds; the best of each measurement is kept")] = 1,
) -> None:
    """Import and dry run of a generated CSV on SQLite, beside plain csv parsing and a raw SQLite insert."""
    from wagate.bench.campaign import run as run_bench

    for line in run_bench(rows=rows, repeat=repeat):
        typer.echo(line)
