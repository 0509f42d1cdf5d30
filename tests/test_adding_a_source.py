"""Adding a source touches only the places README.md's "Adding a source" lists.

A copy of the project gets a small fixture source by exactly those five changes (the source
YAML, its snapshot, its module, its indicator in assets/indicators.yaml and one suite), and
is built from nothing through the real command line, `dagster asset materialize --select
'*'`, as `make run` builds it: the source's rows reach the released core.fact_indicator and
its blocking check ran and passed. Anything else the source needed would be a defect of the
design: this test would fail until that other place were touched.
"""

import filecmp
import hashlib
import json
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from tests.support import Project

pytestmark = pytest.mark.e2e

SOURCE_ID = "fixture_police"
FILE = "police-personnel.csv"
INDICATOR = "police_personnel_rate"
UNIT = "officers per 100,000 population"
# country_code,year,value: four LAC rows, and Spain (outside LAC: dropped and counted).
SNAPSHOT = ("country_code,year,police_per_100k\n"
            "JAM,2021,254.5\nJAM,2022,250.1\nMEX,2022,279.3\nPER,2022,410.0\nESP,2022,500.0\n")
LAC_ROWS = [("JAM", 2021, 254.5, FILE, "line 2"), ("JAM", 2022, 250.1, FILE, "line 3"),
            ("MEX", 2022, 279.3, FILE, "line 4"), ("PER", 2022, 410.0, FILE, "line 5")]

MODULE = f'''\
"""A fixture source: police personnel per 100,000 population (tests/test_adding_a_source.py)."""

from __future__ import annotations

from collections import Counter

from paccto_data.countries import lac_iso3
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    indicator_table,
    line_locators,
    read_csv_table,
    require_columns,
    require_unique,
    resolve_countries,
    to_integer,
    to_number,
)

SOURCE_ID = "{SOURCE_ID}"


def tidy_police(files) -> Tidy:
    """Police personnel per 100,000 population for every LAC country and year, long: one row
    per (iso3, year); countries outside LAC are dropped and counted."""
    path = files["data"]
    raw = read_csv_table(path)
    require_columns(raw, ["country_code", "year", "police_per_100k"], path)
    dropped = Counter()
    countries = resolve_countries(raw, "country_code", path, dropped)
    outside = ~countries["iso3"].isin(lac_iso3())
    dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    lac = lac.assign(year=to_integer(lac, "year", path),
                     value=to_number(lac, "police_per_100k", path))
    require_unique(lac, ["iso3", "year"], path)
    table = indicator_table(lac, "{INDICATOR}", "{UNIT}", path, line_locators(lac["file_row"]))
    return Tidy(table, rows_read=len(raw), dropped=dropped)


TABLES = {{"{SOURCE_ID}": tidy_police}}
FEEDS = {{"{SOURCE_ID}": "fact_indicator"}}
'''

SUITE = {
    "name": f"staging.{SOURCE_ID}",
    "meta": {"key_columns": ["iso3", "year", "indicator_id"]},
    "expectations": [
        {"type": "expect_compound_columns_to_be_unique",
         "kwargs": {"column_list": ["iso3", "year", "indicator_id"]}},
        *[{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": column}}
          for column in ("iso3", "year", "indicator_id", "value", "unit")],
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "iso3", "value_set": {"$PARAMETER": "staging__un_m49__iso3"}}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "value", "min_value": 0, "max_value": 2000}},
        {"type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": 1, "max_value": 100}},
    ],
}


def add_the_source(root: Path) -> list[str]:
    """The five changes of README.md's "Adding a source", in the copy at `root`; returns the
    paths they touch."""
    snapshot = root / "assets" / "snapshots" / SOURCE_ID / FILE
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text(SNAPSHOT, encoding="utf-8")
    (root / "assets" / "sources" / f"{SOURCE_ID}.yaml").write_text(yaml.safe_dump({
        "id": SOURCE_ID,
        "title": "Police personnel per 100,000 population (test fixture)",
        "publisher": "paccto-data tests",
        "producer": "tests/test_adding_a_source.py",
        "homepage": "https://example.org/police",
        "licence": {"name": "Creative Commons Attribution 4.0 International",
                    "spdx": "CC-BY-4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        "redistribution": "open",
        "citation": "paccto-data tests (2026). Police personnel per 100,000 population.",
        "vintage": "2026-01-01",
        "retrieved": "2026-01-01",
        "release": {"cadence": "annual", "expected_month": 6, "grace_days": 90},
        "files": [{"id": "data", "name": FILE, "url": f"https://example.org/police/{FILE}",
                   "sha256": hashlib.sha256(snapshot.read_bytes()).hexdigest(),
                   "bytes": snapshot.stat().st_size, "format": "csv"}],
    }, sort_keys=False), encoding="utf-8")
    (root / "paccto_data" / "sources" / f"{SOURCE_ID}.py").write_text(MODULE, encoding="utf-8")
    with (root / "assets" / "indicators.yaml").open("a", encoding="utf-8") as catalogue:
        catalogue.write(textwrap.indent(yaml.safe_dump([{
            "id": INDICATOR, "title_en": "Police personnel rate",
            "title_es": "Tasa de personal policial", "unit": UNIT,
            "description_en": "Police personnel per 100,000 population (test fixture).",
            "description_es": "Personal policial por cada 100.000 habitantes (prueba).",
            "sources": [SOURCE_ID], "valid_min": 0, "valid_max": None,
        }], sort_keys=False, allow_unicode=True), "  "))
    (root / "expectations" / f"staging.{SOURCE_ID}.json").write_text(
        json.dumps(SUITE, indent=1), encoding="utf-8")
    return sorted([f"assets/sources/{SOURCE_ID}.yaml", f"assets/snapshots/{SOURCE_ID}/{FILE}",
                   f"paccto_data/sources/{SOURCE_ID}.py", "assets/indicators.yaml",
                   f"expectations/staging.{SOURCE_ID}.json"])


def changed_files(copy: Path, original: Path, top: str = "") -> list[str]:
    """Every file added to or changed in `copy` against `original` (caches left out)."""
    compared = filecmp.dircmp(copy, original, ignore=["__pycache__"])
    changed = [f"{top}{name}" for name in compared.diff_files]
    for name in compared.left_only:
        path = copy / name
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        changed += [f"{top}{p.relative_to(copy).as_posix()}" for p in files]
    for name in compared.common_dirs:
        changed += changed_files(copy / name, original / name, f"{top}{name}/")
    return sorted(changed)


def test_a_source_added_where_the_readme_says_is_built_checked_and_released(tmp_path,
                                                                          monkeypatch):
    from paccto_data.settings import PROJECT_ROOT

    project = Project.copy(tmp_path / "project", tmp_path / "data")
    touched = add_the_source(project.root)
    # Only the README's places changed: nothing else of the project was touched.
    assert changed_files(project.root, PROJECT_ROOT) == touched

    run = project.build()
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]

    with duckdb.connect(str(project.warehouse), read_only=True) as conn:
        rows = conn.execute(
            "SELECT iso3, year, value, source_file, source_locator FROM core.fact_indicator "
            "WHERE source_id = ? "
            "AND indicator_id = ? AND unit = ? ORDER BY iso3, year",
            [SOURCE_ID, INDICATOR, UNIT]).fetchall()
        assert rows == LAC_ROWS
        assert conn.execute("SELECT redistribution FROM core.dim_source WHERE source_id = ?",
                            [SOURCE_ID]).fetchall() == [("open",)]
        assert conn.execute("SELECT title_es FROM core.dim_indicator WHERE indicator_id = ?",
                            [INDICATOR]).fetchall() == [("Tasa de personal policial",)]

    # Its suite is a blocking check of its staging table, and it ran and passed in that run.
    key = dg.AssetCheckKey(dg.AssetKey(["staging", SOURCE_ID]), "great_expectations")
    monkeypatch.setenv("DAGSTER_HOME", str(project.data / "dagster"))  # as dagster.yaml says
    with dg.DagsterInstance.get() as instance:
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [key])[key]
        assert record.status.value == "SUCCEEDED" and record.evaluation.passed
        metadata = record.evaluation.metadata
    assert f"staging.{SOURCE_ID}.json" in str(metadata), metadata
