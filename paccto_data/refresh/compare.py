"""Step 2 of the refresh: the downloaded files against the bundled snapshot, file by file and
table by table (each staging table of the source made by its tidy function from both)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from paccto_data.acquire.records import Source
from paccto_data.fileio import sha256_of

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
    table: str
    key: list[str] = field(default_factory=list)
    old_rows: int | None = None
    new_rows: int | None = None
    old_dropped: dict = field(default_factory=dict)
    new_dropped: dict = field(default_factory=dict)
    added: pd.DataFrame | None = None
    removed: pd.DataFrame | None = None
    revised: pd.DataFrame | None = None  # key columns + column, old, new
    columns_only_old: list[str] = field(default_factory=list)  # a column the new table lost
    columns_only_new: list[str] = field(default_factory=list)  # ... or gained
    old_error: str | None = None  # the tidy function failed on the snapshot files
    new_error: str | None = None  # ... on the downloaded files

    @property
    def counts(self) -> tuple[int, int, int]:
        return tuple(0 if f is None else len(f) for f in (self.added, self.removed, self.revised))

    @property
    def identical(self) -> bool:
        return (self.old_error is None and self.new_error is None and self.counts == (0, 0, 0)
                and not self.columns_only_old and not self.columns_only_new)

    def differences(self) -> list[tuple[str, dict, str]]:
        """(kind, key values, detail) for every difference, ordered by key then kind."""
        out = []
        for kind, frame in (("added", self.added), ("removed", self.removed)):
            if frame is None:
                continue
            values = [c for c in frame.columns if c not in self.key and c != "_n"]
            for row in frame.to_dict("records"):
                detail = " ".join(f"{c}={fmt(row[c])}" for c in values)
                if len(detail) > DETAIL_WIDTH:
                    detail = detail[:DETAIL_WIDTH - 1] + "…"
                out.append((kind, {k: row[k] for k in self.key}, detail))
        if self.revised is not None:
            for key, group in self.revised.groupby(self.key, sort=False, dropna=False):
                first = group.iloc[0]
                detail = "; ".join(f"{r.column} {fmt(r.old)} -> {fmt(r.new)}"
                                   for r in group.itertuples())
                out.append(("revised", {k: first[k] for k in self.key}, detail))
        order = {"removed": 0, "revised": 1, "added": 2}
        return sorted(out, key=lambda d: (tuple(_sortable(d[1][k]) for k in self.key),
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


def _sortable(value):
    if _missing(value):
        return (1, "")
    return (0, value)


def fmt(value) -> str:
    if _missing(value):
        return "(empty)"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _missing(value) -> bool:
    """None, NaN, NaT or pd.NA."""
    try:
        return value is None or bool(pd.api.types.is_scalar(value) and pd.isna(value))
    except (TypeError, ValueError):
        return False


def _equal(a, b) -> bool:
    """Exact equality, two missing values being equal (NaN, None, pd.NA alike)."""
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def table_key(old: pd.DataFrame, new: pd.DataFrame) -> tuple[list[str], bool]:
    """The key to match rows on, and whether an occurrence counter must be added to it.

    iso3, year, indicator_id and the disaggregations, where present and unique on both
    sides; otherwise the shortest run of those and then the table's other columns, in order,
    that is unique (numbers — `value` and every float column — are never part of a key)."""
    shared = [c for c in old.columns if c in new.columns]
    preferred = [c for c in KEY_COLUMNS if c in shared]
    candidates = preferred + [
        c for c in shared if c not in preferred and c != "value"
        and not pd.api.types.is_float_dtype(old[c]) and not pd.api.types.is_float_dtype(new[c])]

    def unique(key: list[str]) -> bool:
        return not old.duplicated(key).any() and not new.duplicated(key).any()

    if preferred and unique(preferred):
        return preferred, False
    for n in range(1, len(candidates) + 1):
        if unique(candidates[:n]):
            return candidates[:n], False
    return candidates, True


def compare_tables(name: str, old: pd.DataFrame, new: pd.DataFrame) -> TableDiff:
    key, counted = table_key(old, new)
    if counted:  # identical rows repeated: compare them as a multiset
        old = old.assign(_n=old.groupby(key, dropna=False).cumcount())
        new = new.assign(_n=new.groupby(key, dropna=False).cumcount())
        key = [*key, "_n"]
    # A key column typed differently on the two sides (int32 vs int64 years) merges as objects.
    old, new = old.reset_index(drop=True), new.reset_index(drop=True)
    for column in key:
        if str(old[column].dtype) != str(new[column].dtype):
            old[column] = old[column].astype(object)
            new[column] = new[column].astype(object)
    merged = old.merge(new, on=key, how="outer", suffixes=("__old", "__new"),
                       indicator=True, sort=False)
    values_old = [c for c in old.columns if c not in key]
    values_new = [c for c in new.columns if c not in key]
    removed = merged[merged["_merge"] == "left_only"]
    added = merged[merged["_merge"] == "right_only"]
    removed = removed[key + [f"{c}__old" if c in values_new else c for c in values_old]]
    removed.columns = key + values_old
    added = added[key + [f"{c}__new" if c in values_old else c for c in values_new]]
    added.columns = key + values_new
    both = merged[merged["_merge"] == "both"]
    revisions = []
    for column in values_old:
        if column not in values_new:
            continue
        a, b = both[f"{column}__old"], both[f"{column}__new"]
        differs = both[[not _equal(x, y) for x, y in zip(a.tolist(), b.tolist())]]
        if len(differs):
            revisions.append(differs[key].assign(column=column, old=differs[f"{column}__old"]
                                                 .astype(object),
                                                 new=differs[f"{column}__new"].astype(object)))
    revised = (pd.concat(revisions, ignore_index=True) if revisions
               else pd.DataFrame(columns=[*key, "column", "old", "new"]))
    shown_key = [k for k in key if k != "_n"]
    return TableDiff(
        name, key=shown_key, old_rows=len(old), new_rows=len(new),
        added=added.drop(columns=["_n"], errors="ignore").reset_index(drop=True),
        removed=removed.drop(columns=["_n"], errors="ignore").reset_index(drop=True),
        revised=revised.drop(columns=["_n"], errors="ignore").reset_index(drop=True),
        columns_only_old=[c for c in values_old if c not in values_new],
        columns_only_new=[c for c in values_new if c not in values_old])


def compare(source: Source, snapshots: Path, downloaded: Mapping[str, Path],
            retrieved: str = "") -> Report:
    """Compare the downloaded files of `source` with its bundled snapshot in `snapshots`."""
    from paccto_data.sources import staging_tables

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
