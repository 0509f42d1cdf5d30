"""The dataUNODC "long" layout shared by the UNODC Data Portal downloads (CTS, GLOTIP, IAFQ…).

A workbook holds one sheet: a few preamble rows (row 1 "UNODC" and a contact address, row 2
the release stamp as text "dd/mm/yyyy"), then the header (row 3 in the 2023-2024 files)

    Iso3_code, Country, Region, Subregion, Indicator, Dimension, Category, Sex, Age, Year,
    Unit of measurement, <value>, Source

and one observation per row below it. The value column is `VALUE` (numbers) or `txtVALUE`
(text, where small counts are suppressed as "<5"). `read_long` reads the sheet (the header is
found by its column names, wherever it sits in the first rows); `tidy_long` turns it into the
staging table of `core.fact_indicator`, driven by a `Layout` that each source module declares:

    iso3, year, indicator_id, value, unit, flag, sex, age, category, dimension,
    source_file, source_locator (the value's cell, e.g. `data_glotip!L4910`)

Every row dropped on purpose is counted by reason; anything unexpected raises a
`SourceDataError` naming file, sheet, row, column and value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from paccto_data.countries import classify_country, lac_iso3
from paccto_data.errors import SourceDataError, UnknownCountryError
from paccto_data.sources import DISAGGREGATIONS, Tidy
from paccto_data.sources._common import (
    cell_locators,
    map_distinct,
    read_sheet,
    resolve_countries,
    to_integer,
    to_number,
    with_provenance,
)

LABELS = ("Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
          "Sex", "Age", "Unit of measurement", "Source")
HEADER_WITHIN = 10  # the header has always been row 3; a few inserted rows are tolerated
MISSING = ("", "..")  # the portal's markers of a missing value
COLUMNS = ["iso3", "year", "indicator_id", "value", "unit", "flag", *DISAGGREGATIONS]
KEY = ["iso3", "year", "indicator_id", *DISAGGREGATIONS]

# Sex and age as the portal writes them -> the fact's vocabulary. "na" (IAFQ: the measure
# has no sex or age breakdown, e.g. arms seized) is the total.
SEX = {"Total": "total", "Female": "female", "Male": "male", "Other": "other",
       "Unknown": "unknown", "na": "total"}
AGE = {"Total": "total", "0 to 17 years": "0 to 17 years", "18 years or over": "18 years or over",
       "Unknown": "unknown", "na": "total"}

_FOOTNOTE = re.compile(r"(\s*[*†‡]+|\s*\[\w{1,3}\])+$")  # "Mexico*", "Bribery [a]"
_STAMP = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")  # "1,282" in txtVALUE


@dataclass(frozen=True)
class Measure:
    """What a workbook row measures: the indicator id and its unit (assets/indicators.yaml)."""

    indicator_id: str
    unit: str


@dataclass(frozen=True)
class Layout:
    """How one dataUNODC file maps onto the staging table.

    `measures` maps (Indicator, Category or None, Unit of measurement) to a Measure. With
    `category_is_measure` the Category selects the measure (CTS: the offence type is what is
    counted), so the staging row's category and dimension are 'total'; otherwise the key
    holds None for the category and Dimension/Category are kept as disaggregations.
    `out_of_scope` maps (Indicator, Category or None) to the reason rows are dropped.
    """

    value_column: str
    measures: Mapping[tuple[str, str | None, str], Measure]
    dimensions: frozenset[str]
    default_source: str  # the portal's own collection: its Source needs no flag
    category_is_measure: bool = False
    out_of_scope: Mapping[tuple[str, str | None], str] = field(default_factory=dict)
    # Reviewed corrections of category labels as the file writes them (typos, totals).
    category_fixes: Mapping[str, str] = field(default_factory=dict)
    # (ISO3, Country as the file writes it): reviewed names that are not the country's name.
    name_typos: frozenset[tuple[str, str]] = frozenset()
    # Value texts that stand for a censored number: text -> flag (value NULL).
    censored: Mapping[str, str] = field(default_factory=dict)
    # Rows where the file is known to repeat a key (see `drop_repeated_keys`); labels as read.
    known_repeats: Callable[[pd.DataFrame], pd.Series] | None = None
    # What the repeated rows are: "alternatives" (different things under one label) or
    # "parts" (pieces of the labelled quantity that the publisher did not add up).
    repeats_are: str = "alternatives"


@dataclass(frozen=True)
class LongSheet:
    """A dataUNODC workbook read: `frame` holds the label columns as clean text (runs of
    spaces collapsed, footnote marks removed), `Year` and the value cell as the workbook
    holds them, and `file_row`."""

    path: Path
    sheet: str
    header_row: int
    stamp: str  # the release date above the header (A2), ISO 8601
    frame: pd.DataFrame
    value_letter: str  # the column letter of the value cells


def clean_label(value) -> str:
    """A label cell as text: None -> "", 2013.0 -> "2013", spaces collapsed, trailing
    footnote marks ("*", "†", "[a]") removed."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _FOOTNOTE.sub("", " ".join(str(value).split()))


def _stamp(preamble, path: Path, sheet: str, header_row: int) -> str:
    for row in preamble:
        for cell in row:
            if isinstance(cell, (date, datetime)):
                return cell.strftime("%Y-%m-%d")
            match = _STAMP.match(str(cell).strip()) if isinstance(cell, str) else None
            if match:
                day, month, year = match.groups()
                try:
                    return date(int(year), int(month), int(day)).isoformat()
                except ValueError:
                    continue
    raise SourceDataError(path, "no release stamp above the header", sheet=sheet,
                          row=header_row - 1 if header_row > 1 else None,
                          expected="the dataUNODC layout: a date dd/mm/yyyy in A2")


def read_long(path: Path, value_column: str) -> LongSheet:
    """Read the one sheet of a dataUNODC long workbook."""
    sheet = read_sheet(path, [*LABELS[:9], "Year", LABELS[9], value_column, LABELS[10]],
                       header_within=HEADER_WITHIN)
    frame = sheet.frame
    columns = {}
    for column in LABELS:
        columns[column] = map_distinct(frame[column], clean_label).astype(object)
    frame = frame[["Year", value_column, "file_row"]].assign(**columns)
    stamp = _stamp(sheet.preamble, path, sheet.name, sheet.header_row)
    return LongSheet(path, sheet.name, sheet.header_row, stamp, frame,
                     sheet.letter(value_column))


def _fail(long: LongSheet, frame: pd.DataFrame, mask, column: str, problem: str,
          expected: str) -> None:
    if mask.any():
        i = np.flatnonzero(np.asarray(mask))[0]
        raise SourceDataError(long.path, problem, sheet=long.sheet,
                              row=int(frame["file_row"].iloc[i]), column=column,
                              value=frame[column].iloc[i], expected=expected)


def _resolve(long: LongSheet, layout: Layout, dropped: Counter) -> pd.DataFrame:
    """Countries by their code (by name where the code cell is empty); LAC only; the names
    of kept rows must name the same country, unless reviewed in `layout.name_typos`."""
    raw = long.frame
    has_code = raw["Iso3_code"] != ""
    countries = pd.concat([
        resolve_countries(raw[has_code], "Iso3_code", long.path, dropped, sheet=long.sheet),
        resolve_countries(raw[~has_code], "Country", long.path, dropped, sheet=long.sheet),
    ]).sort_values("file_row", kind="stable")
    outside = ~countries["iso3"].isin(lac_iso3())
    dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    pairs = lac[["iso3", "Country"]].drop_duplicates()
    for iso3, name in zip(pairs["iso3"], pairs["Country"]):
        if (iso3, name) in layout.name_typos:
            continue
        try:
            named = classify_country(name).iso3
        except UnknownCountryError:
            named = None
        if named != iso3:
            where = (lac["iso3"] == iso3) & (lac["Country"] == name)
            _fail(long, lac, where, "Country", f"the name does not match the code {iso3}",
                  f"a name of {iso3} (or a reviewed entry in the Layout's name_typos)")
    return lac


def _measures(long: LongSheet, layout: Layout, frame: pd.DataFrame, dropped: Counter):
    """Drop out-of-scope rows; map every other row to its Measure, checking that the file's
    unit is the one the indicator is counted in."""
    frame = frame.assign(measure_category=frame["Category"] if layout.category_is_measure
                         else None)
    pair = ["Indicator", "measure_category"]
    reasons = pd.Series([layout.out_of_scope.get(p) for p in
                         zip(frame["Indicator"], frame["measure_category"])],
                        index=frame.index, dtype=object)
    dropped.update(reasons.dropna())
    frame = frame[reasons.isna()]
    known: dict[tuple, dict[str, Measure]] = {}
    for (indicator, category, unit), measure in layout.measures.items():
        known.setdefault((indicator, category), {})[unit] = measure
    triples = frame[[*pair, "Unit of measurement"]].drop_duplicates()
    mapped = {}
    for indicator, category, unit in triples.itertuples(index=False):
        same = (frame["Indicator"] == indicator) & (
            frame["measure_category"] == category if category is not None else True)
        by_unit = known.get((indicator, category))
        if by_unit is None:
            _fail(long, frame, same, "Category" if layout.category_is_measure else "Indicator",
                  "unknown indicator", "one of " + "; ".join(
                      sorted({" / ".join(filter(None, k)) for k in known})))
        if unit not in by_unit:
            _fail(long, frame, same & (frame["Unit of measurement"] == unit),
                  "Unit of measurement", "the unit does not agree with the indicator",
                  " or ".join(f"{u!r} ({m.indicator_id})" for u, m in by_unit.items()))
        mapped[(indicator, category, unit)] = by_unit[unit]
    measures = [mapped[t] for t in zip(frame["Indicator"], frame["measure_category"],
                                       frame["Unit of measurement"])]
    return frame.assign(indicator_id=[m.indicator_id for m in measures],
                        unit=[m.unit for m in measures])


def _disaggregations(long: LongSheet, layout: Layout, frame: pd.DataFrame,
                     dropped: Counter) -> pd.DataFrame:
    _fail(long, frame, ~frame["Sex"].isin(list(SEX)), "Sex", "unknown sex",
          f"one of {list(SEX)}")
    _fail(long, frame, ~frame["Age"].isin(list(AGE)), "Age", "unknown age group",
          f"one of {list(AGE)}")
    _fail(long, frame, ~frame["Dimension"].isin(list(layout.dimensions)), "Dimension",
          "unknown dimension", f"one of {sorted(layout.dimensions)}")
    frame = frame.assign(sex=frame["Sex"].map(SEX), age=frame["Age"].map(AGE))
    if layout.category_is_measure:
        return frame.assign(category="total", dimension="total")
    category = map_distinct(frame["Category"], lambda c: layout.category_fixes.get(c, c))
    unlabelled = category == ""
    dropped["unlabelled_category"] += int(unlabelled.sum())
    frame, category = frame[~unlabelled], category[~unlabelled]
    return frame.assign(
        category=category.where(category != "Total", "total"),
        dimension=frame["Dimension"].where(frame["Dimension"] != "Total", "total"))


def _values(long: LongSheet, layout: Layout, frame: pd.DataFrame) -> pd.DataFrame:
    column = layout.value_column
    text = map_distinct(frame[column], clean_label)
    censored = text.map(layout.censored)
    text = text.where(censored.isna(), "")
    text = text.where(~text.str.match(_THOUSANDS), text.str.replace(",", "", regex=False))
    value = to_number(frame.assign(**{column: text}), column, long.path, sheet=long.sheet,
                      missing=MISSING)
    source_flag = frame["Source"].where(frame["Source"] != layout.default_source)
    flag = censored.where(censored.notna(), source_flag)
    flag = flag.where(flag.notna() & (flag != ""), None)
    return frame.assign(value=value, flag=flag, censored=censored.notna())


def drop_repeated_keys(long: LongSheet, layout: Layout, frame: pd.DataFrame,
                       dropped: Counter) -> pd.DataFrame:
    """The portal repeats some keys: rows whose labels lost what told them apart. Where
    `layout.known_repeats` marks the rows:
    - alternatives (IAFQ's two "Total"s of "by location"): identical copies are dropped as
      "repeated_row", one kept (its value is right whichever row the key means); groups
      that disagree are dropped whole as "conflicting_repeated_key";
    - parts (GLOTIP's sub-forms of "Other forms of exploitation"): no row is the labelled
      quantity, so every row of the group is dropped as "unsummed_parts" (adding them up
      is not possible where a part is censored, and not the publisher's number anyway).
    Any other repeat raises."""
    repeated = frame.duplicated(KEY, keep=False)
    if not repeated.any():
        return frame
    known = layout.known_repeats(frame) if layout.known_repeats else \
        pd.Series(False, index=frame.index)
    unknown = repeated & ~known
    if unknown.any():
        clash = frame[unknown].sort_values("file_row")
        first = clash.iloc[0]
        same = clash[(clash[KEY] == first[KEY]).all(axis=1)]
        second = same.iloc[1] if len(same) > 1 else first
        other = frame[(frame[KEY] == second[KEY]).all(axis=1)
                      & (frame["file_row"] != second["file_row"])].iloc[0]
        raise SourceDataError(
            long.path, f"duplicate of row {int(other['file_row'])}", sheet=long.sheet,
            row=int(second["file_row"]), column=", ".join(KEY),
            value=tuple(v.item() if hasattr(v, "item") else v for v in second[KEY]),
            expected=f"one row per ({', '.join(KEY)})")
    if layout.repeats_are == "parts":
        dropped["unsummed_parts"] += int(repeated.sum())
        return frame[~repeated]
    signature = frame["value"].map(repr) + "|" + frame["flag"].fillna("").astype(str)
    group = frame[repeated].assign(signature=signature[repeated]) \
        .groupby(KEY, dropna=False)["signature"]
    agree = group.transform("nunique") == 1
    conflicting = agree.index[~agree]
    copies = frame.loc[agree.index[agree]].duplicated(KEY, keep="first")
    copies = copies.index[copies]
    dropped["conflicting_repeated_key"] += len(conflicting)
    dropped["repeated_row"] += len(copies)
    return frame.drop(index=conflicting.union(copies))


def tidy_long(long: LongSheet, layout: Layout) -> Tidy:
    """The staging table of a dataUNODC long workbook: LAC rows, one per (iso3, year,
    indicator_id, sex, age, category, dimension)."""
    dropped = Counter()
    frame = _resolve(long, layout, dropped)
    frame = _measures(long, layout, frame, dropped)
    frame = _disaggregations(long, layout, frame, dropped)
    frame = frame.assign(year=to_integer(frame, "Year", long.path, sheet=long.sheet))
    frame = _values(long, layout, frame)
    frame = drop_repeated_keys(long, layout, frame, dropped)
    missing = frame["value"].isna() & ~frame["censored"]
    dropped["missing_value"] += int(missing.sum())
    frame = frame[~missing]
    table = frame.assign(year=frame["year"].astype("int32"))[COLUMNS]
    table = table.astype({c: "str" for c in COLUMNS if c not in ("year", "value")})
    table = with_provenance(table, long.path,
                            cell_locators(long.sheet, long.value_letter, frame["file_row"]))
    table = table.sort_values(KEY).reset_index(drop=True)
    return Tidy(table, rows_read=len(long.frame), dropped=dropped)
