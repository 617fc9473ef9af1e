"""``wagate agent``: run the Android device agent against a gateway (docs/operations.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer


def _waits(value: str) -> tuple[float, ...]:
    try:
        waits = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise typer.BadParameter("a comma-separated list of seconds, e.g. 2,1.5,5.5") from exc
    if not waits or any(w < 0 for w in waits):
        raise typer.BadParameter("a comma-separated list of seconds, e.g. 2,1.5,5.5")
    return waits


def agent(
    url: Annotated[str, typer.Option(envvar="WAGATE_URL", help="The gateway's URL")],
    device_token: Annotated[
        str, typer.Option(envvar="WAGATE_DEVICE_TOKEN", help="From POST /v1/channels/{name}/devices")
    ],
    serial: Annotated[
        str | None, typer.Option(help="adb serial (`adb devices`), or HOST:PORT for adb over TCP")
    ] = None,
    poll_interval: Annotated[float, typer.Option(help="Seconds between polls when nothing is due")] = 5.0,
    entry_waits: Annotated[
        str, typer.Option(help="Waits before each look for WhatsApp's input field (the hosted services' 2, 1.5, 5.5 s)")
    ] = "2,1.5,5.5",
    package: Annotated[str, typer.Option(help="com.whatsapp, or com.whatsapp.w4b for WhatsApp Business")] = (
        "com.whatsapp"
    ),
    state: Annotated[
        Path | None, typer.Option(help="Journal file (default ~/.local/state/wagate/agent-SERIAL.json)")
    ] = None,
) -> None:
    """Drive a phone or emulator over adb: send the gateway's messages through WhatsApp, forward its notifications."""
    from wagate.agent import Agent, AgentConfig, DriverError
    from wagate.agent.client import GatewayClient
    from wagate.agent.journal import Journal
    from wagate.agent.uiautomator import Uiautomator2Driver
    from wagate.observability.logging import configure_logging

    configure_logging("INFO")
    config = AgentConfig(poll_interval=poll_interval, entry_waits=_waits(entry_waits))
    try:
        driver = Uiautomator2Driver(serial, package=package)
    except DriverError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    journal_path = state or Path.home() / ".local" / "state" / "wagate" / f"agent-{serial or 'default'}.json"
    client = GatewayClient(url, device_token)
    worker = Agent(client, driver, config=config, journal=Journal(journal_path))
    logging.getLogger("wagate.agent").info("agent started", extra={"url": url, "serial": serial})
    try:
        worker.run()
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
    finally:
        client.close()
