"""Versions and the changelog: the version follows the data (see the comment below), and
no published row goes silently (see "Removed rows" below).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from paccto_data.fileio import read_yaml
from paccto_data.publication.spec import PackageSpec
from paccto_data.publication.tables import PARQUET_SUFFIX, table_schema_type
from paccto_data.settings import SOURCES_DIR
from paccto_data.warehouse.diff import diff_tables

#
# The version follows the data. The spec's `version` is the base: the first release takes it.
# Each later build compares its tables with the previous release's (the Parquet files of
# `<publish_dir>/<name>`) on each table's primary key:
#   major  a table or a field removed, a field's type or a table's primary key changed;
#   minor  a table or a field added, rows added or removed;
#   patch  values revised in existing rows, nothing else.
# No change keeps the previous version, and the previous CHANGELOG.md byte for byte, so a
# rebuild from unchanged inputs is byte-identical. A spec version above the computed one wins
# (a maintainer may raise it, e.g. for a documentation change). The version never comes from
# the clock, and the changelog carries no dates.

LEVELS = ("patch", "minor", "major")

CHANGELOG_EXAMPLES = 3  # keys shown per kind of change

#
# Removed rows. A build that drops a row (a primary key: a country-year, ...) that the previous
# release published says so: CHANGELOG.md lists every dropped key (up to REMOVED_LISTED per
# table, then their count) with the reason the source's maintainers recorded, and the package
# asset's `no_silent_loss` check warns (paccto_data/defs/publication.py; the quality report
# lists the same). A reason is recorded, when a refresh drops rows, in
# assets/sources/removals/<source_id>.yaml beside the source's YAML:
#
#   - vintage: "2025"            # the source's vintage that no longer has the rows
#     reason: UNODC withdrew Jamaica's 2021 figure pending a revision by the country.
#     rows:                      # optional: which rows (any of the package's columns);
#       - {iso3: JAM, year: 2021}  # without `rows`, every row of the source dropped then
#
# A note applies to a dropped row when its vintage is the source's current vintage (its YAML's
# `vintage`) and one of its `rows` matches the row; the row's sources are its `source_id` (or
# `<column>_source_id`) values, else the sources of the table.

REMOVED_LISTED = 1000  # dropped keys listed per table in CHANGELOG.md, beyond which: a count
REMOVALS_DIR = SOURCES_DIR / "removals"


@dataclass(frozen=True)
class PreviousRelease:
    folder: Path
    version: str
    descriptor: dict
    changelog: str | None

    def table_paths(self) -> dict[str, tuple[Path, dict]]:
        """Each table's Parquet file and Table Schema, by resource name."""
        return {r["name"].removesuffix(PARQUET_SUFFIX): (self.folder / r["path"], r["schema"])
                for r in self.descriptor["resources"] if r.get("format") == "parquet"}

    def row_counts(self) -> dict[str, int]:
        import pyarrow.parquet as pq

        return {name: pq.read_metadata(path).num_rows
                for name, (path, _) in self.table_paths().items()}


def previous_release(folder: Path | None) -> PreviousRelease | None:
    if folder is None or not (folder / "datapackage.json").is_file():
        return None
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    changelog = folder / "CHANGELOG.md"
    return PreviousRelease(folder, descriptor["version"], descriptor,
                           changelog.read_text(encoding="utf-8") if changelog.exists() else None)


@dataclass(frozen=True)
class Removal:
    """The rows of a table that the previous release published and this build drops."""

    table: str
    key: tuple[str, ...]
    count: int
    keys: tuple[str, ...] = ()  # the first REMOVED_LISTED dropped keys, as text
    reasons: tuple[str | None, ...] = ()  # the recorded reason for each (None: none)
    note: str = ""  # e.g. "table removed"

    def as_dict(self) -> dict:
        return {"table": self.table, "key": list(self.key), "count": self.count,
                "rows": [{"key": k, "reason": r} for k, r in zip(self.keys, self.reasons)],
                "note": self.note}

    def lines(self) -> list[str]:
        """The changelog's sub-list: the dropped keys, grouped by their reason."""
        columns = ", ".join(self.key)
        by_reason: dict[str | None, list[str]] = {}
        for key, reason in zip(self.keys, self.reasons):
            by_reason.setdefault(reason, []).append(key)
        out = []
        for reason in sorted(by_reason, key=lambda r: (r is None, r or "")):
            keys = "; ".join(by_reason[reason])
            why = f"reason recorded for {reason}" if reason else "no reason recorded"
            out.append(f"Removed ({columns}), {why}: {keys}.")
        if self.count > len(self.keys):
            out.append(f"… and {self.count - len(self.keys):,} more removed rows not listed "
                       f"({self.count:,} in all).")
        return out


@dataclass(frozen=True)
class TableChange:
    resource: str
    level: str | None  # None: unchanged
    text: str
    removal: Removal | None = None  # rows the previous release published that are gone


def _key_text(row: tuple) -> str:
    return " ".join("∅" if v is None else str(v) for v in row)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def compare_table(name: str, new, new_key: tuple[str, ...], old_path: Path,
                  old_schema: dict, sources: tuple[str, ...] = ()) -> TableChange:
    """What changed in one table, compared on its primary key (DuckDB joins, so memory and
    time stay proportional to the rows)."""
    old_fields = {f["name"]: f["type"] for f in old_schema["fields"]}
    new_fields = {f.name: table_schema_type(f.type) for f in new.schema}
    old_key = tuple(old_schema.get("primaryKey", ()))
    notes, level = [], None

    def raise_to(target: str) -> None:
        nonlocal level
        if level is None or LEVELS.index(target) > LEVELS.index(level):
            level = target

    removed_fields = [f for f in old_fields if f not in new_fields]
    added_fields = [f for f in new_fields if f not in old_fields]
    retyped = [f for f in new_fields if f in old_fields and old_fields[f] != new_fields[f]]
    if removed_fields:
        notes.append(f"{'fields' if len(removed_fields) > 1 else 'field'} "
                     f"{', '.join(removed_fields)} removed")
        raise_to("major")
    if retyped:
        notes.append("type of " + ", ".join(f"{f} changed from {old_fields[f]} to "
                                            f"{new_fields[f]}" for f in retyped))
        raise_to("major")
    if added_fields:
        notes.append(f"{'fields' if len(added_fields) > 1 else 'field'} "
                     f"{', '.join(added_fields)} added")
        raise_to("minor")
    if old_key != new_key:
        notes.append(f"primary key changed from ({', '.join(old_key)}) to "
                     f"({', '.join(new_key)}); rows not compared")
        raise_to("major")
        return TableChange(name, level, f"{name}: " + "; ".join(notes) + ".")

    import pyarrow.dataset as ds

    diff = diff_tables(ds.dataset(old_path), new, new_key, types=(old_fields, new_fields))
    added, removed, revised = diff.counts
    revised_by_column = diff.revised_by_column

    def first_keys(table) -> list[str]:
        distinct: dict[tuple, None] = {}
        for batch in table.select(list(new_key)).to_batches(max_chunksize=1024):
            for row in batch.to_pylist():
                distinct.setdefault(tuple(row[k] for k in new_key))
                if len(distinct) == CHANGELOG_EXAMPLES:
                    return [_key_text(r) for r in distinct]
        return [_key_text(r) for r in distinct]

    added_examples, removed_examples = first_keys(diff.added), first_keys(diff.removed)
    removal = removal_of(name, new_key, diff.removed, removed, sources) if removed else None
    revised_examples = first_keys(diff.revised)

    def examples(found: list[str], count: int) -> str:
        shown = "; ".join(found)
        return f" ({'e.g. ' if count > len(found) else ''}{shown})" if found else ""

    if added:
        notes.append(f"{_plural(added, 'row')} added{examples(added_examples, added)}")
        raise_to("minor")
    if removed:
        notes.append(f"{_plural(removed, 'row')} removed"
                     f"{examples(removed_examples, removed)}")
        raise_to("minor")
    if revised:
        columns = ", ".join(f"{c} {n:,}" for c, n in revised_by_column.items())
        notes.append(f"values revised in {_plural(revised, 'row')} [{columns}]"
                     f"{examples(revised_examples, revised)}")
        raise_to("patch")
    if not notes:
        return TableChange(name, None, f"{name}: unchanged ({_plural(new.num_rows, 'row')}).")
    text = f"{name}: " + "; ".join(notes) + f"; {_plural(new.num_rows, 'row')} now."
    if removal is not None:
        text += "".join(f"\n  - {line}" for line in removal.lines())
    return TableChange(name, level, text, removal)


# --- removed rows and their reasons ---------------------------------------------------------


def removal_notes(source_id: str) -> list[dict]:
    """The removal notes of a source (assets/sources/removals/<source_id>.yaml), if any."""
    path = REMOVALS_DIR / f"{source_id}.yaml"
    if not path.is_file():
        return []
    notes = read_yaml(path) or []
    if not isinstance(notes, list) or not all(isinstance(n, dict) and n.get("reason")
                                              for n in notes):
        from paccto_data.errors import PublicationError

        raise PublicationError(f"{path}: expected a list of notes, each with a vintage and "
                               "a reason")
    return notes


REMOVALS_HEADER = """\
# Rows that {source}'s publisher no longer gives, and why: one note per vintage that dropped
# rows (README.md, "Published data"). `make refresh SOURCE={source} REFRESH_ARGS='--yes
# --removal-reason "..."'` appends one; paccto_data/publication/versions.py reads them, and a
# package's CHANGELOG.md gives the reason for each row it drops.
"""
REMOVAL_ROWS_LISTED = 1000  # a note lists its rows up to this; beyond, it covers every row


def record_removal(source_id: str, vintage: str, reason: str, removed: list[dict],
                   sources_dir: Path = SOURCES_DIR) -> Path:
    """Append a note to `<sources_dir>/removals/<source_id>.yaml`: the vintage, the reason and
    the rows (`removed`: the rows the refresh found gone; their distinct iso3 and year, when
    they have them). Returns the file's path."""
    rows: list[dict] = []
    columns = [c for c in ("iso3", "year") if removed and all(c in r for r in removed)]
    if columns:
        seen = dict.fromkeys(tuple(r[c] for c in columns) for r in removed)
        if len(seen) <= REMOVAL_ROWS_LISTED:
            rows = [dict(zip(columns, values))
                    for values in sorted(seen, key=lambda v: tuple(map(str, v)))]
    note = {"vintage": str(vintage), "reason": " ".join(reason.split())}
    if rows:
        note["rows"] = rows
    path = sources_dir / "removals" / f"{source_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else \
        REMOVALS_HEADER.format(source=source_id)
    block = yaml.safe_dump([note], allow_unicode=True, sort_keys=False, width=96,
                           default_flow_style=None)
    path.write_text(text.rstrip("\n") + "\n" + block, encoding="utf-8")
    return path


def _vintages() -> dict[str, str]:
    from paccto_data.acquire import records

    return {s.id: s.vintage for s in records.sources().values()}


def reason_for(row: dict, sources: tuple[str, ...], vintages: dict[str, str],
               notes: dict[str, list[dict]]) -> str | None:
    """The reason recorded for dropping `row` (the old row, every column), if any."""
    own = tuple(str(v) for c, v in row.items()
                if (c == "source_id" or c.endswith("_source_id")) and v)
    for source in dict.fromkeys(own or sources):
        vintage = vintages.get(source)
        if source not in notes:
            notes[source] = removal_notes(source)
        for note in notes[source]:
            if str(note.get("vintage")) != str(vintage):
                continue
            rows = note.get("rows")
            if not rows or any(all(str(row.get(c)) == str(v) for c, v in r.items())
                               for r in rows):
                return f"{source} (vintage {vintage}): {' '.join(str(note['reason']).split())}"
    return None


def removal_of(table: str, key: tuple[str, ...], removed, count: int,
               sources: tuple[str, ...]) -> Removal:
    """The dropped rows of a table (the old rows, a pyarrow Table), listed up to
    REMOVED_LISTED with their reasons."""
    vintages, notes = _vintages(), {}
    keys, reasons = [], []
    for batch in removed.to_batches(max_chunksize=1024):
        for row in batch.to_pylist():
            keys.append(_key_text(tuple(row[k] for k in key)))
            reasons.append(reason_for(row, sources, vintages, notes))
            if len(keys) == REMOVED_LISTED:
                break
        if len(keys) == REMOVED_LISTED:
            break
    return Removal(table, tuple(key), count, tuple(keys), tuple(reasons))


def table_sources(before: PreviousRelease, table: str) -> tuple[str, ...]:
    """The ids of the sources of a table of the previous release (its descriptor names them
    by title and homepage)."""
    from paccto_data.acquire import records

    known = {(s.title, s.homepage): s.id for s in records.sources().values()}
    for r in before.descriptor["resources"]:
        if r["name"] == table:
            return tuple(known[(s["title"], s["path"])] for s in r.get("sources", ())
                         if (s["title"], s.get("path")) in known)
    return ()


def compare_package(before: PreviousRelease, spec: PackageSpec, tables: dict) -> list[TableChange]:
    old = before.table_paths()
    changes = []
    for r in spec.resources:
        if r.name in old:
            path, schema = old[r.name]
            changes.append(compare_table(r.name, tables[r.name], r.primary_key, path, schema,
                                         table_sources(before, r.name)))
        else:
            changes.append(TableChange(r.name, "minor", f"{r.name}: new table "
                                       f"({_plural(tables[r.name].num_rows, 'row')})."))
    counts = before.row_counts() if any(name not in tables for name in old) else {}
    for name, (_, schema) in old.items():
        if name not in tables:
            removal = Removal(name, tuple(schema.get("primaryKey", ())), counts[name],
                              note="table removed")
            changes.append(TableChange(name, "major", f"{name}: table removed "
                                       f"({_plural(counts[name], 'row')}).", removal))
    return changes


def parse_version(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch


def bump(version: str, level: str) -> str:
    major, minor, patch = parse_version(version)
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def decide_version(spec: PackageSpec, tables: dict, before: PreviousRelease | None,
                   changes: list[TableChange] | None,
                   created: str) -> tuple[str, tuple[str, list[str]] | None]:
    """This build's version, and its changelog entry (heading, lines) if the version is new."""
    data_as_of = f"Source data as of {created[:10]}."
    if before is None:
        counts = "; ".join(f"{r.name} {_plural(tables[r.name].num_rows, 'row')}"
                           for r in spec.resources)
        return spec.version, (spec.version, [f"First published version: {counts}. "
                                             f"{data_as_of}"])
    levels = [c.level for c in changes if c.level]
    computed = before.version
    if levels:
        computed = bump(before.version, max(levels, key=LEVELS.index))
    version = max(computed, spec.version, key=parse_version)
    if version == before.version:
        return version, None
    lines = [f"Compared with version {before.version} on each table's primary key. "
             f"{data_as_of}"]
    lines += [c.text for c in changes]
    if not levels:
        lines.append(f"The package spec sets version {spec.version}; the data did not change.")
    return version, (version, lines)


def changelog_text(spec: PackageSpec, before: PreviousRelease | None,
                   entry: tuple[str, list[str]] | None) -> str:
    if before is not None and entry is None and before.changelog is not None:
        return before.changelog  # unchanged: byte for byte
    header = (f"# Changelog: {spec.name}\n\n"
              "What changed in each version of this package, newest first. Versions follow "
              "the data (see README.md, *Versions*): a new version means rows were added or "
              "removed, values revised, or tables or fields changed.\n")
    entries = []
    if entry is not None:
        entries.append(_changelog_entry(*entry))
    if before is not None:
        if before.changelog is not None and "\n## " in before.changelog:
            entries.append(before.changelog[before.changelog.index("\n## ") + 1:].rstrip("\n")
                           + "\n")
        else:  # a release from before changelogs: its first entry, from its own files
            counts = "; ".join(f"{name} {_plural(n, 'row')}"
                               for name, n in before.row_counts().items())
            entries.append(_changelog_entry(
                before.version, [f"First published version: {counts}. Source data as of "
                                 f"{before.descriptor['created'][:10]}."]))
    return header + "".join("\n" + e for e in entries)


def _changelog_entry(version: str, lines: list[str]) -> str:
    return f"## {version}\n\n" + "".join(f"- {line}\n" for line in lines)
