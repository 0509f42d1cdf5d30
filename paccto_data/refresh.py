"""The maintainers' refresh: download a source's current upstream files, show what changed
against the bundled snapshot, and only on confirmation promote them.

    make refresh SOURCE=wb_population
    python -m paccto_data.refresh wb_population [--yes] [--vintage 2025-12-16] [--limit 20]

1. Download every file of the source through the one HTTP client, in live mode
   (`paccto_data.fetch.acquire`), into a temporary folder (or `--raw-dir`), never over
   `assets/snapshots/`. `PACCTO_URL_*` overrides apply as in any live build.
2. Report: each file unchanged or changed (sha256 and bytes, snapshot and upstream); then
   every staging table of the source (`paccto_data.sources.staging_tables()`) is made by its
   tidy function from the snapshot files and from the downloaded files, and the two tables
   are compared on their key (iso3, year, indicator_id and the disaggregations present; the
   other columns are the values): rows added, rows removed, values revised, by country and
   year, with the first `--limit` differences listed.
3. Promote, only when confirmed (a y/N question on a terminal, or `--yes`; with neither it
   refuses): the downloaded files are copied byte for byte into
   `assets/snapshots/<id>/` (all staged and verified first, then renamed into place), and the
   YAML's `sha256`, `bytes`, `retrieved` (the download date) and `vintage` (asked for, or
   `--vintage`) are edited in place, keeping its comments and layout. A changed file's
   `taken_from` (where the old bytes were copied from) no longer describes it: it becomes the
   URL actually downloaded when that differs from the catalogue's `url`, and is removed
   otherwise. Sources whose `redistribution` is `internal` are never bundled: refused.

Exit status: 0 nothing changed or promoted; 1 changes found but not promoted (declined, or
no terminal and no `--yes`); 2 refused or failed (unknown or internal source, a download
that failed, downloaded files the tidy functions reject, bad arguments).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from paccto_data.acquire import fetch
from paccto_data.acquire import promote as promoter
from paccto_data.acquire.promote import (
    VINTAGE,
    load,
    require_bundlable,
    snapshot_dir,
    yaml_path,
)
from paccto_data.acquire.records import Source
from paccto_data.acquire.source_yaml import edit_source_yaml  # noqa: F401 - tests use it
from paccto_data.errors import PacctoError
from paccto_data.fileio import sha256_of
from paccto_data.http import HttpClient
from paccto_data.settings import ASSETS_DIR, PROJECT_ROOT, Settings

# The key of a tidy table: whichever of these it has, in this order.
KEY_COLUMNS = ("iso3", "year", "indicator_id", "sex", "age", "category", "dimension")
DEFAULT_LIMIT = 20
DETAIL_WIDTH = 160  # an added or removed row of a wide table is cut to this many characters


class RefreshError(PacctoError):
    """The refresh cannot go on (and has changed nothing)."""


# --- 1. download ---------------------------------------------------------------------------

def download(source: Source, raw_dir: Path, client: HttpClient | None = None,
             assets_root: Path = ASSETS_DIR) -> dict[str, fetch.RawFile]:
    """Every file of `source`, downloaded in live mode into `<raw_dir>/<id>/`."""
    raw_dir = Path(raw_dir).resolve()
    for guarded in (Path(assets_root).resolve(), ASSETS_DIR.resolve()):
        if raw_dir == guarded or raw_dir.is_relative_to(guarded):
            raise RefreshError(f"{raw_dir}: downloads never go under {guarded}")
    base = Settings.from_env()
    settings = replace(base, source_mode="live", raw_dir=raw_dir)
    return {raw.file_id: raw for raw in fetch.acquire(source, settings, client)}


# --- 2. compare ----------------------------------------------------------------------------

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


# --- the report ----------------------------------------------------------------------------

def _label(key: dict) -> str:
    parts = []
    for column, value in key.items():
        if column in ("iso3", "year", "indicator_id"):
            parts.append(fmt(value))
        else:
            parts.append(f"{column}={fmt(value)}")
    return " ".join(parts)


def _years(values) -> str:
    years = sorted({int(y) for y in values if y is not None and y == y})
    if not years:
        return ""
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _by_country(diff: TableDiff, limit: int) -> list[str]:
    if "iso3" not in diff.key:
        return []
    counts: dict[str, dict[str, list]] = {}
    for kind, key, _ in diff.differences():
        counts.setdefault(fmt(key["iso3"]), {}).setdefault(kind, []).append(key.get("year"))
    lines = []
    for iso3, kinds in sorted(counts.items()):
        parts = []
        for kind in ("added", "removed", "revised"):
            if kind in kinds:
                span = _years(kinds[kind]) if "year" in diff.key else ""
                parts.append(f"{len(kinds[kind])} {kind}" + (f" ({span})" if span else ""))
        lines.append(f"{iso3} {', '.join(parts)}")
    more = len(lines) - limit
    return lines[:limit] + ([f"… and {more} more countries"] if more > 0 else [])


def _n(value) -> str:
    return "?" if value is None else f"{value:,}"


def format_report(report: Report, limit: int = DEFAULT_LIMIT) -> str:
    source = report.source
    out = [f"Refresh of {source.id} — {source.title}",
           f"redistribution: {source.redistribution}; vintage {source.vintage}, "
           f"retrieved {source.retrieved}",
           f"snapshot: {_shown(report.snapshot_dir)}",
           "",
           "Files"]
    for f in report.files:
        state = "changed" if f.changed else "unchanged"
        out.append(f"  {state:<9}  {f.file_id}  {f.name}")
        if f.snapshot_sha256 is None:
            out.append("      snapshot  (missing)")
        else:
            out.append(f"      snapshot  sha256 {f.snapshot_sha256}  {_n(f.snapshot_bytes)} bytes")
        if f.snapshot_sha256 != f.recorded_sha256 or f.snapshot_bytes != f.recorded_bytes:
            out.append(f"      YAML      sha256 {f.recorded_sha256}  {_n(f.recorded_bytes)} bytes"
                       "  (differs from the bundled file)")
        if f.changed:
            out.append(f"      upstream  sha256 {f.new_sha256}  {_n(f.new_bytes)} bytes")
    out += ["", "Tables (the source's tidy functions, run on the snapshot and on the download)"]
    for diff in report.tables:
        if diff.old_error or diff.new_error:
            out.append(f"  {diff.table}: not compared")
            if diff.old_error:
                out.append(f"      snapshot files: {diff.old_error}")
            if diff.new_error:
                out.append(f"      downloaded files: {diff.new_error}")
            if diff.new_rows is not None:
                out.append(f"      downloaded files: {_n(diff.new_rows)} rows")
            continue
        added, removed, revised = diff.counts
        if diff.old_rows is None:
            out.append(f"  {diff.table}: identical (the files are unchanged; not rebuilt)")
            continue
        rows = f"{_n(diff.old_rows)} -> {_n(diff.new_rows)} rows"
        if diff.identical:
            out.append(f"  {diff.table}: identical ({rows})")
        else:
            out.append(f"  {diff.table}: {rows}: {added:,} added, {removed:,} removed, "
                       f"{revised:,} revised (key: {', '.join(diff.key)})")
        for side, columns in (("lost", diff.columns_only_old), ("gained", diff.columns_only_new)):
            if columns:
                out.append(f"      the new table {side} the columns {', '.join(columns)}")
        reasons = sorted(set(diff.old_dropped) | set(diff.new_dropped))
        moved = [f"{r} {diff.old_dropped.get(r, 0):,} -> {diff.new_dropped.get(r, 0):,}"
                 for r in reasons if diff.old_dropped.get(r, 0) != diff.new_dropped.get(r, 0)]
        if moved:
            out.append(f"      rows dropped on purpose: {'; '.join(moved)}")
        if diff.identical:
            continue
        countries = _by_country(diff, limit)
        if countries:
            out.append("      by country: " + "; ".join(countries))
        differences = diff.differences()
        out.append(f"      first {min(limit, len(differences))} of {len(differences):,} "
                   "differences:")
        for kind, key, detail in differences[:limit]:
            out.append(f"        {kind:<8} {_label(key)}  {detail}")
    if not report.tables:
        out.append("  (this source has no staging table)")
    out.append("")
    if not report.changed:
        out.append("No change: the upstream files are byte for byte the bundled snapshot.")
    else:
        changed = sum(f.changed for f in report.files)
        tables = sum(not t.identical for t in report.tables)
        out.append(f"Summary: {changed} of {len(report.files)} files changed; "
                   f"{tables} of {len(report.tables)} tables differ.")
    return "\n".join(out)


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


# --- 3. promote ----------------------------------------------------------------------------

def promote(source_id: str, downloaded: Mapping[str, Path], *, retrieved: str, vintage: str,
            urls: Mapping[str, str] | None = None,
            assets_root: Path = ASSETS_DIR) -> list[str]:
    """Promote the downloaded files of `source_id` through the one promoter
    (`paccto_data.acquire.promote`). A replaced file's `taken_from` (where the old bytes were
    copied from) no longer describes it: it becomes the URL actually downloaded (`urls`, by
    file id) when that differs from the catalogue's `url`, and is removed otherwise. Returns
    the ids of the files replaced."""
    source = load(source_id, assets_root)
    taken_from = {}
    for spec in source.files:
        if spec.taken_from is not None:
            url = (urls or {}).get(spec.id)
            taken_from[spec.id] = url if url and url != spec.url else None
    return promoter.promote(source_id, downloaded, retrieved=retrieved, vintage=vintage,
                            taken_from=taken_from, assets_root=assets_root)


# --- the command ---------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m paccto_data.refresh",
        description="Download a source's current upstream files, report what changed against "
                    "the bundled snapshot, and on confirmation promote them into "
                    "assets/snapshots/<id>/ and its YAML.")
    parser.add_argument("source", help="source id (assets/sources/<id>.yaml)")
    parser.add_argument("--yes", action="store_true",
                        help="promote without asking (for scripts)")
    parser.add_argument("--vintage", help="the publisher's release of the new files "
                                          "(YYYY, YYYY-MM or YYYY-MM-DD); asked for otherwise")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                        help=f"differences listed per table (default {DEFAULT_LIMIT})")
    parser.add_argument("--raw-dir", type=Path,
                        help="keep the downloads in <raw-dir>/<id>/ (default: a temporary "
                             "folder, removed afterwards)")
    parser.add_argument("--assets-root", type=Path, default=ASSETS_DIR,
                        help="the assets folder to compare with and promote into (default: "
                             "the project's; tests use a copy)")
    return parser


def _ask(question: str, stdin, stdout) -> str | None:
    stdout.write(question)
    stdout.flush()
    line = stdin.readline()
    return None if not line else line.strip()


def _ask_vintage(current: str, stdin, stdout) -> str | None:
    for _ in range(3):
        answer = _ask(f"Vintage of the new files (the publisher's release, YYYY[-MM[-DD]]) "
                      f"[{current}]: ", stdin, stdout)
        if answer is None:
            return None
        answer = answer or current
        if VINTAGE.match(answer):
            return answer
        stdout.write(f"  {answer!r} is not YYYY, YYYY-MM or YYYY-MM-DD\n")
    return None


def main(argv: Sequence[str] | None = None, *, client: HttpClient | None = None) -> int:
    args = _parser().parse_args(argv)
    out, stdin = sys.stdout, sys.stdin
    if args.vintage is not None and not VINTAGE.match(args.vintage):
        print(f"refresh: --vintage {args.vintage!r} is not YYYY, YYYY-MM or YYYY-MM-DD",
              file=sys.stderr)
        return 2
    temporary = None
    try:
        source = load(args.source, args.assets_root)
        require_bundlable(source)
        raw_dir = args.raw_dir
        if raw_dir is None:
            temporary = tempfile.mkdtemp(prefix=f"paccto-refresh-{source.id}-")
            raw_dir = Path(temporary)
        print(f"Downloading {source.id} ({len(source.files)} files) into "
              f"{Path(raw_dir) / source.id} …", file=out, flush=True)
        raws = download(source, raw_dir, client, args.assets_root)
        retrieved = min(r.retrieved for r in raws.values())
        report = compare(source, snapshot_dir(source.id, args.assets_root),
                         {i: r.path for i, r in raws.items()}, retrieved)
        print(format_report(report, max(args.limit, 0)), file=out, flush=True)
        if not report.changed:
            return 0
        if report.new_errors:
            print("Not promoted: the source's tidy functions reject the downloaded files "
                  f"({', '.join(t.table for t in report.new_errors)}); adapt "
                  f"paccto_data/sources/{source.id}.py first.", file=out)
            return 2
        target = f"{_shown(snapshot_dir(source.id, args.assets_root))}/ and " \
                 f"{_shown(yaml_path(source.id, args.assets_root))}"
        vintage = args.vintage
        if not args.yes:
            if not (stdin is not None and stdin.isatty()):
                print("Not promoted: no terminal to confirm on; run again with --yes "
                      "(and --vintage) to promote.", file=out)
                return 1
            answer = _ask(f"Promote the new files into {target}? [y/N] ", stdin, out)
            if (answer or "").lower() not in ("y", "yes"):
                print("Not promoted; nothing changed.", file=out)
                return 1
            if vintage is None:
                vintage = _ask_vintage(source.vintage, stdin, out)
                if vintage is None:
                    print("Not promoted: no vintage given; nothing changed.", file=out)
                    return 1
        if vintage is None:
            vintage = source.vintage
            print(f"Vintage left at {vintage!r} (no --vintage given).", file=out)
        replaced = promote(source.id, report.downloaded, retrieved=retrieved[:10],
                           vintage=vintage, urls={i: r.url for i, r in raws.items()},
                           assets_root=args.assets_root)
        print(f"Promoted {', '.join(replaced) or 'no files (the YAML record only)'} into "
              f"{target}: retrieved {retrieved[:10]}, vintage {vintage}.", file=out)
        print(f"Review the description, notes, coverage and citation in "
              f"{_shown(yaml_path(source.id, args.assets_root))}: they may still describe the "
              "old release.", file=out)
        return 0
    except PacctoError as exc:
        print(f"refresh: {exc}", file=sys.stderr)
        return 2
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
