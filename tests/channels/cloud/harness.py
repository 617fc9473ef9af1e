"""Shared helpers of the cloud channel tests: real provider payloads from ``testdata``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TESTDATA = Path(__file__).parent / "testdata"


def load(name: str) -> Any:
    return json.loads((TESTDATA / name).read_text(encoding="utf-8"))


def raw(name: str) -> bytes:
    return (TESTDATA / name).read_bytes()
