"""A CSV file read into pandas, its parser errors raised as a `SourceDataError` naming the
file and the line (below both the country resolver and the source modules, which use it);
`read_csv_table` keeps each record's physical line, the `line N` of its provenance."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from paccto_data.errors import SourceDataError
from paccto_data.fileio import decode_text

_PANDAS_LINE = re.compile(r"\bline (\d+)\b")


def read_csv_frame(path: Path, text: str | None = None, **options) -> pd.DataFrame:
    """`pandas.read_csv` of the file at `path` (or of its decoded `text`), its parser errors
    raised as a `SourceDataError` naming the file and, where pandas tells it, the line."""
    try:
        return pd.read_csv(io.StringIO(decode_text(path) if text is None else text), **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        line = _PANDAS_LINE.search(str(exc))
        raise SourceDataError(path, f"cannot parse the CSV: {' '.join(str(exc).split())}",
                              row=int(line.group(1)) if line else None,
                              expected="comma-separated records with as many fields as the "
                              "header") from exc


def read_csv_table(path: Path, delimiter: str = ",") -> pd.DataFrame:
    """A CSV (header on line 1) -> frame of text cells plus `file_row`, the line on which each
    record starts, exact even when a quoted field spans lines. Blank lines are skipped; a
    record whose field count differs from the header's raises naming its line, as does
    one the csv module cannot parse."""
    reader = csv.reader(io.StringIO(decode_text(path), newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise SourceDataError(path, f"cannot parse the CSV header: {exc}", row=1,
                              expected="a header line") from exc
    if not header:
        raise SourceDataError(path, "the file is empty", row=1, expected="a header line")
    records, rows, line = [], [], reader.line_num
    while True:
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise SourceDataError(path, f"cannot parse the CSV: {exc}", row=line + 1,
                                  expected=f"records separated by {delimiter!r}") from exc
        if record is None:
            break
        start, line = line + 1, reader.line_num
        if not record or record == [""]:
            continue
        if len(record) != len(header):
            raise SourceDataError(path, f"{len(record)} fields where the header has {len(header)}",
                                  row=start, expected="one field per header column")
        records.append(record)
        rows.append(start)
    frame = pd.DataFrame(records, columns=header, dtype=object)
    frame["file_row"] = rows
    return frame
