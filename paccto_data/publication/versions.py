"""Versions and the changelog: the version follows the data (see the comment below).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from paccto_data.publication.spec import PackageSpec
from paccto_data.publication.tables import PARQUET_SUFFIX, table_schema_type
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
class TableChange:
    resource: str
    level: str | None  # None: unchanged
    text: str


def _key_text(row: tuple) -> str:
    return " ".join("∅" if v is None else str(v) for v in row)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def compare_table(name: str, new, new_key: tuple[str, ...], old_path: Path,
                  old_schema: dict) -> TableChange:
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
    return TableChange(name, level, f"{name}: " + "; ".join(notes)
                       + f"; {_plural(new.num_rows, 'row')} now.")


def compare_package(before: PreviousRelease, spec: PackageSpec, tables: dict) -> list[TableChange]:
    old = before.table_paths()
    changes = []
    for r in spec.resources:
        if r.name in old:
            path, schema = old[r.name]
            changes.append(compare_table(r.name, tables[r.name], r.primary_key, path, schema))
        else:
            changes.append(TableChange(r.name, "minor", f"{r.name}: new table "
                                       f"({_plural(tables[r.name].num_rows, 'row')})."))
    for name in old:
        if name not in tables:
            changes.append(TableChange(name, "major", f"{name}: table removed."))
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
