"""``wagate user create``: a dashboard user, written to the database of ``WAGATE_DATABASE_URL`` directly."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from wagate.cli.database_target import announce_database, location_given
from wagate.cli.through_server import through_server
from wagate.config import Settings
from wagate.errors import WagateError

user_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)


@user_app.command("create")
def create(
    login: Annotated[str, typer.Option(help="The sign-in name (letters, digits, . _ - @)")],
    password: Annotated[str, typer.Option(help="At least 8 characters; only its argon2 hash is stored")],
    role: Annotated[str, typer.Option(help="admin or operator")] = "operator",
    name: Annotated[str | None, typer.Option(help="The name shown to colleagues")] = None,
    locale: Annotated[str, typer.Option(help="en or ru; empty: the browser's language")] = "",
    tenant: Annotated[str, typer.Option(help="Tenant name")] = "default",
    database_url: Annotated[str | None, typer.Option(help="WAGATE_DATABASE_URL")] = None,
    url: Annotated[
        str | None, typer.Option(help="Ask the running server at this URL instead of writing to the database")
    ] = None,
    admin_token: Annotated[
        str | None, typer.Option("--admin-token", envvar="WAGATE_TOKEN", help="An admin token, with --url")
    ] = None,
) -> None:
    """Create a dashboard user; prints the login and role."""
    from wagate.services.users import create_user_in_database

    if url is not None:
        fields = {"role": role, "name": name, "locale": locale or None}
        extra = {key: value for key, value in fields.items() if value is not None}
        made = through_server(url, admin_token, lambda client: client.create_user(login, password, **extra))
        typer.echo(f"user {made.login} ({made.role}) created")
        return

    settings = Settings(database_url=database_url) if database_url else Settings()
    announce_database(settings, given=location_given(database_url))
    data = {"login": login, "password": password, "role": role, "name": name, "locale": locale}
    try:
        created, created_role = asyncio.run(create_user_in_database(settings, data, tenant_name=tenant))
    except WagateError as exc:
        typer.echo(f"{exc.field or 'error'}: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"user {created} ({created_role}) created")
