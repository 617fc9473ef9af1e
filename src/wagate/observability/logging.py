"""Structured logs: JSON when not on a terminal, and never a secret.

Redaction happens in the formatter, so no call site can leak a token by accident: the
Authorization header, ``Key``/``Bearer`` credentials, tokens in ``/api2/{method}/{token}``
paths and ``secret``/``token`` fields are masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_PATTERNS = [
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|key)?\s*[^\s\"',}]+"), r"\1\2 ***"),
    (re.compile(r"(?i)\b(bearer|key)\s+[A-Za-z0-9_\-\.=+/]{8,}"), r"\1 ***"),
    (re.compile(r"(/api2/[a-z_]+/)[^/\s?\"']+"), r"\1***"),
    (re.compile(r"(/device/v1/[^\s]*token=)[^&\s\"']+"), r"\1***"),
    (
        re.compile(r"(?i)((?:token|secret|password|app_secret|access_token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}&]+"),
        r"\1***",
    ),
]
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, default=str, ensure_ascii=False))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the moment of the record, not at configuration.

    A handler bound once to a stream outlives it when the stream is swapped and closed (a CLI
    invoked in-process, a daemon redirecting its output); writing to it then fails.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def configure_logging(level: str = "INFO", json_logs: bool | None = None) -> None:
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    handler = CurrentStderrHandler()
    handler.setFormatter(
        JsonFormatter() if json_logs else RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request at INFO: with the in-process sandbox that is one line per webhook.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
