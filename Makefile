# GNU make. Everything runs from a local virtualenv in .venv; `make test` is all CI needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: all install demo test test-slow test-repeat lint screenshots bench bench-fleet clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes (editable install: code edits need no reinstall).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_QUIET) --upgrade pip
	$(BIN)/python -m pip install $(PIP_QUIET) -e '.[embedded,dev]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/runway-tui --config sample_config.yaml

# Two workers (pytest-xdist), each with its own SecantusDB daemon: the suite is mostly waiting on the
# server, so two halves overlap well on two cores. Against one shared server (RUNWAY_TEST_MONGODB_URI)
# the tests run in one process, as fail points set by one test would reach the other worker's.
TEST_WORKERS ?= $(if $(RUNWAY_TEST_MONGODB_URI),0,2)
test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS)

test-slow: $(STAMP)
	$(BIN)/pytest -m slow -o timeout=1800

# `make test-repeat N=10`: the whole suite N times in a row; stops at the first red run. Prints, per run,
# the total time and the slowest test (from pytest's --durations).
N ?= 10
test-repeat: $(STAMP)
	@for i in $$(seq 1 $(N)); do \
	  log=$$(mktemp); \
	  if ! $(BIN)/pytest -q --durations=1 >$$log 2>&1; then \
	    tail -n 40 $$log; echo "run $$i of $(N): FAILED"; rm -f $$log; exit 1; fi; \
	  slowest=$$(grep -A1 "slowest 1 durations" $$log | tail -n 1); \
	  total=$$(tail -n 1 $$log | sed 's/=//g'); \
	  echo "run $$i of $(N): $$total; slowest: $$slowest"; rm -f $$log; \
	done

# ruff, then the layer contracts of pyproject.toml [tool.importlinter] (engine ⟂ front ends and compat, front
# ends ⟂ driver, files on disk ⟂ database); .ci/run runs this before the suite.
lint: $(STAMP)
	$(BIN)/ruff check runway_tui tests
	$(BIN)/lint-imports --no-cache

screenshots: $(STAMP)
	$(BIN)/python scripts/make_screenshots.py

bench: $(STAMP)
	$(BIN)/python bench/run.py --n 300 --n 1000 --repeat 1 --quick
	$(BIN)/python bench/rehearse_bench.py --docs 100000 --sample 1000
	$(BIN)/python bench/backfill_bench.py --docs 1000000

bench-fleet: $(STAMP)  # fleet up on 200 tenants vs 200 'up' processes; fleet status of 500 (~5 min)
	$(BIN)/python bench/fleet_bench.py --tenants 200 --status-tenants 500

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache snapshot_report.html bench/.cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
