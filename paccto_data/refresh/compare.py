"""Step 2 of the refresh: the downloaded files against the bundled snapshot, file by file and
table by table: each staging table of the source is made by its tidy function from both sets
of files, and the two tables go through the one table diff (`paccto_data.warehouse.diff`,
DuckDB), the same that versions the published packages, on a key inferred from the tables
(iso3, year, indicator_id and the disaggregations present; see `infer_key`)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from paccto_data.acquire.records import Source
from paccto_data.fileio import sha256_of
from paccto_data.sources import PROVENANCE, staging_tables
from paccto_data.warehouse import diff as table_diff

KEY_COLUMNS = ("iso3", "year", "indicator_id", "sex", "age", "category", "dimension")
DETAIL_WIDTH = 160  # an added or removed row of a wide table is cut to this many characters


@dataclass(frozen=True)
class FileChange:
    file_id: str
    name: str
    recorded_sha256: str  # in the YAML
    recorded_bytes: int
    snapshot_sha256: str | None  # None: the bundled file is missing
    snapshot_bytes: int | None
    new_sha256: str
    new_bytes: int

    @property
    def changed(self) -> bool:
        """The download differs from the bundled file or from what the YAML records."""
        return self.new_sha256 != self.snapshot_sha256 or self.new_sha256 != self.recorded_sha256


@dataclass
class TableDiff:
    """One staging table of the source, made from the snapshot files (old) and from the
    downloaded files (new), and what changed between the two (`diff`; None when the table was
    not compared: the files are unchanged, or a tidy function failed)."""

    table: str
    diff: table_diff.TableDiff | None = None
    old_rows: int | None = None
    new_rows: int | None = None
    old_dropped: dict = field(default_factory=dict)
    new_dropped: dict = field(default_factory=dict)
    old_error: str | None = None  # the tidy function failed on the snapshot files
    new_error: str | None = None  # ... on the downloaded files
    float_columns: frozenset[str] = frozenset()  # how to show a revised value (given as text)
    time_columns: frozenset[str] = frozenset()

    @property
    def key(self) -> list[str]:
        return [] if self.diff is None else list(self.diff.key)

    @property
    def counts(self) -> tuple[int, int, int]:
        """(rows added, rows removed, rows with a revised value)."""
        return (0, 0, 0) if self.diff is None else self.diff.counts

    @property
    def identical(self) -> bool:
        return (self.old_error is None and self.new_error is None
                and (self.diff is None or self.diff.identical))

    @property
    def added(self):
        """The rows only the new table has (a pyarrow Table), sorted by key."""
        return None if self.diff is None else self.diff.added

    @property
    def removed(self):
        return None if self.diff is None else self.diff.removed

    @property
    def revised(self):
        """One row per revised value: the key, `column`, `old` and `new` (as text)."""
        return None if self.diff is None else self.diff.revised

    def revised_value(self, column: str, text: str | None) -> str:
        """A revised value (text, as the diff gives it) shown as `fmt` shows the value."""
        if text is None:
            return fmt(None)
        if column in self.float_columns:
            return fmt(float(text))
        if column in self.time_columns:
            return text.removesuffix(" 00:00:00")
        return text

    def differences(self) -> list[tuple[str, dict, str]]:
        """(kind, key values, detail) for every difference, ordered by key then kind."""
        if self.diff is None:
            return []
        key, out = self.key, []
        for kind, table in (("added", self.added), ("removed", self.removed)):
            values = [c for c in table.column_names if c not in key]
            for row in table.to_pylist():
                detail = " ".join(f"{c}={fmt(row[c])}" for c in values)
                if len(detail) > DETAIL_WIDTH:
                    detail = detail[:DETAIL_WIDTH - 1] + "…"
                out.append((kind, {k: row[k] for k in key}, detail))
        rows = self.revised.to_pylist()  # sorted by key: a row's values are consecutive
        for values, group in groupby(rows, key=lambda r: tuple(r[k] for k in key)):
            detail = "; ".join(f"{r['column']} {self.revised_value(r['column'], r['old'])} -> "
                               f"{self.revised_value(r['column'], r['new'])}" for r in group)
            out.append(("revised", dict(zip(key, values)), detail))
        order = {"removed": 0, "revised": 1, "added": 2}
        return sorted(out, key=lambda d: (tuple(_sortable(d[1][k]) for k in key),
                                          order[d[0]]))


@dataclass
class Report:
    source: Source
    snapshot_dir: Path
    files: list[FileChange]
    tables: list[TableDiff]
    downloaded: dict[str, Path]
    retrieved: str  # when the downloaded bytes were fetched (ISO 8601, UTC)

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.files)

    @property
    def new_errors(self) -> list[TableDiff]:
        return [t for t in self.tables if t.new_error]


def _missing(value) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sortable(value):
    return (1, "") if _missing(value) else (0, value)


def fmt(value) -> str:
    """A value of a row as the report shows it: an integral float without `.0`, a midnight
    timestamp as its date, a missing value as `(empty)`."""
    if _missing(value):
        return "(empty)"
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def compare_tables(name: str, old, new) -> TableDiff:
    """The two versions of one staging table (pandas DataFrames) through the one table diff,
    on the key `infer_key` finds (never `value`). The data are compared, not where they sit
    in the file: a row inserted upstream moves every line after it, so the provenance
    columns are left out."""
    old, new = (t.drop(columns=list(PROVENANCE), errors="ignore") for t in (old, new))
    key = table_diff.infer_key(old, new, KEY_COLUMNS, never=("value",))
    return TableDiff(
        name, table_diff.diff_tables(old, new, key), old_rows=len(old), new_rows=len(new),
        float_columns=frozenset(c for c in new.columns if new[c].dtype.kind == "f"),
        time_columns=frozenset(c for c in new.columns if new[c].dtype.kind == "M"))


def compare(source: Source, snapshots: Path, downloaded: Mapping[str, Path],
            retrieved: str = "") -> Report:
    """Compare the downloaded files of `source` with its bundled snapshot in `snapshots`."""
    snapshots = Path(snapshots)
    files = []
    for spec in source.files:
        old_path, new_path = snapshots / spec.name, Path(downloaded[spec.id])
        present = old_path.is_file()
        files.append(FileChange(
            spec.id, spec.name, spec.sha256, spec.bytes,
            sha256_of(old_path) if present else None,
            old_path.stat().st_size if present else None,
            sha256_of(new_path), new_path.stat().st_size))
    old_files = {spec.id: snapshots / spec.name for spec in source.files}
    new_files = {spec.id: Path(downloaded[spec.id]) for spec in source.files}
    unchanged = all(f.new_sha256 == f.snapshot_sha256 for f in files)
    tables = []
    for name, staging in sorted(staging_tables().items()):
        if staging.source_id != source.id:
            continue
        diff = TableDiff(name)
        if unchanged:  # the same bytes make the same table
            tables.append(diff)
            continue
        results = {}
        for side, paths in (("old", old_files), ("new", new_files)):
            try:
                results[side] = staging.tidy(paths)
            except Exception as exc:  # noqa: BLE001 - reported; a new-side failure blocks
                setattr(diff, f"{side}_error", f"{type(exc).__name__}: {exc}")
        if len(results) == 2:
            diff = compare_tables(name, results["old"].table, results["new"].table)
        for side, result in results.items():
            setattr(diff, f"{side}_rows", len(result.table))
            setattr(diff, f"{side}_dropped", dict(result.dropped))
        tables.append(diff)
    return Report(source, snapshots, files, tables, dict(new_files), retrieved)
