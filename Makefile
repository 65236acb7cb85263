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

# One process: two pytest-xdist workers (`pytest -n 2`) take ~14 minutes instead of ~18 on
# this 2-core machine, but the tests that race two CLI processes on one embedded Dagster home
# then fail now and then under the load; run `pytest -n 2` by hand for a quicker answer.
test: install
	$(BIN)/python -m pytest

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
