"""Every value of every staging table that feeds a core fact names its source cell, and the
cell holds that value: the locator is read back from the real source file (the CSV line, and
its year column where a line holds several; the workbook cell) and compared with the staged
value, for every row of every source."""

from __future__ import annotations

import csv
import math
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import python_calamine

from paccto_data.acquire import records
from paccto_data.fileio import decode_text
from paccto_data.sources import staging_tables
from paccto_data.sources._common import cell_locators, line_locators

CELL = re.compile(r"^(?:'((?:[^']|'')+)'|([A-Za-z_][A-Za-z0-9_.]*))!([A-Z]{1,3})([1-9][0-9]*)$")
LINE = re.compile(r"^line ([1-9][0-9]*)(?:, column (.+))?$")
TABLES = {name: t for name, t in staging_tables().items()
          if t.feeds == "fact_indicator" or name == "unodc_drug_seizures"}


def column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


@cache
def sheet_cells(path: Path, sheet: str) -> list[list]:
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    return workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


@cache
def csv_lines(path: Path) -> list[str]:
    """The physical lines of a CSV (index 0 is line 1)."""
    return decode_text(path).splitlines()


def read_locator(path: Path, locator: str):
    """What the source file holds at `locator`: a workbook cell's value, or the text fields
    of a CSV line (a dict by header name where the header is known)."""
    cell = CELL.match(locator)
    if cell:
        sheet = (cell.group(1) or "").replace("''", "'") or cell.group(2)
        row = sheet_cells(path, sheet)[int(cell.group(4)) - 1]
        return row[column_index(cell.group(3))]
    line = LINE.match(locator)
    assert line, f"{path.name}: {locator!r} is neither a CSV line nor a workbook cell"
    lines = csv_lines(path)
    fields = next(csv.reader([lines[int(line.group(1)) - 1]]))
    if line.group(2) is None:
        return fields
    header = next(csv.reader([next(h for h in lines if h.startswith('"Country Name"'))]))
    return fields[header.index(line.group(2))]


def as_number(cell) -> float | None:
    if isinstance(cell, int | float):
        return float(cell)
    text = str(cell).strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_locator_reads_back_the_staged_value(name):
    table = TABLES[name]
    source = records.source(table.source_id)
    files = {f.id: source.snapshot_dir / f.name for f in source.files}
    by_name = {path.name: path for path in files.values()}
    staged = table.tidy(files).table
    value_column = "kilograms" if name == "unodc_drug_seizures" else "value"
    assert staged["source_file"].isin(list(by_name)).all(), \
        "source_file must be a file name of the source YAML"
    checked = 0
    for file_name, locator, value, flag, year in zip(
            staged["source_file"], staged["source_locator"], staged[value_column],
            staged.get("flag", pd.Series(None, index=staged.index)), staged.get("year")):
        held = read_locator(by_name[file_name], locator)
        where = f"{name}: {file_name} {locator}"
        if isinstance(held, list):  # a long CSV line: the value is one of its fields
            assert any(same(n, value) for n in map(as_number, held) if n is not None), \
                f"{where} holds {held}, not {value}"
            assert str(year) in held, f"{where} holds {held}, not the year {year}"
        elif pd.isna(value):  # a censored count: the cell holds the publisher's marker
            assert str(held).strip() == flag, f"{where} holds {held!r}, not {flag!r}"
        else:
            number = as_number(held)
            assert number is not None and same(number, value), \
                f"{where} holds {held!r}, not {value}"
        checked += 1
    assert checked == len(staged) > 0


def test_locators_follow_the_spreadsheet_and_csv_conventions():
    rows = pd.Series([29738, 4])
    assert list(cell_locators("Sheet1", "F", rows)) == ["Sheet1!F29738", "Sheet1!F4"]
    # a sheet name with spaces is quoted, and a quote doubled, as a spreadsheet writes it
    assert list(cell_locators("CPI Timeseries 2012 - 2023", "AR", rows[:1])) == \
        ["'CPI Timeseries 2012 - 2023'!AR29738"]
    assert list(cell_locators("O'Hara", "A", rows[:1])) == ["'O''Hara'!A29738"]
    assert list(line_locators(rows)) == ["line 29738", "line 4"]
    assert list(line_locators(rows, pd.Series([2022, 1990]))) == \
        ["line 29738, column 2022", "line 4, column 1990"]


def test_the_register_rows_name_their_line_and_the_cell_that_names_each_country():
    source = records.source("paccto_activities")
    files = {f.id: source.snapshot_dir / f.name for f in source.files}
    tables = staging_tables()
    activities = tables["paccto_activities"].tidy(files).table
    countries = tables["paccto_activity_countries"].tidy(files).table
    register = files["register"]
    header = next(csv.reader([csv_lines(register)[0]]))
    assert set(activities["source_file"]) == set(countries["source_file"]) == {register.name}
    for activity_id, locator in zip(activities["activity_id"], activities["source_locator"]):
        fields = dict(zip(header, read_locator(register, locator)))
        assert fields["activity_id"] == activity_id, f"{locator} holds {fields['activity_id']}"
    for activity_id, iso3, locator in zip(countries["activity_id"], countries["iso3"],
                                          countries["source_locator"]):
        line, column = LINE.match(locator).groups()
        fields = dict(zip(header, read_locator(register, f"line {line}")))
        assert fields["activity_id"] == activity_id
        assert iso3 in fields[column].split(";"), f"{locator} holds {fields[column]!r}, not {iso3}"
    assert set(countries["source_locator"].str.extract(r"column (\w+)$")[0]) == \
        {"countries", "host_country"}
