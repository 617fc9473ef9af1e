"""Schemathesis over the whole published schema, against a real server on each database.

Every operation gets a bounded number of generated requests (examples, coverage and fuzzing
phases); the checks are: no server error, status codes and content types as documented, and
responses that match their schemas. The fuzzer's report is printed with the test's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import TOKEN

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
#: Per operation. ~110 operations x 4 cases.
MAX_EXAMPLES = int(os.environ.get("WAGATE_FUZZ_EXAMPLES", "4"))
#: The coverage phase (boundary and negative values of every parameter: ids of 2^63, dates of
#: year 9999, wrong types) is exhaustive rather than sampled, so it costs the most. Input rules
#: are decided before storage, so it runs once, on SQLite; PostgreSQL gets the sampled phases.
PHASES = {"sqlite": "examples,coverage,fuzzing", "postgres": "examples,fuzzing"}


def test_the_fuzzer_finds_no_failure_in_the_whole_schema(served: str, db_url: str, tmp_path: Path) -> None:
    dialect = "postgres" if db_url.startswith("postgresql") else "sqlite"
    command = [
        str(BIN / "st"),
        "run",
        f"{served}/openapi.json",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        CHECKS,
        "--phases",
        PHASES[dialect],
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "2",
        "--seed",
        "18",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=420)
    print(result.stdout[-20000:])  # the fuzzer's report, shown with -s or on failure
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
