"""``wagate sim``: the Cloud API simulator alone (CONTRACT §3), e.g. in a CRM's CI."""

from __future__ import annotations

from typing import Annotated

import typer

from wagate.channels.cloud.versions import DEFAULT_API_VERSION
from wagate.sandbox.config import (
    DEFAULT_APP_SECRET,
    DEFAULT_PHONE_NUMBER_ID,
    DEFAULT_TOKEN,
    DEFAULT_VERIFY_TOKEN,
    DEFAULT_WABA_ID,
    SimulatorConfig,
    parse_delays,
)


def sim(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8090,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    webhook_url: Annotated[str | None, typer.Option(help="Callback URL for signed webhooks")] = None,
    app_secret: Annotated[str, typer.Option(help="Signs X-Hub-Signature-256")] = DEFAULT_APP_SECRET,
    access_token: Annotated[str, typer.Option(help="The only bearer token accepted")] = DEFAULT_TOKEN,
    phone_number_id: Annotated[str, typer.Option(help="The simulated number's id")] = DEFAULT_PHONE_NUMBER_ID,
    waba_id: Annotated[str, typer.Option(help="The WhatsApp Business Account id")] = DEFAULT_WABA_ID,
    verify_token: Annotated[str, typer.Option(help="Sent in the webhook handshake")] = DEFAULT_VERIFY_TOKEN,
    delays: Annotated[str, typer.Option(help="Seconds before sent, delivered, read")] = "0.5,1,1.5",
    throughput: Annotated[float, typer.Option(help="Messages per second before error 130429")] = 80.0,
    enforce_window: Annotated[bool, typer.Option(help="Error 131047 outside the 24-hour window")] = False,
    undeliverable: Annotated[str, typer.Option(help="131026 by 'webhook' (as Meta) or 'sync'")] = "webhook",
    public_url: Annotated[str | None, typer.Option(help="URL clients reach this simulator at")] = None,
    answer_delay: Annotated[float, typer.Option(help="Seconds a send's answer is held after acceptance")] = 0.0,
    log_size: Annotated[int, typer.Option(help="Accepted sends remembered (oldest dropped first)")] = 2000,
) -> None:
    """Run the WhatsApp Cloud API simulator alone (Graph API at the root, controls under /sandbox)."""
    import uvicorn

    from wagate.observability.logging import configure_logging
    from wagate.sandbox.app import create_sim_app

    if undeliverable not in ("webhook", "sync"):
        raise typer.BadParameter("webhook or sync", param_hint="--undeliverable")
    try:
        status_delays = parse_delays(delays)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--delays") from exc
    configure_logging()
    config = SimulatorConfig(
        access_token=access_token,
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        app_secret=app_secret,
        verify_token=verify_token,
        webhook_url=webhook_url,
        graph_base_url=(public_url or f"http://{host}:{port}").rstrip("/"),
        status_delays=status_delays,
        throughput=throughput,
        enforce_window=enforce_window,
        undeliverable=undeliverable,
        answer_delay_seconds=max(0.0, answer_delay),
        log_size=max(1, log_size),
    )
    print(
        f"wagate sim: Graph API on {config.graph_base_url}/{DEFAULT_API_VERSION}/{phone_number_id}/messages, "
        f"webhooks to {webhook_url or '(none)'}",
        flush=True,
    )
    uvicorn.run(create_sim_app(config), host=host, port=port, log_config=None, access_log=False)
