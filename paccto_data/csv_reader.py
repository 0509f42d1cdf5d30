"""A CSV file read into pandas, its parser errors raised as a `SourceDataError` naming the
file and the line (below both the country resolver and the source modules, which use it)."""

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
