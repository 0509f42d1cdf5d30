# paccto-data — `make run` builds everything offline; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/data/dagster

.PHONY: install run test ui bench refresh clean-build help

help:
	@echo "make run    build every asset offline from the bundled snapshots, release the warehouse"
	@echo "make test   run the test suite"
	@echo "make ui     serve the Dagster UI on http://127.0.0.1:3000"
	@echo "make bench  per-source ingest time; a cold build and a no-change rebuild"
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

# The UI and the daemon (schedules, sensors, the run queue) with the project's own `dg dev`
# ([tool.dg] in pyproject.toml); Ctrl-C stops both. `make ui UI_PORT=3001` for another port.
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000
ui: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	VIRTUAL_ENV=$(VENV) PATH="$(BIN):$$PATH" $(BIN)/dg dev -h $(UI_HOST) -p $(UI_PORT)

bench: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/build.py
	$(BIN)/python bench/publication.py

# Maintainers: download the current upstream files of one source, report what changed against
# the bundled snapshot, and promote them only on confirmation (see paccto_data/refresh/).
refresh: $(BIN)/.installed
	@test -n "$(SOURCE)" || { echo "usage: make refresh SOURCE=<source_id> [REFRESH_ARGS='--yes --vintage YYYY[-MM[-DD]]']"; exit 2; }
	$(BIN)/python -m paccto_data.refresh $(SOURCE) $(REFRESH_ARGS)

clean-build:
	rm -rf data/build
