"""Transparency International Corruption Perceptions Index (CPI): the 2023 and 2022 workbooks.

Each workbook's "CPI Timeseries 2012 - <edition>" sheet holds, per country, the score,
rank (from 2017), number of sources and standard error of every year since 2012. The newest
workbook is authoritative: a value comes from the 2023 workbook where it has one, else from
the 2022 workbook, and `flag` says which. CC BY-ND 4.0: this table goes into the warehouse
for analysts, never into a published package (assets/sources/ti_cpi.yaml: unmodified-only).
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from paccto_data.countries import lac_iso3
from paccto_data.errors import SourceDataError
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    read_sheet,
    require_unique,
    resolve_countries,
    to_number,
    with_provenance,
)

SOURCE_ID = "ti_cpi"
# File id -> (edition, time-series sheet), newest first: the order decides which workbook's
# value is kept for a year both hold.
EDITIONS = {
    "cpi_2023": (2023, "CPI Timeseries 2012 - 2023"),
    "cpi_2022": (2022, "CPI Timeseries 2012 - 2022"),
}
NAME, CODE = "Country / Territory", "ISO3"
# Heading (before the year, case-insensitive: the sheets write "CPI Score 2013") ->
# (indicator id, unit).
MEASURES = {
    "cpi score": ("cpi_score", "score (0 highly corrupt to 100 very clean)"),
    "rank": ("cpi_rank", "rank (1 = least corrupt)"),
    "sources": ("cpi_sources", "data sources"),
    "standard error": ("cpi_standard_error", "score points"),
}
_MEASURE_COLUMN = re.compile(r"^(cpi score|rank|sources|standard error) (\d{4})"
                             r"( \(column [A-Z]+\))?$", re.IGNORECASE)


def indicator_ids() -> list[str]:
    return [indicator for indicator, _ in MEASURES.values()]


def read_edition(path, edition: int, sheet_name: str,
                 dropped: Counter) -> tuple[pd.DataFrame, int]:
    """One workbook's time-series sheet -> (long frame of its LAC cells: iso3, year,
    indicator_id, unit, value (NaN for an empty cell), source_file, source_locator; the
    number of cells read). Rows left
    out are counted in `dropped`, once per cell."""
    # The header is found by its names: row 4 in the 2023 workbook, row 3 in 2022.
    sheet = read_sheet(path, [NAME, CODE, f"CPI score {edition}"], sheet=sheet_name)
    raw = sheet.frame
    matches = {c: _MEASURE_COLUMN.match(c) for c in raw.columns}
    for column, match in matches.items():
        if match and match.group(3):  # read_sheet renamed a repeated heading
            raise SourceDataError(path, f"column '{match.group(1)} {match.group(2)}' appears "
                                  "twice in the header", sheet=sheet.name, row=sheet.header_row,
                                  column=column, expected="each measure and year once")
    columns = {c: (MEASURES[m.group(1).lower()], int(m.group(2)))
               for c, m in matches.items() if m}
    later = [(c, year) for c, (_, year) in columns.items() if year > edition]
    if later:
        raise SourceDataError(path, f"a year after the {edition} edition", sheet=sheet.name,
                              row=sheet.header_row, column=later[0][0], value=later[0][1],
                              expected=f"years up to {edition}")
    cells = len(columns)
    rows_dropped = Counter()
    by_code = resolve_countries(raw, CODE, path, rows_dropped, sheet=sheet.name)
    # The name must mean the same country as the code on its row (TI spells some names its
    # own way: reviewed overrides in assets/country_overrides.yaml).
    by_name = resolve_countries(raw, NAME, path, Counter(), sheet=sheet.name)
    code_iso3 = dict(zip(by_code["file_row"], by_code["iso3"]))
    name_iso3 = dict(zip(by_name["file_row"], by_name["iso3"]))
    for row, name, code in zip(raw["file_row"], raw[NAME], raw[CODE]):
        if code_iso3.get(row) != name_iso3.get(row):
            raise SourceDataError(path, f"the name does not match the ISO3 code {code!r}",
                                  sheet=sheet.name, row=int(row), column=NAME, value=name,
                                  expected=f"a name of {code_iso3.get(row) or code}")
    require_unique(by_code, ["iso3"], path, sheet=sheet.name)
    outside = ~by_code["iso3"].isin(lac_iso3())
    rows_dropped["not_lac"] += int(outside.sum())
    dropped.update({reason: n * cells for reason, n in rows_dropped.items()})
    lac = by_code[~outside]
    parts = [with_provenance(pd.DataFrame({
        "iso3": lac["iso3"], "year": year, "indicator_id": indicator, "unit": unit,
        "value": to_number(lac, column, path, sheet=sheet.name, missing=("",)),
    }), path, sheet.cells(column, lac["file_row"]))
        for column, ((indicator, unit), year) in columns.items()]
    long = pd.concat(parts, ignore_index=True)
    return long, len(raw) * cells


def tidy_cpi(files) -> Tidy:
    """Corruption Perceptions Index score (0-100), rank, number of sources and standard error
    for every LAC country and year since 2012, long: one row per (iso3, year, indicator_id),
    taken from the newest workbook that holds the value (`flag`: cpi_2023_workbook or
    cpi_2022_workbook). A sheet row holds one cell per measure and year, so rows_read and the
    drops count cells: areas that are not M49 areas (Kosovo, Taiwan), countries outside LAC,
    empty cells and values superseded by the newer workbook are dropped and counted."""
    dropped = Counter()
    rows_read = 0
    parts = []
    for file_id, (edition, sheet_name) in EDITIONS.items():
        long, read = read_edition(files[file_id], edition, sheet_name, dropped)
        rows_read += read
        missing = long["value"].isna()
        dropped["missing_value"] += int(missing.sum())
        parts.append(long[~missing].assign(flag=f"{file_id}_workbook"))
    values = pd.concat(parts, ignore_index=True)  # newest workbook first
    superseded = values.duplicated(["iso3", "year", "indicator_id"], keep="first")
    dropped["superseded_by_newer_workbook"] += int(superseded.sum())
    kept = values[~superseded]
    table = pd.DataFrame({
        "iso3": kept["iso3"].astype(str),
        "year": kept["year"].astype("int32"),
        "indicator_id": kept["indicator_id"],
        "value": kept["value"],
        "unit": kept["unit"],
        "flag": kept["flag"],
        "source_file": kept["source_file"],
        "source_locator": kept["source_locator"],
    }).sort_values(["iso3", "year", "indicator_id"]).reset_index(drop=True)
    return Tidy(table, rows_read=rows_read, dropped=dropped)


TABLES = {"ti_cpi": tidy_cpi}
FEEDS = {"ti_cpi": "fact_indicator"}
