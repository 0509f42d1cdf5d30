"""Helpers shared by the tests: build the real assets into a temporary directory."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from paccto_data.definitions import build_definitions
from paccto_data.settings import Settings


def tmp_settings(root: Path, **overrides) -> Settings:
    values = dict(
        source_mode="snapshot",
        warehouse=root / "warehouse.duckdb",
        build_db=root / "build" / "warehouse.duckdb",
        raw_dir=root / "raw",
        publish_dir=root / "published",
    )
    values.update(overrides)
    return Settings(**values)


@contextmanager
def environment(settings: Settings):
    """Point the PACCTO_* variables at `settings` for code that reads the environment."""
    names = {
        "PACCTO_SOURCE_MODE": settings.source_mode,
        "PACCTO_WAREHOUSE": str(settings.warehouse),
        "PACCTO_BUILD_DB": str(settings.build_db),
        "PACCTO_RAW_DIR": str(settings.raw_dir),
        "PACCTO_PUBLISH_DIR": str(settings.publish_dir),
    }
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build(settings: Settings, instance: dg.DagsterInstance,
          selection: str | dg.AssetSelection | None = None) -> dg.ExecuteInProcessResult:
    """Materialise the real assets and checks (all, or a selection) with `dagster.materialize`,
    in-process, as `make run` does; failures are returned, not raised."""
    defs = build_definitions(settings)
    everything = [*defs.assets, *defs.asset_checks]
    if isinstance(selection, str):
        selection = dg.AssetSelection.from_string(selection)
    return dg.materialize(everything, instance=instance, resources=defs.resources,
                          selection=selection, raise_on_error=False)


def failed_steps(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Step key -> error message, for every step that failed."""
    failures = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            failures[event.step_key] = error.message if error else ""
    return failures


def skipped_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}


def duckdb_1_path(version: str) -> Path:
    """A folder holding the DuckDB 1.x Python package (installed once from PyPI)."""
    import subprocess
    import sys

    from paccto_data.settings import PROJECT_ROOT

    target = PROJECT_ROOT / ".cache" / f"duckdb-{version}"
    if not (target / "duckdb").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--target", str(target),
                        f"duckdb=={version}"], check=True)
    return target
