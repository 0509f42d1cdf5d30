# paccto-data — `make run` builds everything offline; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/data/dagster

.PHONY: install run test test-fast ui bench profile refresh clean-build help

help:
	@echo "make run    build every asset offline from the bundled snapshots, release the warehouse"
	@echo "make test   run the test suite"
	@echo "make test-fast  the tests not marked e2e: no builds, UI or PostgreSQL of their own"
	@echo "make ui     serve the Dagster UI on http://127.0.0.1:3000"
	@echo "make bench  make run cold and unchanged, validation, the pipeline at 1x/10x/100x,"
	@echo "           each as a ratio to the floor (a trivial Dagster build) timed in the same run"
	@echo "make profile  a cold make run under pyinstrument: its top entries"
	@echo "make refresh SOURCE=<id> [REFRESH_ARGS='--yes --vintage V']"
	@echo "           download a source's upstream files, report the changes, promote on confirmation"

# The virtual environment, from pinned versions (requirements.lock), made once.
$(BIN)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or make PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(BIN)/.installed

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)

# Builds what is missing or stale (Dagster code and data versions); FULL=1 builds everything.
run: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/python -m paccto_data.defs.build $(if $(FULL),--full)

# Tests run on every core (pytest-xdist; TEST_WORKERS=0 runs them in one process).
TEST_WORKERS ?= auto
test: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder \
		$(PYTEST_ARGS)

# The quick loop while working: the tests not marked e2e (pyproject.toml), on every core.
# `make test` runs them all, as CI does.
test-fast:
	@$(MAKE) --no-print-directory test PYTEST_ARGS='-m "not e2e" $(PYTEST_ARGS)'

# The UI and the daemon (schedules, sensors, the run queue) with the project's own `dg dev`
# ([tool.dg] in pyproject.toml); Ctrl-C stops both. `make ui UI_PORT=3001` for another port.
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000
ui: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	VIRTUAL_ENV=$(VENV) PATH="$(BIN):$$PATH" $(BIN)/dg dev -h $(UI_HOST) -p $(UI_PORT)

# Timings live here, as ratios to the floor (bench/floor.py) measured in the same run; the
# whole pipeline at 1x, 10x and 100x the real data goes to bench/results/scale.{jsonl,md}.
SCALE_FACTORS ?= 1 10 100
bench: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python bench/build.py
	$(BIN)/python bench/validation.py --fresh
	mkdir -p bench/results && rm -f bench/results/scale.jsonl
	for n in $(SCALE_FACTORS); do \
		$(BIN)/python bench/scale.py --factor $$n --json bench/results/scale.jsonl >/dev/null \
			|| exit 1; done
	$(BIN)/python bench/scale.py --table bench/results/scale.jsonl | tee bench/results/scale.md

# A cold `make run` under pyinstrument (the `profile` extra); prints its top entries.
profile: $(BIN)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check "pyinstrument==5.1.3"
	$(BIN)/python bench/profile.py

# Maintainers: download the current upstream files of one source, report what changed against
# the bundled snapshot, and promote them only on confirmation (see paccto_data/refresh/).
refresh: $(BIN)/.installed
	@test -n "$(SOURCE)" || { echo "usage: make refresh SOURCE=<source_id> [REFRESH_ARGS='--yes --vintage YYYY[-MM[-DD]]']"; exit 2; }
	$(BIN)/python -m paccto_data.refresh $(SOURCE) $(REFRESH_ARGS)

clean-build:
	rm -rf data/build
