"""Settings read from ``WAGATE_*`` environment variables (CONTRACT §2).

Nothing here opens a connection or touches the disk: ``create_app`` receives a
``Settings`` instance, so tests build as many differently-configured apps as they like.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a wagate node. The contract fixes the first seven; the rest are ours."""

    model_config = SettingsConfigDict(env_prefix="WAGATE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/wagate.db"
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
        description="Zone of the dates the WAMM-style API writes (YYYY-MM-DD HH:MM:SS); a tenant's settings.timezone wins.",
    )

    @property
    def base_url(self) -> str:
        """The URL others use to reach this node (simulator webhooks, media links)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
