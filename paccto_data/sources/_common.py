"""Small readers shared by the source modules."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from paccto_data.countries import classify_country
from paccto_data.errors import SourceDataError, UnknownCountryError

# A UTF-8 byte-order mark, or the lone 0xFF a re-encoding left of one (the bundled
# wb_population bulk CSV starts that way); neither is ever part of the data.
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xff")


def decode_text(path: Path) -> str:
    data = path.read_bytes()
    for bom in _BOMS:
        if data.startswith(bom):
            data = data[len(bom):]
            break
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceDataError(path, "not UTF-8 text", row=line, value=data[exc.start:exc.start + 8],
                              expected="a UTF-8 CSV") from exc


_WB_PREAMBLE = re.compile(r'^"Last Updated Date","(\d{4}-\d{2}-\d{2})"', re.MULTILINE)


def require_columns(frame: pd.DataFrame, columns, file: Path, header_row: int = 1,
                    sheet: str | None = None) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceDataError(
            file, f"column {missing[0]!r} is missing from the header", sheet=sheet,
            row=header_row, column=missing[0], expected=f"the columns {list(columns)}",
        )


def resolve_countries(frame: pd.DataFrame, column: str, file: Path, dropped: Counter,
                      sheet: str | None = None, row_column: str = "file_row") -> pd.DataFrame:
    """Add `iso3` resolved from `column`; rows that are deliberately not countries are
    dropped and counted in `dropped` by reason; an unknown value raises naming the file row
    (taken from `row_column`)."""
    resolutions = {}
    for value, row in zip(frame[column], frame[row_column]):
        if value in resolutions:
            continue
        try:
            resolutions[value] = classify_country(value)
        except UnknownCountryError as exc:
            raise SourceDataError(file, str(exc), sheet=sheet, row=int(row),
                                  column=column, value=value) from exc
    iso3 = frame[column].map(lambda v: resolutions[v].iso3)
    reasons = frame[column].map(lambda v: resolutions[v].reason)
    dropped.update(reasons[iso3.isna()])
    return frame.assign(iso3=iso3)[iso3.notna()]


def read_wb_bulk_csv(path: Path, indicator_code: str) -> tuple[pd.DataFrame, str]:
    """A World Bank bulk CSV (four preamble lines, years as columns) -> long frame with
    `Country Name`, `Country Code`, `year`, `value`, `file_row`; and the release date."""
    text = decode_text(path)
    updated = _WB_PREAMBLE.search(text)
    if not updated:
        raise SourceDataError(path, "no \"Last Updated Date\" in the preamble", row=3,
                              expected="the World Bank bulk CSV layout (four preamble lines)")
    wide = pd.read_csv(io.StringIO(text), skiprows=4, dtype=str, keep_default_na=False)
    require_columns(wide, ["Country Name", "Country Code", "Indicator Code"], path, header_row=5)
    years = [c for c in wide.columns if re.fullmatch(r"\d{4}", c)]
    if not years:
        raise SourceDataError(path, "no year columns in the header", row=5,
                              expected="columns named 1960, 1961, …")
    codes = set(wide["Indicator Code"])
    if codes != {indicator_code}:
        raise SourceDataError(path, "unexpected indicator", row=6, column="Indicator Code",
                              value=sorted(codes - {indicator_code})[:1] or sorted(codes),
                              expected=indicator_code)
    wide["file_row"] = range(6, 6 + len(wide))  # header is line 5
    long = wide.melt(id_vars=["Country Name", "Country Code", "file_row"], value_vars=years,
                     var_name="year", value_name="raw_value")
    long["year"] = long["year"].astype(int)
    return long, updated.group(1)


def to_number(frame: pd.DataFrame, column: str, file: Path, row_column: str = "file_row",
              sheet: str | None = None, missing=("", "..")) -> pd.Series:
    """Parse `column` as float; `missing` markers become NaN; anything else non-numeric
    raises naming the row."""
    text = frame[column].astype("string").str.strip()
    is_missing = text.isna() | text.isin(missing)
    numbers = pd.to_numeric(text.where(~is_missing), errors="coerce")
    bad = numbers.isna() & ~is_missing
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise SourceDataError(file, "not a number", sheet=sheet,
                              row=int(frame[row_column].iloc[i]), column=column,
                              value=text.iloc[i], expected=f"a number or one of {list(missing)}")
    return numbers.astype("float64")
