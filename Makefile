# wagate — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/wagate migrate
	$(BIN)/wagate serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src/wagate

# Two workers (pytest-xdist): the suite waits on fsync, PostgreSQL and subprocesses as much as it
# computes, so two workers on two cores take ~5 min instead of ~7.5. Every worker gets its own
# PostgreSQL template and databases (tests/conftest.py); `PYTEST_WORKERS=0` runs it serially.
PYTEST_WORKERS ?= 2

test: install lint typecheck
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

# The benchmarks; `wagate bench ingest` drives the server with wrk (from Debian).
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/wagate bench ingest
	$(BIN)/wagate bench dispatch
	$(BIN)/wagate bench webhooks
	$(BIN)/wagate bench policy

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
