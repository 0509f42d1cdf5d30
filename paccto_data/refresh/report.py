"""The refresh report: what `compare` found, as text for the maintainer."""

from __future__ import annotations

from pathlib import Path

from paccto_data.refresh.compare import Report, TableDiff, fmt
from paccto_data.settings import PROJECT_ROOT

DEFAULT_LIMIT = 20


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
           f"snapshot: {shown(report.snapshot_dir)}",
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
        fields = diff.diff
        for side, columns in (("lost", fields.fields_removed), ("gained", fields.fields_added)):
            if columns:
                out.append(f"      the new table {side} the columns {', '.join(columns)}")
        if fields.fields_retyped:
            out.append("      the new table changed the type of " + ", ".join(
                f"{c} ({a} -> {b})" for c, (a, b) in fields.fields_retyped.items()))
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


def shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
