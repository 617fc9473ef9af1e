"""``wagate``: serve, migrate, token, send, bench (docs/operations.md)."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import orjson
import typer
from pydantic import ValidationError

from wagate.cli import agent as agent_cli
from wagate.cli import bench as bench_cli
from wagate.cli.database_target import announce_database, location_given
from wagate.cli.settings_flags import with_settings_flags
from wagate.cli.sim import sim
from wagate.cli.through_server import through_server
from wagate.config import Settings

app = typer.Typer(
    help="wagate — self-hosted WhatsApp gateway for CRMs.", no_args_is_help=True, pretty_exceptions_enable=False
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
bench_app = typer.Typer(help="Benchmarks (numbers and ratios printed; see docs/performance.md).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
bench_app.command("dispatch")(bench_cli.dispatch)
bench_app.command("web")(bench_cli.web)
app.command("agent")(agent_cli.agent)

from wagate.cli import bench_policy  # noqa: E402  (its own module; registered here)

bench_app.command("policy")(bench_policy.policy)

from wagate.cli.user import user_app  # noqa: E402  (its own module; registered here)

app.add_typer(user_app, name="user")

from wagate.cli import campaign as campaign_cli  # noqa: E402  (its own module; registered here)

app.add_typer(campaign_cli.campaign_app, name="campaign")
bench_app.command("campaign")(campaign_cli.bench)


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
@with_settings_flags
def serve(**overrides: Any) -> None:
    """Run the server: API, dispatcher, webhook sender, dashboard, sandbox."""
    import uvicorn

    from wagate.node import build_node
    from wagate.observability.logging import configure_logging

    try:
        settings = _settings(**overrides)
    except ValidationError as exc:
        for error in exc.errors():
            flag = "--" + str(error["loc"][0]).replace("_", "-") if error["loc"] else "settings"
            typer.echo(f"{flag}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    application = build_node(settings, announce=_announcer(settings))
    from wagate.cli.http_protocol import guarded_protocol
    from wagate.cli.server import StoppingServer

    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        http=guarded_protocol(settings.header_timeout_seconds, settings.max_header_bytes),
        loop="uvloop",
        timeout_graceful_shutdown=10,
        # The client address is wagate's to decide (WAGATE_TRUSTED_PROXIES), not uvicorn's default.
        proxy_headers=False,
    )
    StoppingServer(config).run()


def _announcer(settings: Settings) -> Any:
    def announce(result: Any) -> None:
        lines = [
            f"wagate is serving on {settings.base_url}",
            f"  dashboard: {settings.base_url}/",
            f"  API docs:  {settings.base_url}/docs",
        ]
        if result.generated_admin_token:
            lines.append(f"  bootstrap admin token (shown once, store it now): {result.generated_admin_token}")
        elif settings.admin_token:
            lines.append("  admin token: the one in WAGATE_ADMIN_TOKEN")
        else:
            lines.append("  admin token: printed on first start; make another with `wagate token create`")
        print("\n".join(lines), flush=True)

    return announce


@app.command()
def migrate(database_url: Annotated[str | None, typer.Option(help="WAGATE_DATABASE_URL")] = None) -> None:
    """Apply database migrations and exit."""
    from wagate.store.migrate import migrate as run

    settings = _settings(database_url=database_url)
    run(settings.database_url)
    typer.echo("migrations applied", err=True)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="A label for the token")],
    role: Annotated[str, typer.Option(help="admin, operator or api")] = "api",
    tenant: Annotated[str, typer.Option(help="Tenant name")] = "default",
    database_url: Annotated[str | None, typer.Option(help="WAGATE_DATABASE_URL")] = None,
    url: Annotated[
        str | None, typer.Option(help="Ask the running server at this URL instead of writing to the database")
    ] = None,
    admin_token: Annotated[
        str | None, typer.Option("--admin-token", envvar="WAGATE_TOKEN", help="An admin token, with --url")
    ] = None,
) -> None:
    """Create an API token; prints only the token."""
    from wagate.services.tokens import create_token_sync

    if role not in ("admin", "operator", "api"):
        typer.echo("role must be admin, operator or api", err=True)
        raise typer.Exit(2)
    if url is not None:
        created = through_server(url, admin_token, lambda client: client.create_token(name, role=role))
        typer.echo(created.token)
        return
    settings = _settings(database_url=database_url)
    announce_database(settings, given=location_given(database_url))
    typer.echo(create_token_sync(settings, name=name, role=role, tenant_name=tenant))


@app.command()
def send(
    to: Annotated[str, typer.Option(help="Phone number, any format")],
    text: Annotated[str, typer.Option(help="Message text")],
    channel: Annotated[str | None, typer.Option(help="Channel name (default channel if absent)")] = None,
    url: Annotated[str | None, typer.Option(envvar="WAGATE_URL", help="Server URL")] = None,
    token: Annotated[str | None, typer.Option(envvar="WAGATE_TOKEN", help="API token")] = None,
) -> None:
    """Enqueue a text message through the running server's API."""
    base = (url or "http://127.0.0.1:8080").rstrip("/")
    if not token:
        typer.echo("a token is needed: --token or WAGATE_TOKEN", err=True)
        raise typer.Exit(2)
    from wagate.client import ApiError, Client

    try:
        with Client(base, token=token) as client:
            accepted = client.send_message(to, text, channel=channel)
    except ApiError as error:
        typer.echo(orjson.dumps(error.body or {"error": {"code": error.code, "message": error.message}}).decode())
        raise typer.Exit(1) from error
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach {base}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(accepted.model_dump_json())


@bench_app.command("ingest")
def bench_ingest(
    seconds: Annotated[int, typer.Option(help="Seconds per wrk run")] = 10,
    connections: Annotated[int, typer.Option(help="Concurrent connections")] = 50,
    batches: Annotated[int, typer.Option(help="Batches of 1000")] = 30,
) -> None:
    """Ingest throughput and latency beside a bare endpoint and a raw SQLite insert."""
    from wagate.bench.ingest import run

    run(seconds=seconds, connections=connections, batches=batches)


app.command("sim")(sim)


@bench_app.command("webhooks")
def bench_webhooks(
    events: Annotated[int, typer.Option(help="Events to deliver (4 per message)")] = 20000,
    concurrency: Annotated[int, typer.Option(help="Requests in flight per target")] = 16,
    database_url: Annotated[str | None, typer.Option(help="Default: a fresh SQLite file")] = None,
) -> None:
    """Events/s from the outbox to a local receiver verifying signatures, beside a bare baseline."""
    from wagate.bench.webhooks import run

    run(events=events, concurrency=concurrency, database_url=database_url)


def main() -> None:  # pragma: no cover
    app(prog_name="wagate")


if __name__ == "__main__":  # pragma: no cover
    main()
