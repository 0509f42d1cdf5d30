"""What the tests of the source modules (tests/test_source_*.py) share.

A test module names its source once (`SOURCE_ID = "wb_homicide"`); the fixtures of
tests/conftest.py ("source modules" block) give it the bundled files, the tidy table, a
trimmed workbook copy, `error_of` and `run_suite`, all from that name. The functions here are
the plain helpers those fixtures and the tests call.
"""

from __future__ import annotations

import importlib
import shutil
from functools import cache
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import yaml

from paccto_data.acquire import fetch, records
from paccto_data.errors import SourceDataError
from paccto_data.quality import suites
from paccto_data.settings import INDICATORS_PATH, Settings
from paccto_data.sources import Tidy, staging_tables
from paccto_data.sources._unodc import read_long


def source_module(source_id: str) -> ModuleType:
    return importlib.import_module(f"paccto_data.sources.{source_id}")


def tidy_function(source_id: str):
    """The tidy function of a source's staging table named like the source."""
    return source_module(source_id).TABLES[source_id]


def local_files(source_id: str) -> dict[str, Path]:
    """The bundled (sha256-verified) files of a source, by file id."""
    return dict(_local_files(source_id))


@cache
def _local_files(source_id: str) -> dict[str, Path]:
    return fetch.local_files(records.source(source_id), Settings.from_env())


@cache
def long_sheet(source_id: str):
    """The one sheet of a dataUNODC long workbook (unodc_cts_corruption, …), read once."""
    return read_long(local_files(source_id)["data"], source_module(source_id).VALUE_COLUMN)


@cache
def tidy_table(table: str) -> Tidy:
    """A staging table as its tidy function makes it from the bundled files, made once per
    test process (shared by tests/test_sources.py and the module's `tidy` fixture: never
    change it in place). A dataUNODC workbook is read once, for `long_sheet` too."""
    staging = staging_tables()[table]
    module = source_module(staging.source_id)
    if hasattr(module, "tidy_from"):
        return module.tidy_from(long_sheet(staging.source_id))
    return staging.tidy(local_files(staging.source_id))


def error_of(tidy, files) -> SourceDataError:
    """The SourceDataError `tidy(files)` raises (the test fails if it raises none)."""
    with pytest.raises(SourceDataError) as caught:
        tidy(files)
    return caught.value


# --- broken copies of text files -------------------------------------------------------------

def edited_copy(files: dict, tmp_path: Path, edit, file_id: str = "data",
                newline: str = "\n") -> dict:
    """The files, with `file_id` replaced by a copy in tmp_path whose lines (split on
    `newline`) pass through `edit(lines) -> lines`; every other byte is kept."""
    path = tmp_path / files[file_id].name
    shutil.copyfile(files[file_id], path)
    lines = path.read_bytes().decode("utf-8").split(newline)
    path.write_bytes(newline.join(edit(lines)).encode("utf-8"))
    return {**files, file_id: path}


def replace_line(number: int, old: str, new: str):
    """An edit for `edited_copy`: the first `old` of line `number` (1-based) becomes `new`."""
    def edit(lines):
        assert old in lines[number - 1], lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(old, new, 1)
        return lines
    return edit


def repeat_line(number: int, change=lambda line: line):
    """An edit for `edited_copy`: line `number` again (through `change`) as the next line."""
    def edit(lines):
        return lines[:number] + [change(lines[number - 1])] + lines[number:]
    return edit


# --- suites ----------------------------------------------------------------------------------

def run_suite(frame: pd.DataFrame, suite: str | dict, parameters: dict | None = None):
    """Validate `frame` against a suite: its table name ("staging.wb_homicide") or the suite
    itself."""
    if isinstance(suite, str):
        suite = suites.load_suite_file(suites.suite_path(suite))
    return suites.validate(frame, suite, parameters or {},
                           key_columns=suite["meta"]["key_columns"])


def assert_suite_passes(frame: pd.DataFrame, table: str, parameters: dict | None = None):
    """The suite of `table` passes on `frame`, and every expectation of its file ran."""
    outcome = run_suite(frame, table, parameters)
    assert outcome.passed, suites.summary(outcome)
    expectations = suites.load_suite_file(suites.suite_path(table))["expectations"]
    assert len(outcome.outcomes) == len(expectations)


def broken_provenance(row: pd.DataFrame) -> list[pd.DataFrame]:
    """Where the rows carry their provenance, `row` without a source file, without a
    locator, with a locator that names no line or cell, and naming a file no source has."""
    if "source_locator" not in row.columns:
        return []
    return [row.assign(source_file=None), row.assign(source_locator=None),
            row.assign(source_locator="somewhere"), row.assign(source_file="elsewhere.csv")]


def assert_no_expectation_passes(run, good: pd.DataFrame, columns, changes):
    """Real rows `good`, plus its first row broken: repeated (a duplicate key and source
    cell), with each of `columns` emptied, changed by each of `changes` ({column: value}),
    and with its provenance broken; and a column no suite allows. The suite runs, and not
    one of its expectations passes."""
    row = good.iloc[[0]]
    bad = [row, *[row.assign(**{c: None}) for c in columns], *[row.assign(**c) for c in changes],
           *broken_provenance(row)]
    outcome = run(pd.concat([good, *bad], ignore_index=True).assign(extra=1))
    assert outcome.could_not_run is None
    assert [o.describe() for o in outcome.outcomes if o.success] == []


# --- rows of a long table with disaggregations (sex, age, category, dimension) ---------------

TOTAL = {"sex": "total", "age": "total", "category": "total", "dimension": "total"}


def rows_of(table: pd.DataFrame, iso3: str, year: int, indicator_id: str,
            **labels) -> pd.DataFrame:
    """The rows of one country, year and indicator with these labels (the rest `total`)."""
    mask = (table["iso3"] == iso3) & (table["year"] == year) & (
        table["indicator_id"] == indicator_id)
    for column, value in (TOTAL | labels).items():
        mask &= table[column] == value
    return table[mask]


def one(table: pd.DataFrame, iso3: str, year: int, indicator_id: str, **labels) -> pd.Series:
    """The one row `rows_of` finds (the test fails if there is not exactly one)."""
    rows = rows_of(table, iso3, year, indicator_id, **labels)
    assert len(rows) == 1, (iso3, year, indicator_id, labels, rows)
    return rows.iloc[0]


# --- the indicator catalogue -----------------------------------------------------------------

def catalogue_entries() -> dict[str, dict]:
    """assets/indicators.yaml, by indicator id."""
    entries = yaml.safe_load(INDICATORS_PATH.read_text(encoding="utf-8"))["indicators"]
    return {e["id"]: e for e in entries}


def used_units(table: pd.DataFrame) -> dict[str, str]:
    """Indicator id -> unit, as a staging table writes them."""
    return table.drop_duplicates("indicator_id").set_index("indicator_id")["unit"].to_dict()
