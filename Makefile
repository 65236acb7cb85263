# The two commands: `make run` (install, then import the bundled sample mailbox through
# Dagster) and `make test` (install, then the whole suite). Everything lives in .venv/ and
# .ingest/ inside this folder.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/.ingest/dagster_home

.PHONY: install run test dev lint format bench clean lock

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/ingest-pipeline demo

# Two workers (pytest-xdist): 1,644 tests took 19-23 minutes from a clean clone on this
# 2-core machine (2026-12-07); four workers took 20 minutes, no gain, since the suite is
# CPU-bound (Dagster runs, daemons and local servers), not waiting. Work stealing: with
# xdist's default scheduling the last 14% of the tests ran on one worker while the other
# sat idle.
test: install
	$(BIN)/python -m pytest -n 2 --dist worksteal

dev: install
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -m ingest_pipeline.definitions

lint: install
	$(BIN)/ruff check ingest_pipeline ingest_pipeline_tests bench scripts
	$(BIN)/ruff format --check ingest_pipeline ingest_pipeline_tests bench scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix ingest_pipeline ingest_pipeline_tests bench scripts
	$(BIN)/ruff format ingest_pipeline ingest_pipeline_tests bench scripts

bench: install
	$(BIN)/python bench/persist_bench.py

# Rewrite constraints.txt (the lock) from what the venv resolved.
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt

clean:
	rm -rf $(VENV) .ingest
