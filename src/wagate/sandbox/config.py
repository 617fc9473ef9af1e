"""How a simulator behaves: its identity (token, ids, app secret), where its webhooks go, its pace.

``SimulatorOptions`` reads the behaviour knobs from ``WAGATE_SANDBOX_*`` environment
variables (the in-process sandbox of ``wagate serve``); ``wagate sim`` takes the same as flags.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TOKEN = "sandbox-token"
DEFAULT_PHONE_NUMBER_ID = "100000000000001"
DEFAULT_WABA_ID = "200000000000001"
DEFAULT_DISPLAY_NUMBER = "15550000001"
DEFAULT_APP_SECRET = "sandbox-app-secret"
DEFAULT_VERIFY_TOKEN = "sandbox-verify-token"
UNDELIVERABLE_MODES = ("webhook", "sync")
FAST_DELAYS = (0.05, 0.05, 0.05)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Everything a ``Simulator`` needs; immutable, replaced whole by ``PATCH /sandbox/config``."""

    access_token: str = DEFAULT_TOKEN
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID
    waba_id: str = DEFAULT_WABA_ID
    display_phone_number: str = DEFAULT_DISPLAY_NUMBER
    app_secret: str = DEFAULT_APP_SECRET
    verify_token: str = DEFAULT_VERIFY_TOKEN
    #: Where webhooks are POSTed; ``None`` keeps them in the simulator's log only.
    webhook_url: str | None = None
    #: The URL under which the Graph routes are served (media download URLs are built on it).
    graph_base_url: str = "http://127.0.0.1:8090"
    #: Seconds before ``sent``, then before ``delivered``, then before ``read``.
    status_delays: tuple[float, float, float] = (0.5, 1.0, 1.5)
    #: Messages per second per phone number before error 130429 (Meta's default is 80).
    throughput: float = 80.0
    #: Refuse free-form messages to numbers that have not written in 24 hours (error 131047).
    enforce_window: bool = False
    #: ``webhook``: numbers ending in 0000 are accepted, then fail by webhook (as Meta does);
    #: ``sync``: the send request itself answers error 131026.
    undeliverable: str = "webhook"
    #: Seconds until a template created through the API is approved; ``None``: stays PENDING.
    template_review_seconds: float | None = 1.0
    webhook_attempts: int = 5
    #: Seconds the simulator holds a send's answer *after* accepting it: a slow provider, for
    #: rehearsing a send whose request arrived and whose answer times out (it must end ``unknown``).
    answer_delay_seconds: float = 0.0
    #: How many accepted sends (and inbound messages, read marks) the simulator remembers for
    #: ``GET /sandbox/messages`` and its status webhooks; the oldest go first.
    log_size: int = 2000

    def with_changes(self, **changes: object) -> SimulatorConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


class SimulatorOptions(BaseSettings):
    """``WAGATE_SANDBOX_DELAYS=0.5,1,1.5``, ``WAGATE_SANDBOX_FAST=1``, ``WAGATE_SANDBOX_THROUGHPUT``,
    ``WAGATE_SANDBOX_ENFORCE_WINDOW``, ``WAGATE_SANDBOX_UNDELIVERABLE=webhook|sync``,
    ``WAGATE_SANDBOX_ANSWER_DELAY`` (seconds), ``WAGATE_SANDBOX_LOG_SIZE`` (sends remembered)."""

    model_config = SettingsConfigDict(env_prefix="WAGATE_SANDBOX_", extra="ignore")

    delays: str | None = None
    fast: bool = False
    throughput: float = Field(default=80.0, gt=0)
    enforce_window: bool = False
    undeliverable: str = Field(default="webhook", pattern="^(webhook|sync)$")
    answer_delay: float = Field(default=0.0, ge=0)
    log_size: int = Field(default=2000, ge=1)

    def apply(self, config: SimulatorConfig) -> SimulatorConfig:
        delays = config.status_delays
        if self.fast:
            delays = FAST_DELAYS
        if self.delays:
            delays = parse_delays(self.delays)
        return config.with_changes(
            status_delays=delays,
            throughput=self.throughput,
            enforce_window=self.enforce_window,
            undeliverable=self.undeliverable,
            answer_delay_seconds=self.answer_delay,
            log_size=self.log_size,
        )


def parse_delays(text: str) -> tuple[float, float, float]:
    """``"0.5,1,1.5"`` → three non-negative floats; one number means the same gap three times."""
    parts = [float(p) for p in text.replace(" ", "").split(",") if p]
    if len(parts) == 1:
        parts = parts * 3
    if len(parts) != 3 or any(p < 0 for p in parts):
        raise ValueError("delays are three non-negative numbers: sent,delivered,read")
    return parts[0], parts[1], parts[2]
