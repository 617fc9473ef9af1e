# wagate — the two commands: `make run` and `make test`.
#
# `make run` installs only what serving needs; `make test` adds the development extras (pytest,
# Playwright, mypy, ruff, the fuzzer). A `.venv` whose Python is missing, too old or broken (a failed
# first install) is detected and rebuilt instead of failing every later `make`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: run test install install-dev venv lint typecheck bench clean

# Python >= 3.11 (the package's requires-python): say so plainly instead of a pip traceback.
venv:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "wagate needs Python >= 3.11 as '$(PYTHON)' (found: $$($(PYTHON) --version 2>&1)); run 'make PYTHON=python3.12 …'" >&2; exit 1; }
	@$(BIN)/python -c 'import sys, pip; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  rm -rf $(VENV); \
	  $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "creating .venv failed: on Debian/Ubuntu 'apt-get install python3-venv'" >&2; exit 1; }; \
	  $(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip; }

$(RUN_STAMP): pyproject.toml | venv
	$(PIP) -e . || { rm -f $(RUN_STAMP) $(TEST_STAMP); echo "install failed; the next 'make' retries it" >&2; exit 1; }
	touch $(RUN_STAMP)

$(TEST_STAMP): $(RUN_STAMP)
	$(PIP) -e '.[dev]' || { rm -f $(TEST_STAMP); echo "install of the development extras failed" >&2; exit 1; }
	touch $(TEST_STAMP)

install: venv $(RUN_STAMP)

install-dev: venv $(TEST_STAMP)

run: install
	$(BIN)/wagate migrate
	$(BIN)/wagate serve

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-dev
	$(BIN)/mypy src/wagate

# Two workers (pytest-xdist): the suite waits on fsync, PostgreSQL and subprocesses as much as it
# computes, so two workers on two cores take ~5 min instead of ~7.5. Every worker gets its own
# PostgreSQL template and databases (tests/conftest.py); `PYTEST_WORKERS=0` runs it serially.
PYTEST_WORKERS ?= 2

test: install-dev lint typecheck
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

# The benchmarks; `wagate bench ingest` drives the server with wrk (from Debian).
bench: install-dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/wagate bench ingest
	$(BIN)/wagate bench dispatch
	$(BIN)/wagate bench webhooks
	$(BIN)/wagate bench policy

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
