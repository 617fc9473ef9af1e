"""Settings read from ``WAGATE_*`` environment variables (CONTRACT §2).

Nothing here opens a connection or touches the disk: ``create_app`` receives a
``Settings`` instance, so tests build as many differently-configured apps as they like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Seconds between webhook attempts: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 12 h
#: (≈ 39.7 h in all; ≥ 31.8 h even when the ±20 % jitter always shortens). See docs/webhooks.md.
DEFAULT_WEBHOOK_RETRY_SCHEDULE = [5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 43200.0, 43200.0]

#: What ``redis_url`` may be (the schemes ``redis.asyncio.Redis.from_url`` accepts).
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Settings(BaseSettings):
    """Every knob of a wagate node. The contract fixes the first seven; the rest are ours."""

    model_config = SettingsConfigDict(env_prefix="WAGATE_", extra="ignore")

    database_url: str = Field(
        default="",
        description="Default: SQLite at DATA_DIR/wagate.db, so the database always lives beside its media.",
    )
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./data")
    admin_token: str | None = None
    sandbox: bool = True
    redis_url: str | None = None
    public_url: str | None = None

    default_region: str = Field(
        default="RU",
        description="Region used for national-format numbers (e.g. '8 900 …') of the bootstrap tenant.",
    )
    dispatcher: bool = Field(default=True, description="Run the dispatcher in this process.")
    dispatcher_workers: int = Field(default=4, ge=1, le=64)
    lease_seconds: float = Field(default=60.0, gt=0)
    retry_max_attempts: int = Field(
        default=8, ge=1, description="Hand-overs to a channel per message, the first included."
    )
    retry_base_seconds: float = Field(default=2.0, gt=0, description="First retry delay ceiling; doubles per attempt.")
    retry_cap_seconds: float = Field(default=600.0, gt=0, description="Longest retry delay.")
    log_json: bool | None = Field(default=None, description="JSON logs; default: when stderr is not a TTY.")
    log_level: str = "INFO"
    sqlite_synchronous: str = Field(default="FULL", pattern="^(FULL|NORMAL|EXTRA)$")
    compat_timezone: str = Field(
        default="Europe/Moscow",
        description="Zone of the dates the WAMM-style API writes (YYYY-MM-DD HH:MM:SS); a tenant's zone (PATCH /v1/policy) wins.",
    )

    header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A request's line and headers must arrive within this (else 408)."
    )
    max_header_bytes: int = Field(default=65536, ge=1024, description="Largest request line plus headers (else 431).")
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client.",
    )

    # What outbound requests to URLs chosen by API callers may reach (docs/operations.md, "Security model").
    webhook_allow_private: bool = Field(
        default=True,
        description="Webhooks may target private and loopback addresses (a CRM on the same host or LAN).",
    )
    media_allow_private: bool = Field(
        default=True, description="Media URLs may be fetched from private (LAN) addresses."
    )
    media_allow_loopback: bool = Field(
        default=False,
        description="Media URLs may be fetched from loopback addresses (off: upload such files to /v1/media).",
    )

    # Webhooks and the events feed (docs/webhooks.md, docs/operations.md).
    webhooks: bool = Field(default=True, description="Run the webhook sender (fan-out and delivery) in this process.")
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_WEBHOOK_RETRY_SCHEDULE),
        description="Seconds to wait before each retry, comma-separated; attempts = len + 1.",
    )
    webhook_retry_jitter: float = Field(default=0.2, ge=0, lt=1, description="Each delay is scaled by 1 ± this.")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Whole-request timeout of one attempt.")
    webhook_max_response_bytes: int = Field(default=65536, ge=0, description="At most this much of an answer is read.")
    webhook_concurrency: int = Field(default=1024, ge=1, description="Deliveries claimed per process at most.")
    webhook_target_concurrency: int = Field(
        default=16, ge=1, description="Deliveries in flight per subscription (per host for per-message callbacks)."
    )
    webhook_gap_grace_seconds: float = Field(
        default=60.0, gt=0, description="PostgreSQL: how long an unseen event id may hold the outbox cursor back."
    )
    webhook_dead_letter_days: float = Field(default=30.0, gt=0, description="How long dead letters are kept.")
    events_retention_days: float = Field(default=7.0, gt=0, description="How long events stay in the outbox/feed.")
    events_purge_interval_seconds: float = Field(default=3600.0, gt=0)

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _split_schedule(cls, value: Any) -> Any:
        """``WAGATE_WEBHOOK_RETRY_SCHEDULE=5,30,120`` as well as a JSON list or a Python list."""
        if isinstance(value, str):
            text = value.strip().strip("[]")
            return [float(part) for part in text.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _check_schedule(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays must be >= 0 seconds")
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _blank_redis_url(cls, value: Any) -> Any:
        """``WAGATE_REDIS_URL=`` (set but empty) means unset, as the default does."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        """Refused at start-up rather than ignored: a typo would silently disable cross-node signals."""
        if value is None:
            return None
        if not value.startswith(REDIS_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(REDIS_SCHEMES)} (a Redis URL)")
        from redis.connection import parse_url  # only when a Redis URL is configured

        try:
            parse_url(value)  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise ValueError(f"is not a valid Redis URL: {exc}") from None
        return value

    @model_validator(mode="after")
    def _default_database_inside_data_dir(self) -> Settings:
        """One data location: unless a database URL is given, the SQLite file is inside ``data_dir``.

        Every command (``serve``, ``migrate``, ``token create``, ``user create``) resolves it the same
        way, so a CLI run with the server's environment acts on the server's database.
        """
        if not self.database_url.strip():
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir.as_posix()}/wagate.db"
        return self

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None on PostgreSQL (and for in-memory databases)."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        return Path(path.split("?", 1)[0]) if path and path != ":memory:" else None

    @property
    def base_url(self) -> str:
        """The URL others use to reach this node (simulator webhooks, media links)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
