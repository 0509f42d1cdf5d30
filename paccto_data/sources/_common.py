"""Small readers shared by the source modules. Whatever a parser (csv, pandas, calamine)
objects to comes out as a `SourceDataError` naming the file, and the sheet and row where
they are known; a workbook beyond its limits is refused before calamine opens it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from paccto_data.countries import classify_country
from paccto_data.csv_reader import read_csv_frame, read_csv_table  # noqa: F401 (the sources read CSVs through here)
from paccto_data.errors import SourceDataError, SourceFileError, UnknownCountryError
from paccto_data.fileio import decode_text

_WB_PREAMBLE = re.compile(r'^"Last Updated Date","(\d{4}-\d{2}-\d{2})"', re.MULTILINE)


def require_columns(frame: pd.DataFrame, columns, file: Path, header_row: int = 1,
                    sheet: str | None = None) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceDataError(
            file, f"column {missing[0]!r} is missing from the header", sheet=sheet,
            row=header_row, column=missing[0], expected=f"the columns {list(columns)}",
        )


def map_distinct(column: pd.Series, function) -> pd.Series:
    """`column.map(function)`, calling `function` once per distinct value rather than once
    per row (a sheet repeats a few hundred labels over tens of thousands of rows). Only a
    column of strings alone: pandas' factorize takes values that compare equal for one
    (1, 1.0 and True; 0.0 and -0.0; None, NaN and NA), so any other column maps row by row."""
    if pd.api.types.infer_dtype(column, skipna=False) != "string":
        return column.map(function)
    codes, uniques = pd.factorize(column)
    mapped = pd.Series(uniques, dtype=object).map(function).to_numpy()
    return pd.Series(mapped[codes], index=column.index, name=column.name)


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
    iso3 = map_distinct(frame[column], lambda v: resolutions[v].iso3)
    reasons = map_distinct(frame[column], lambda v: resolutions[v].reason)
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
    wide = read_csv_frame(path, text, skiprows=4, dtype=str, keep_default_na=False)
    require_columns(wide, ["Country Name", "Country Code", "Indicator Code"], path, header_row=5)
    years = [c for c in wide.columns if re.fullmatch(r"\d{4}", c)]
    if not years:
        raise SourceDataError(path, "no year columns in the header", row=5,
                              expected="columns named 1960, 1961, …")
    wrong = (wide["Indicator Code"] != indicator_code).to_numpy().nonzero()[0]
    if len(wrong) or wide.empty:  # name the first line with another code
        i = int(wrong[0]) if len(wrong) else None
        raise SourceDataError(path, "unexpected indicator", row=6 + (i or 0),
                              column="Indicator Code",
                              value=wide["Indicator Code"].iloc[i] if i is not None else None,
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


@dataclass(frozen=True)
class Sheet:
    """One worksheet read into a frame: a column per header cell (values as the workbook
    holds them: str, float, int, bool, date…; empty cells are "") plus `file_row`, the
    spreadsheet row number a person sees (row 1 is the first row of the sheet).
    `preamble` holds the rows above the header as the workbook holds them (titles, stamps)."""

    frame: pd.DataFrame
    name: str
    header_row: int
    preamble: tuple = ()
    letters: tuple = ()  # the column letter of each header column, in frame order

    def letter(self, column: str) -> str:
        """The column letter ("F") of the header column `column`."""
        return dict(zip(self.frame.columns, self.letters))[column]

    def cells(self, column: str, rows: pd.Series) -> pd.Series:
        """`Sheet!F29738`, the cell of `column` on each of `rows` (sheet row numbers)."""
        return cell_locators(self.name, self.letter(column), rows)


def line_locators(rows: pd.Series, columns: pd.Series | None = None) -> pd.Series:
    """`line N`: the physical line of a CSV record (the header is line 1); where a line holds
    several values (a column per year), `line N, column 2022` names the column too."""
    locators = "line " + rows.astype("int64").astype(str)
    return locators if columns is None else locators + ", column " + columns.astype(str)


def cell_locators(sheet: str, letter: str, rows: pd.Series) -> pd.Series:
    """`Sheet1!F29738`: the workbook cell in column `letter` of each of `rows`, written as
    a spreadsheet reference (a sheet name with spaces or punctuation is quoted:
    `'CPI Timeseries 2012 - 2023'!AR9`), so that it can be pasted into the name box."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet):
        sheet = "'" + sheet.replace("'", "''") + "'"
    return f"{sheet}!{letter}" + rows.astype("int64").astype(str)


def with_provenance(table: pd.DataFrame, path: Path, locators: pd.Series) -> pd.DataFrame:
    """`table` with `source_file` (the file's name, as in the source YAML) and
    `source_locator` (where in it the row's value is: `line N` or `Sheet!F29738`);
    `locators` is aligned with `table` by index."""
    return table.assign(source_file=path.name, source_locator=locators.astype(str))


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column `index`: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_name(value, index: int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a year heading such as 2020 is stored as 2020.0
    text = " ".join(str(value).split()) if value is not None else ""
    return text or f"(column {column_letter(index)})"


def _open_workbook(path: Path, sheet: str | None):
    """The calamine workbook at `path`, once its sheets are known to be within the file's
    limits (`paccto_data.limits.for_path`): calamine allocates a sheet's whole area at once,
    so a 2 kB sheet with a cell at XFD1048576 would abort the process."""
    import python_calamine

    from paccto_data.acquire.content import check_workbook
    from paccto_data.limits import LimitExceeded, for_path

    try:
        check_workbook(path, for_path(path), str(path), sheet=sheet)
    except LimitExceeded:
        raise
    except SourceFileError as exc:
        raise SourceDataError(path, f"cannot read the workbook: {exc}",
                              expected="an .xlsx workbook") from exc
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except BaseException as exc:  # CalamineError, ZipError, XmlError, a Rust panic…
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise SourceDataError(path, f"cannot read the workbook: {type(exc).__name__}: {exc}",
                              expected="an .xlsx workbook") from exc


def _sheet_cells(workbook, path: Path, name: str) -> list[list]:
    """The cells of sheet `name` from A1 (list index + 1 is the row number); a malformed
    sheet raises naming the row where the XML breaks, when it can be told."""
    try:
        return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except BaseException as exc:  # XmlError, CalamineError, a Rust panic…
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        from paccto_data.acquire.content import locate_xml_error

        row, where = locate_xml_error(path, name)
        problem = f"cannot read the sheet: {type(exc).__name__}: {exc}"
        if where:
            problem += f" (the XML breaks at {where})"
        raise SourceDataError(path, problem, sheet=name, row=row,
                              expected="a well-formed worksheet") from exc


def read_sheet(path: Path, required, *, sheet: str | None = None,
               header_within: int = 20) -> Sheet:
    """Read one worksheet (default: the first) of an .xlsx workbook with python-calamine.

    The header is the first row, among the first `header_within`, holding every name in
    `required` (cell text with runs of spaces collapsed); the data are the rows below it,
    fully empty rows skipped. No such row raises naming the nearest candidate and the first
    required name it lacks."""
    required = list(required)
    workbook = _open_workbook(path, sheet)
    names = workbook.sheet_names
    name = sheet if sheet is not None else (names[0] if names else None)
    if name is None or name not in names:
        raise SourceDataError(path, f"no sheet {sheet!r} in the workbook", sheet=sheet,
                              expected=f"one of the sheets {names}")
    cells = _sheet_cells(workbook, path, name)
    best = (0, None)  # (how many required names, row index)
    header_index = None
    for index, row in enumerate(cells[:header_within]):
        present = {_header_name(v, i) for i, v in enumerate(row)}
        found = sum(c in present for c in required)
        if found == len(required):
            header_index = index
            break
        if found > best[0]:
            best = (found, index)
    if header_index is None:
        if best[1] is None:
            raise SourceDataError(
                path, f"no header row in the first {header_within} rows", sheet=name,
                expected=f"a row holding the columns {required}")
        present = {_header_name(v, i) for i, v in enumerate(cells[best[1]])}
        missing = next(c for c in required if c not in present)
        raise SourceDataError(
            path, f"column {missing!r} is missing from the header", sheet=name,
            row=best[1] + 1, column=missing,
            expected=f"a header row (within the first {header_within}) holding {required}")
    header = [_header_name(v, i) for i, v in enumerate(cells[header_index])]
    seen: dict[str, int] = {}
    for i, column in enumerate(header):
        if column in seen:
            if column in required:
                raise SourceDataError(path, f"column {column!r} appears twice in the header",
                                      sheet=name, row=header_index + 1, column=column,
                                      expected="each required column once")
            header[i] = f"{column} (column {column_letter(i)})"
        seen[column] = i
    body, rows = [], []
    for index in range(header_index + 1, len(cells)):
        row = cells[index]
        if all(v is None or v == "" for v in row):
            continue
        body.append(row)
        rows.append(index + 1)
    frame = pd.DataFrame(body, columns=header, dtype=object) if body \
        else pd.DataFrame(columns=header, dtype=object)
    frame["file_row"] = pd.Series(rows, dtype="int64")
    return Sheet(frame, name, header_index + 1, tuple(tuple(r) for r in cells[:header_index]),
                 tuple(column_letter(i) for i in range(len(header))))


def to_integer(frame: pd.DataFrame, column: str, file: Path, row_column: str = "file_row",
               sheet: str | None = None) -> pd.Series:
    """Parse `column` as whole numbers (a year, a count); an empty, non-numeric or fractional
    cell raises naming the row."""
    numbers = to_number(frame, column, file, row_column=row_column, sheet=sheet, missing=())
    bad = numbers.isna() | (numbers % 1 != 0)
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise SourceDataError(file, "not a whole number", sheet=sheet,
                              row=int(frame[row_column].iloc[i]), column=column,
                              value=frame[column].iloc[i], expected="a whole number")
    return numbers.astype("int64")


def require_unique(frame: pd.DataFrame, keys, file: Path, row_column: str = "file_row",
                   sheet: str | None = None) -> None:
    """Fail on the first row whose `keys` repeat an earlier row's, naming both rows."""
    keys = list(keys)
    repeated = frame.duplicated(keys, keep=False)
    if not repeated.any():
        return
    clash = frame[repeated].sort_values(row_column)
    first = clash.iloc[0]
    same = clash[(clash[keys] == first[keys]).all(axis=1)]
    second = same.iloc[1]
    raise SourceDataError(
        file, f"duplicate of row {int(first[row_column])}", sheet=sheet,
        row=int(second[row_column]), column=", ".join(keys),
        value=tuple(v.item() if hasattr(v, "item") else v for v in second[keys]),
        expected=f"one row per ({', '.join(keys)})")


def indicator_table(rows: pd.DataFrame, indicator_id: str, unit: str, path: Path,
                    locators: pd.Series) -> pd.DataFrame:
    """The staging columns of a single-indicator source (iso3, year, indicator_id, value,
    unit, source_file, source_locator) from rows that have `iso3`, `year` and `value`, and
    the rows' `locators`, sorted by country and year."""
    table = pd.DataFrame({
        "iso3": rows["iso3"].astype(str),
        "year": rows["year"].astype("int32"),
        "indicator_id": indicator_id,
        "value": rows["value"],
        "unit": unit,
    })
    table = with_provenance(table, path, locators)
    return table.sort_values(["iso3", "year"]).reset_index(drop=True)
