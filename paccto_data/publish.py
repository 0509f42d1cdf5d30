"""The one way to write a Frictionless data package (Data Package v2) and release `published/`.

A package is declared in `assets/packages/<name>.yaml` (schema: `assets/packages.schema.json`):
its resources are SQL queries against the build database's `core`/`marts` tables, one of them
`countries`, which every country code of the others references. Writing one goes: licence gate
(every column's sources must be `open`; a column's sources are its declared `sources`, the
values of its `source_column`, or the rows' `source_id`), then the version (compared with the
previously published package on each table's primary key: see "versions and the changelog"),
then `data/<resource>.csv` and `data/<resource>.parquet`, `datapackage.json`, `README.md`,
`CITATION.cff` and `CHANGELOG.md`. Nothing in them comes from the clock: `created` is the
latest vintage of the contributing sources and `version` follows the data, so unchanged
inputs give byte-identical files.

A release builds every package into `<publish_dir>.tmp` (with the catalogue:
paccto_data/catalog.py), validates it (frictionless on the CSV tables; our own bytes/sha256
check of every file, the Parquet twins and the documents; the catalogue's links) and swaps it
in whole by rename-aside (`publish_dir` -> `<publish_dir>.old`, tmp -> `publish_dir`, delete
`.old`); `recover` repairs an interrupted swap at the start of the next release.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import duckdb
import yaml

from paccto_data.errors import PacctoError
from paccto_data.fileio import fsync_dir
from paccto_data.settings import ASSETS_DIR

PACKAGES_DIR = ASSETS_DIR / "packages"
SPEC_SCHEMA_PATH = ASSETS_DIR / "packages.schema.json"
DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
PUBLISHABLE_SCHEMAS = ("core", "marts")
MISSING = ""  # how a null is written in the CSV (the schema's only missing value)
PARQUET_MISSING = [MISSING, "nan"]  # the Parquet twin's missing values (see table_schema)
PARQUET_SUFFIX = "_parquet"  # resource name of a table's Parquet twin
DESCRIBED_EXTRA = ("datapackage.json", "README.md", "CHANGELOG.md", "CITATION.cff")
COUNTRIES = "countries"  # the resource every package has, that its country codes reference
# folders of a release that are not packages (a package may not take their names)
RESERVED_FOLDERS = {"charts": "the catalogue's charts", "quality": "the data-quality report"}


class PublicationError(PacctoError):
    """A package spec is wrong, or its data cannot be published as declared."""


class LicenceError(PublicationError):
    """A column derives from a source whose licence does not allow redistribution."""


class PackageInvalidError(PublicationError):
    """A written package does not validate; nothing was released."""


# --- the spec -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    description: str
    unit: str | None = None
    sources: tuple[str, ...] = ()
    constraints: dict = field(default_factory=dict)
    # a column of the same resource whose values are the source ids of this column, row by
    # row (marts.country_year's `<indicator>_source_id`): the licence gate reads them
    source_column: str | None = None
    description_es: str | None = None


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    title: str
    description: str
    query: str
    primary_key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    foreign_keys: tuple[dict, ...] = ()
    title_es: str = ""
    description_es: str = ""

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    @cached_property
    def tables(self) -> list[str]:
        """The schema-qualified tables the query reads (parsed by DuckDB, not bound)."""
        names = duckdb.get_table_names(self.query, qualified=True)
        # qualified names come back as `schema.table` or `schema.table AS alias`
        return sorted({re.split(r"\s+AS\s+", n, flags=re.IGNORECASE)[0] for n in names})


@dataclass(frozen=True)
class PackageSpec:
    name: str
    version: str
    title: str
    title_es: str
    description: str
    description_es: str
    keywords: tuple[str, ...]
    homepage: str
    contributors: tuple[dict, ...]
    method: str
    resources: tuple[ResourceSpec, ...]
    caveats: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def tables(self) -> list[str]:
        return sorted({t for r in self.resources for t in r.tables})

    def resource(self, name: str) -> ResourceSpec:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(f"package {self.name!r} has no resource {name!r}")


def _fold(text: str) -> str:
    return " ".join(text.split())


def load_spec(path: Path) -> PackageSpec:
    """Read and check one `assets/packages/<name>.yaml`."""
    return spec_from_record(yaml.safe_load(path.read_text(encoding="utf-8")), path)


def spec_from_record(record: dict, path: Path) -> PackageSpec:
    """Check a parsed spec against assets/packages.schema.json and the rules below."""
    import jsonschema  # only loading a spec needs it

    schema = json.loads(SPEC_SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(record),
                    key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors]
        raise PublicationError(f"{path}: does not match {SPEC_SCHEMA_PATH.name}:\n  "
                               + "\n  ".join(lines))
    if record["name"] != path.stem:
        raise PublicationError(f"{path}: name {record['name']!r} differs from the file name")
    resources = tuple(ResourceSpec(
        name=r["name"], title=r["title"], description=_fold(r["description"]),
        query=r["query"].strip().rstrip(";"), primary_key=tuple(r["primary_key"]),
        fields=tuple(FieldSpec(f["name"], _fold(f["description"]), f.get("unit"),
                               tuple(f.get("sources", ())), dict(f.get("constraints", {})),
                               f.get("source_column"),
                               _fold(f["description_es"]) if f.get("description_es") else None)
                     for f in r["fields"]),
        foreign_keys=tuple(r.get("foreign_keys", ())),
        title_es=r["title_es"], description_es=_fold(r["description_es"]),
    ) for r in record["resources"])
    spec = PackageSpec(
        name=record["name"], version=record["version"], title=record["title"],
        title_es=record["title_es"], description=_fold(record["description"]),
        description_es=_fold(record["description_es"]), keywords=tuple(record["keywords"]),
        homepage=record["homepage"], contributors=tuple(record["contributors"]),
        method=_fold(record["method"]), resources=resources,
        caveats=tuple(_fold(c) for c in record.get("caveats", ())), path=path,
    )
    _check_spec(spec)
    return spec


def _country_fields(resource: ResourceSpec) -> list[str]:
    return [f for f in resource.field_names if f == "iso3" or f.endswith("_iso3")]


def _check_spec(spec: PackageSpec) -> None:
    where = spec.path or spec.name
    problems = []
    names = [r.name for r in spec.resources]
    if len(set(names)) != len(names):
        problems.append(f"resource names are not unique: {names}")
    if spec.name in RESERVED_FOLDERS:
        problems.append(f"the name {spec.name!r} is reserved for {RESERVED_FOLDERS[spec.name]}")
    if COUNTRIES not in names:
        problems.append(f"every package has a `{COUNTRIES}` resource (its rows' countries, "
                        "with names and groups) that the other resources' country codes "
                        "reference; this one has none")
    for r in spec.resources:
        fields = r.field_names
        if len(set(fields)) != len(fields):
            problems.append(f"resource {r.name}: field names are not unique: {fields}")
        for key in r.primary_key:
            if key not in fields:
                problems.append(f"resource {r.name}: primary key {key!r} is not a field")
        for fk in r.foreign_keys:
            missing = [f for f in fk["fields"] if f not in fields]
            target = fk["reference"]["resource"]
            if missing:
                problems.append(f"resource {r.name}: foreign key fields {missing} are not fields")
            if target not in names:
                problems.append(f"resource {r.name}: foreign key names resource {target!r}, "
                                f"not in this package ({names})")
            elif any(f not in spec.resource(target).field_names for f in fk["reference"]["fields"]):
                problems.append(f"resource {r.name}: foreign key reference fields "
                                f"{fk['reference']['fields']} are not fields of {target}")
        if r.name != COUNTRIES:
            referenced = {fk["fields"][0] for fk in r.foreign_keys
                          if fk["reference"]["resource"] == COUNTRIES and len(fk["fields"]) == 1}
            for name in _country_fields(r):
                if name not in referenced:
                    problems.append(f"resource {r.name}: the country code {name!r} needs a "
                                    f"foreign key to {COUNTRIES}.iso3")
        try:
            tables = r.tables
        except duckdb.Error as exc:
            problems.append(f"resource {r.name}: query does not parse: {exc}")
            continue
        for table in tables:
            if table.split(".")[0] not in PUBLISHABLE_SCHEMAS or table.count(".") != 1:
                problems.append(f"resource {r.name}: query reads {table!r}; name tables as "
                                f"<schema>.<table> in {', '.join(PUBLISHABLE_SCHEMAS)}")
        for f in r.fields:
            if f.source_column and f.source_column not in fields:
                problems.append(f"resource {r.name}, field {f.name}: source_column "
                                f"{f.source_column!r} is not a field of the resource")
        if "source_id" not in fields:
            unsourced = [f.name for f in r.fields if not f.sources and not f.source_column]
            if unsourced:
                problems.append(f"resource {r.name}: no source_id column, so fields {unsourced} "
                                "must name their `sources`")
    if problems:
        raise PublicationError(f"{where}:\n  " + "\n  ".join(problems))


def package_specs(directory: Path = PACKAGES_DIR) -> dict[str, PackageSpec]:
    """Every package spec, by name."""
    return {p.stem: load_spec(p) for p in sorted(directory.glob("*.yaml"))}


# --- sources and the licence gate -----------------------------------------------------------


@dataclass(frozen=True)
class SourceRecord:
    """A row of core.dim_source: what the package must say about a source it uses."""

    id: str
    title: str
    publisher: str
    homepage: str
    licence: str
    licence_spdx: str | None
    licence_url: str
    redistribution: str
    citation: str
    vintage: str


def source_records(conn: duckdb.DuckDBPyConnection) -> dict[str, SourceRecord]:
    rows = conn.sql(
        "SELECT source_id, title, publisher, homepage, licence, licence_spdx, licence_url, "
        "redistribution, citation, vintage FROM core.dim_source ORDER BY source_id"
    ).fetchall()
    return {row[0]: SourceRecord(*row) for row in rows}


def column_sources(package: str, resource: ResourceSpec, table) -> dict[str, list[str]]:
    """The sources each column derives from: its declared `sources`, plus the values of its
    `source_column` (row by row provenance, nulls skipped); a column that declares neither
    takes the values of the resource's `source_id` column (every row's provenance)."""
    def values_of(column: str, required: bool) -> list[str]:
        import pyarrow.compute as pc

        values = pc.unique(table.column(column)).to_pylist()  # a few ids, not every row
        if required and None in values:
            raise PublicationError(f"package {package}, resource {resource.name}: "
                                   f"{column} is empty on some rows; every row needs a source")
        return sorted(v for v in values if v is not None)

    row_sources = values_of("source_id", True) if "source_id" in table.column_names else []
    derived = {}
    for f in resource.fields:
        declared = set(f.sources)
        if f.source_column:
            declared |= set(values_of(f.source_column, False))
        derived[f.name] = sorted(declared) if (f.sources or f.source_column) else row_sources
        if not derived[f.name]:
            raise PublicationError(f"package {package}, resource {resource.name}, column "
                                   f"{f.name}: derives from no source; declare its `sources`")
    return derived


def licence_problems(package: str, derivation: dict[str, dict[str, list[str]]],
                     sources: dict[str, SourceRecord]) -> list[str]:
    """One line per (resource, column, source) that may not be published."""
    problems = []
    for resource, columns in derivation.items():
        for column, source_ids in columns.items():
            for source_id in source_ids:
                where = f"package {package}, resource {resource}, column {column}"
                record = sources.get(source_id)
                if record is None:
                    problems.append(f"{where}: source {source_id!r} is not in core.dim_source "
                                    "(assets/sources/), so its licence is unknown")
                elif record.redistribution != "open":
                    problems.append(
                        f"{where}: derives from source {source_id} under licence "
                        f"{record.licence_spdx or record.licence} (redistribution "
                        f"{record.redistribution!r}); only 'open' sources may be published")
    return problems


def check_licences(package: str, derivation: dict[str, dict[str, list[str]]],
                   sources: dict[str, SourceRecord]) -> None:
    problems = licence_problems(package, derivation, sources)
    if problems:
        raise LicenceError("refusing to publish:\n  " + "\n  ".join(problems))


# --- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileReport:
    resource: str
    path: str  # relative to the package folder
    format: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PackageReport:
    name: str
    version: str
    created: str
    folder: Path
    files: tuple[FileReport, ...]
    previous_version: str | None = None
    changes: tuple[str, ...] = ()  # the CHANGELOG lines of this version, if it is new


def table_schema_type(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) \
            or pa.types.is_string_view(arrow_type):
        return "string"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "number"
    if pa.types.is_date(arrow_type):
        return "date"
    raise PublicationError(f"no Table Schema type for the column type {arrow_type}")


def _canonical(table):
    """One Arrow type per Table Schema type, so the Parquet does not depend on how DuckDB
    happened to hand the rows over (string views, decimals)."""
    import pyarrow as pa

    canonical = {"string": pa.string(), "boolean": pa.bool_(), "number": pa.float64(),
                 "date": pa.date32()}
    fields = []
    for f in table.schema:
        kind = table_schema_type(f.type)
        fields.append(pa.field(f.name, f.type if kind == "integer" else canonical[kind]))
    return table.cast(pa.schema(fields)).replace_schema_metadata(None)


def query_resource(conn: duckdb.DuckDBPyConnection, package: str, resource: ResourceSpec):
    """The resource's rows as an Arrow table, in the declared column order, sorted by the
    primary key."""
    order = ", ".join(f'"{k}"' for k in resource.primary_key)
    try:
        table = conn.sql(f"SELECT * FROM ({resource.query}) ORDER BY {order}").to_arrow_table()
    except duckdb.Error as exc:
        raise PublicationError(f"package {package}, resource {resource.name}: query failed: "
                               f"{exc}") from exc
    declared, got = resource.field_names, table.column_names
    if declared != got:
        raise PublicationError(
            f"package {package}, resource {resource.name}: the query returns columns {got}, "
            f"the spec declares {declared} (same names, same order)")
    if table.num_rows == 0:
        raise PublicationError(f"package {package}, resource {resource.name}: the query "
                               "selected no rows; an empty table is not published")
    return _canonical(table)


def format_cell(value, kind: str) -> str:
    """How a value is written in the CSV: the same value always gives the same text."""
    if value is None:
        return MISSING
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        import numpy as np

        if not math.isfinite(value):
            raise PublicationError(f"cannot publish the non-finite number {value!r}")
        # shortest text that reads back as the same double, never in exponent notation
        return np.format_float_positional(value, unique=True, trim="-")
    if kind == "date":
        return value.isoformat()
    return str(value)


def column_text(array, kind: str) -> list[str]:
    """`format_cell` over a whole Arrow column, vectorised: Arrow's shortest round-trip
    text of a double equals NumPy's positional one except where Arrow switches to exponent
    notation; those few values go through `format_cell`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "boolean":
        text = pc.if_else(array, "true", "false")
    elif kind == "number":
        if pc.any(pc.invert(pc.is_finite(array))).as_py():
            bad = next(v for v in array.to_pylist() if v is not None and not math.isfinite(v))
            raise PublicationError(f"cannot publish the non-finite number {bad!r}")
        text = pc.cast(array, pa.string())
        exponent = pc.fill_null(pc.match_substring(text, "e"), False)
        if pc.any(exponent).as_py():
            values = text.to_pylist()
            for i in pc.indices_nonzero(exponent).to_pylist():
                values[i] = format_cell(array[i].as_py(), kind)
            return [MISSING if v is None else v for v in values]
    elif kind == "string":
        text = array
    else:  # integer, date
        text = pc.cast(array, pa.string())
    return pc.fill_null(text, MISSING).to_pylist()


CSV_BATCH_ROWS = 65_536  # rows formatted at a time: memory stays bounded by the batch


def write_csv(table, path: Path) -> None:
    kinds = [table_schema_type(f.type) for f in table.schema]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(table.column_names)
        for batch in table.to_batches(max_chunksize=CSV_BATCH_ROWS):
            columns = [column_text(column, kind) for column, kind in zip(batch.columns, kinds)]
            writer.writerows(zip(*columns))


def write_parquet(table, path: Path) -> None:
    """Same bytes for the same rows: no pandas or Arrow schema metadata; pyarrow writes no
    timestamps, and its `created_by` names the pinned pyarrow version."""
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd", store_schema=False,
                   write_statistics=True, row_group_size=1_000_000)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def vintage_date(vintage: str) -> str:
    """A source vintage (year, month or day) as the first day it covers, YYYY-MM-DD."""
    parts = vintage.split("-") + ["01", "01"]
    return "-".join(parts[:3])


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def build_package(conn: duckdb.DuckDBPyConnection, spec: PackageSpec, folder: Path,
                  previous: Path | None = None) -> PackageReport:
    """Write `spec` into `folder` (replaced if present): data/, datapackage.json, README.md,
    CITATION.cff and CHANGELOG.md. `previous` is the package as last published (usually
    `<publish_dir>/<name>`): its version and rows decide this build's version and changelog
    (see `decide_version`). Refuses before writing anything if a column derives from a
    non-open source."""
    sources = source_records(conn)
    tables = {r.name: query_resource(conn, spec.name, r) for r in spec.resources}
    derivation = {r.name: column_sources(spec.name, r, tables[r.name]) for r in spec.resources}
    check_licences(spec.name, derivation, sources)
    used = sorted({s for columns in derivation.values() for ids in columns.values() for s in ids})
    created = max(vintage_date(sources[s].vintage) for s in used) + "T00:00:00Z"

    # everything read from the previous release is read before `folder` is replaced (it may
    # be the same folder)
    before = previous_release(previous)
    changes = compare_package(before, spec, tables) if before else None
    version, entry = decide_version(spec, tables, before, changes, created)
    changelog = changelog_text(spec, before, entry)
    spec = replace(spec, version=version)

    if folder.exists():
        shutil.rmtree(folder)
    (folder / "data").mkdir(parents=True)
    files = []
    for r in spec.resources:
        table = tables[r.name]
        for fmt, write in (("csv", write_csv), ("parquet", write_parquet)):
            relative = f"data/{r.name}.{fmt}"
            write(table, folder / relative)
            files.append(FileReport(r.name, relative, fmt, table.num_rows,
                                    (folder / relative).stat().st_size,
                                    sha256_of(folder / relative)))
    descriptor = describe(spec, tables, derivation, sources, files, created)
    _write_text(folder / "datapackage.json",
                json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")
    _write_text(folder / "README.md", readme(spec, descriptor, tables, derivation, sources, files))
    _write_text(folder / "CITATION.cff", citation_cff(spec, descriptor, sources, used))
    _write_text(folder / "CHANGELOG.md", changelog)
    return PackageReport(spec.name, version, created, folder, tuple(files),
                         before.version if before else None,
                         tuple(entry[1]) if entry else ())


# --- versions and the changelog -------------------------------------------------------------
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

    compared = [f for f in new_fields if f in old_fields and f not in retyped
                and f not in new_key]
    keys = ", ".join(f'"{k}"' for k in new_key)
    con = duckdb.connect()
    try:
        con.register("new_rows", new)
        con.register("old_rows", con.read_parquet(str(old_path)))

        def count_and_examples(sql: str) -> tuple[int, list[str]]:
            count = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
            examples = con.execute(f"SELECT {keys} FROM ({sql}) ORDER BY {keys} "
                                   f"LIMIT {CHANGELOG_EXAMPLES}").fetchall()
            return count, [_key_text(r) for r in examples]

        added, added_examples = count_and_examples(
            f"SELECT {keys} FROM new_rows ANTI JOIN old_rows USING ({keys})")
        removed, removed_examples = count_and_examples(
            f"SELECT {keys} FROM old_rows ANTI JOIN new_rows USING ({keys})")
        revised_by_column, revised, revised_examples = {}, 0, []
        if compared:
            differs = [f'n."{c}" IS DISTINCT FROM o."{c}"' for c in compared]
            joined = (f"FROM new_rows AS n JOIN old_rows AS o USING ({keys}) "
                      f"WHERE {' OR '.join(differs)}")
            counts = con.execute(
                "SELECT " + ", ".join(f"count(*) FILTER (WHERE {d})" for d in differs)
                + f" {joined}").fetchall()[0]
            revised_by_column = {c: n for c, n in zip(compared, counts) if n}
            revised, revised_examples = count_and_examples(f"SELECT {keys} {joined}")
    finally:
        con.close()

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


# --- datapackage.json -----------------------------------------------------------------------


def licence_entry(source: SourceRecord) -> dict:
    entry = {"name": source.licence_spdx} if source.licence_spdx else {}
    return {**entry, "path": source.licence_url, "title": source.licence}


def source_entry(source: SourceRecord) -> dict:
    return {"title": source.title, "path": source.homepage, "version": source.vintage,
            "publisher": source.publisher, "citation": source.citation}


def _unique(entries: Iterable[dict]) -> list[dict]:
    seen, out = set(), []
    for entry in entries:
        key = json.dumps(entry, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def field_descriptor(spec: FieldSpec, kind: str, primary_key: tuple[str, ...]) -> dict:
    constraints = dict(spec.constraints)
    if spec.name in primary_key:
        constraints["required"] = True
    descriptor = {"name": spec.name, "type": kind, "description": spec.description}
    if spec.description_es:
        descriptor["description_es"] = spec.description_es
    if spec.unit:
        descriptor["unit"] = spec.unit
    if constraints:
        descriptor["constraints"] = {k: constraints[k] for k in sorted(constraints)}
    return descriptor


def table_schema(resource: ResourceSpec, table, suffix: str = "") -> dict:
    kinds = {f.name: table_schema_type(f.type) for f in table.schema}
    schema = {
        "fields": [field_descriptor(f, kinds[f.name], resource.primary_key)
                   for f in resource.fields],
        # frictionless 5.21 reads Parquet through pandas, which turns a null number (or a
        # null in an integer column) into NaN; "nan" marks it missing there, as "" in a CSV
        "missingValues": PARQUET_MISSING if suffix == PARQUET_SUFFIX else [MISSING],
        "primaryKey": list(resource.primary_key),
    }
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": list(fk["fields"]),
             "reference": {"resource": fk["reference"]["resource"] + suffix,
                           "fields": list(fk["reference"]["fields"])}}
            for fk in resource.foreign_keys]
    return schema


def describe(spec: PackageSpec, tables: dict, derivation: dict, sources: dict[str, SourceRecord],
             files: list[FileReport], created: str) -> dict:
    resources = []
    for r in spec.resources:
        used = sorted({s for ids in derivation[r.name].values() for s in ids})
        for report in (f for f in files if f.resource == r.name):
            parquet = report.format == "parquet"
            entry = {
                "name": r.name + (PARQUET_SUFFIX if parquet else ""),
                "type": "table",
                "title": r.title + (" (Parquet)" if parquet else ""),
                "title_es": r.title_es + (" (Parquet)" if parquet else ""),
                "description": r.description,
                "description_es": r.description_es,
                "path": report.path,
                "format": report.format,
                "mediatype": "application/vnd.apache.parquet" if parquet else "text/csv",
            }
            if not parquet:
                # frictionless 5.21 cannot count a Parquet file's bytes and reports any
                # `bytes` there as a mismatch; its sha256 `hash` pins the bytes anyway.
                entry["encoding"] = "utf-8"
                entry["bytes"] = report.bytes
            entry.update({
                "hash": f"sha256:{report.sha256}",
                "licenses": _unique(licence_entry(sources[s]) for s in used),
                "sources": [source_entry(sources[s]) for s in used],
                "schema": table_schema(r, tables[r.name], PARQUET_SUFFIX if parquet else ""),
            })
            resources.append(entry)
    used = sorted({s for columns in derivation.values() for ids in columns.values() for s in ids})
    return {
        "$schema": DATAPACKAGE_PROFILE,
        "name": spec.name,
        # the same name and version give the same id; a new version is a new package
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.homepage}#{spec.version}")),
        "title": spec.title,
        "title_es": spec.title_es,
        "description": spec.description,
        "description_es": spec.description_es,
        "version": spec.version,
        "created": created,
        "homepage": spec.homepage,
        "keywords": list(spec.keywords),
        "licenses": _unique(licence_entry(sources[s]) for s in used),
        "sources": [source_entry(sources[s]) for s in used],
        "contributors": [dict(c) for c in spec.contributors],
        "resources": resources,
    }


# --- citation -------------------------------------------------------------------------------

_GITHUB_TREE = re.compile(r"^https://github\.com/([^/]+)/([^/]+)/tree/[^/]+/(.+)$")


def release_tag(name: str, version: str) -> str:
    """The git tag that marks this version of a package: `<name>-v<version>`."""
    return f"{name}-v{version}"


def repository_url(spec: PackageSpec) -> str | None:
    match = _GITHUB_TREE.match(spec.homepage)
    return f"https://github.com/{match[1]}/{match[2]}" if match else None


def version_url(spec: PackageSpec) -> str:
    """The package folder at its release tag: resolves once the tag is pushed (README,
    "Tagging a release"); the homepage when it is not a GitHub folder."""
    match = _GITHUB_TREE.match(spec.homepage)
    if not match:
        return spec.homepage
    return (f"https://github.com/{match[1]}/{match[2]}/tree/"
            f"{release_tag(spec.name, spec.version)}/{match[3]}")


def _publisher(spec: PackageSpec) -> str:
    return next((c["title"] for c in spec.contributors if "publisher" in c["roles"]),
                spec.contributors[0]["title"])


def citation_text(spec: PackageSpec, created: str) -> str:
    return (f"{_publisher(spec)} ({created[:4]}). *{spec.title}*, version {spec.version} "
            f"[data package]. {version_url(spec)}")


def citation_cff(spec: PackageSpec, descriptor: dict, sources: dict[str, SourceRecord],
                 used: list[str]) -> str:
    """CITATION.cff (Citation File Format 1.2.0): the package at this version, and every
    source as a reference with its own licence and citation."""
    authors = [{"name": c["title"]} for c in spec.contributors
               if {"creator", "publisher"} & set(c["roles"])] \
        or [{"name": spec.contributors[0]["title"]}]
    spdx = sorted({sources[s].licence_spdx for s in used if sources[s].licence_spdx})
    record = {
        "cff-version": "1.2.0",
        "message": "If you use this data package, please cite it as below, and cite its "
                   "sources (under references) as their licences require; see README.md, "
                   "'Licence and attribution'.",
        "type": "dataset",
        "title": spec.title,
        "version": spec.version,
        "abstract": spec.description,
        "authors": authors,
        "keywords": list(spec.keywords),
        "url": version_url(spec),
        "identifiers": [{"type": "url", "value": version_url(spec),
                         "description": f"this version: git tag "
                                        f"{release_tag(spec.name, spec.version)}"},
                        {"type": "other", "value": f"urn:uuid:{descriptor['id']}",
                         "description": "datapackage.json id of this version"}],
    }
    if repository_url(spec):
        record["repository-code"] = repository_url(spec)
    if all(sources[s].licence_spdx for s in used):
        record["license"] = spdx[0] if len(spdx) == 1 else spdx
    record["references"] = []
    for s in used:
        source = sources[s]
        reference = {"type": "dataset", "title": source.title,
                     "authors": [{"name": source.publisher}], "version": source.vintage,
                     "url": source.homepage,
                     "notes": f"Licence: {source.licence} ({source.licence_url}). "
                              f"Cite: {source.citation}"}
        if source.licence_spdx:
            reference["license"] = source.licence_spdx
        record["references"].append(reference)
    return yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=10_000)


# --- README.md ------------------------------------------------------------------------------


def coverage(table) -> str:
    import pyarrow.compute as pc

    names = table.column_names
    if "iso3" in names and "year" in names:
        countries = len(pc.unique(table.column("iso3")))
        years = pc.unique(table.column("year"))
        first, last = pc.min(years).as_py(), pc.max(years).as_py()
        pairs = table.select(["iso3", "year"]).group_by(["iso3", "year"]).aggregate([]).num_rows
        return (f"{countries} countries × {len(years)} years ({first}–{last}): "
                f"{pairs:,} of {countries * len(years):,} country-years have a value")
    if "iso3" in names:
        return f"{len(pc.unique(table.column('iso3')))} countries and areas"
    return f"{table.num_rows:,} rows"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme(spec: PackageSpec, descriptor: dict, tables: dict, derivation: dict,
           sources: dict[str, SourceRecord], files: list[FileReport]) -> str:
    lines = [
        f"# {spec.title}", "",
        f"*{spec.title_es}*", "",
        spec.description, "",
        f"Version {spec.version}, built from source data as of {descriptor['created'][:10]} "
        "(the latest release of the sources it uses).", "",
        "## Contents", "",
        "| file | resource | rows | bytes | sha256 |",
        "|---|---|---:|---:|---|",
    ]
    for entry, report in zip(descriptor["resources"], files, strict=True):
        lines.append(f"| `{report.path}` | {entry['name']} | {report.rows:,} | "
                     f"{report.bytes:,} | `{report.sha256}` |")
    lines += ["", "Each table comes as CSV (UTF-8, comma-separated, empty cell = no value) and "
              "as Parquet with the same rows; `datapackage.json` describes both "
              "(Frictionless Data Package v2). `CITATION.cff` says how to cite this version "
              "and `CHANGELOG.md` what changed between versions.", ""]
    for r in spec.resources:
        table = tables[r.name]
        lines += [f"### {r.name}: {r.title}", "", r.description, "",
                  f"Coverage: {coverage(table)}.", "",
                  f"Primary key: {', '.join(r.primary_key)}."]
        for fk in r.foreign_keys:
            lines.append(f"Foreign key: {', '.join(fk['fields'])} → "
                         f"{fk['reference']['resource']}.{', '.join(fk['reference']['fields'])}.")
        lines += ["", "| field | type | unit | description | sources |", "|---|---|---|---|---|"]
        for f in r.fields:
            kind = table_schema_type(table.schema.field(f.name).type)
            lines.append(f"| `{f.name}` | {kind} | {_cell(f.unit or '')} | "
                         f"{_cell(f.description)} | {', '.join(derivation[r.name][f.name])} |")
        lines.append("")
    lines += ["## How it was made", "", spec.method, "",
              "Each table is the result of this query against the platform's warehouse, "
              "sorted by its primary key:", ""]
    for r in spec.resources:
        lines += [f"`{r.name}`:", "", "```sql", r.query, "```", ""]
    if spec.caveats:
        lines += ["## Caveats", ""] + [f"- {c}" for c in spec.caveats] + [""]
    used = sorted({s for columns in derivation.values() for ids in columns.values() for s in ids})
    lines += ["## Licence and attribution", "",
              "Every column carries the licence of the sources it derives from (listed per "
              "field above). Reuse the data under those terms and credit the sources:", ""]
    for s in used:
        source = sources[s]
        lines += [f"- **{source.title}** ({source.publisher}; release {source.vintage}). "
                  f"Licence: [{source.licence}]({source.licence_url}). "
                  f"Cite: {source.citation}"]
    tag = release_tag(spec.name, spec.version)
    lines += ["", "## Versions", "",
              f"This is version {spec.version}. The version follows the data: each build "
              "compares its tables with the previously published version on their primary "
              "keys. Rows added or removed, or a table or field added, raise the minor "
              "version; only values revised, the patch version; a table or field removed, a "
              "type or a primary key changed, the major version. Unchanged data keeps the "
              "version, and the files carry no build timestamps, so a rebuild from the same "
              "sources gives byte-identical files. `CHANGELOG.md` lists what changed in each "
              f"version. The git tag `{tag}` marks this version in the platform's repository.",
              "", "## Citation", "",
              citation_text(spec, descriptor["created"]), "",
              f"`CITATION.cff` holds the same in Citation File Format. Please cite the "
              "sources above as well.", "",
              "## Resumen en español", "",
              f"**{spec.title_es}**", "",
              spec.description_es, ""]
    for r in spec.resources:
        lines.append(f"- `data/{r.name}.csv` / `.parquet`: {r.title_es}. {r.description_es}")
    lines += ["",
              f"Versión {spec.version} (etiqueta git `{tag}`): la versión sigue a los datos "
              "(véase *Versions* y `CHANGELOG.md`). Licencias y atribución: véase *Licence "
              "and attribution* más arriba; cómo citar: *Citation* y `CITATION.cff`.", ""]
    return "\n".join(lines)


# --- validation -----------------------------------------------------------------------------


def validate_package(folder: Path, frictionless_parquet: bool = False) -> list[str]:
    """Why the package in `folder` is not fit to publish (empty: it is). Frictionless
    validates the CSV tables as a researcher's `frictionless validate datapackage.json` does
    (rows against the Table Schema, primary and foreign keys, bytes and hashes). Our own code
    checks the size and sha256 of every file against the descriptor (frictionless 5.21 does
    not verify a Parquet file's hash), that README.md, CITATION.cff and CHANGELOG.md name the
    version, and that each Parquet table holds the CSV's columns, types and cells. Frictionless
    reads Parquet through pandas row by row, in time that grows with the square of the
    column count (18 s for a 1,924-row, 32-column table here), so it validates the Parquet
    twins only when asked (`frictionless_parquet`); tests/test_published.py runs the
    researchers' CLI over every resource of the committed packages."""
    import frictionless

    path = folder / "datapackage.json"
    if not path.exists():
        return [f"{folder}: no datapackage.json"]
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    problems = _check_files(folder, descriptor)
    checked = descriptor if frictionless_parquet else {
        **descriptor,
        "resources": [r for r in descriptor["resources"] if r.get("format") != "parquet"]}
    try:
        report = frictionless.Package(checked, basepath=str(folder)).validate()
    except frictionless.FrictionlessException as exc:
        return problems + [f"{path}: {exc}"]
    for task in report.tasks:
        for error in task.errors:
            row = getattr(error, "row_number", None)
            where = f"{folder.name}/{task.name}" + (f", row {row}" if row else "")
            problems.append(f"{where}: {error.type}: {error.note}")
    if not problems:
        problems += _check_parquet_twins(folder, descriptor)
    return problems


def _check_files(folder: Path, descriptor: dict) -> list[str]:
    problems, described = [], set(DESCRIBED_EXTRA)
    for r in descriptor["resources"]:
        described.add(r["path"])
        path = folder / r["path"]
        if not path.is_file():
            problems.append(f"{folder.name}/{r['path']}: missing (resource {r['name']})")
            continue
        size, digest = path.stat().st_size, "sha256:" + sha256_of(path)
        if "bytes" in r and size != r["bytes"]:
            problems.append(f"{folder.name}/{r['path']}: {size} bytes, the descriptor says "
                            f"{r.get('bytes')}")
        if digest != r.get("hash"):
            problems.append(f"{folder.name}/{r['path']}: {digest}, the descriptor says "
                            f"{r.get('hash')}")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative not in described:
            problems.append(f"{folder.name}/{relative}: not described in datapackage.json")
    return problems + _check_documents(folder, descriptor)


def _check_documents(folder: Path, descriptor: dict) -> list[str]:
    """README.md, CITATION.cff and CHANGELOG.md are there and name the descriptor's version."""
    version, problems = descriptor.get("version"), []
    for name in DESCRIBED_EXTRA[1:]:
        if not (folder / name).is_file():
            problems.append(f"{folder.name}/{name}: missing")
    if problems:
        return problems
    try:
        citation = yaml.safe_load((folder / "CITATION.cff").read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [f"{folder.name}/CITATION.cff: not YAML: {exc}"]
    if not isinstance(citation, dict) or citation.get("version") != version:
        problems.append(f"{folder.name}/CITATION.cff: does not cite version {version}")
    if f"\n## {version}\n" not in (folder / "CHANGELOG.md").read_text(encoding="utf-8"):
        problems.append(f"{folder.name}/CHANGELOG.md: has no entry for version {version}")
    if f"Version {version}," not in (folder / "README.md").read_text(encoding="utf-8"):
        problems.append(f"{folder.name}/README.md: does not name version {version}")
    return problems


TWIN_BATCH_ROWS = 65_536  # rows compared at a time: memory stays bounded by the batch


def _rebatch(batches, size: int):
    """Tables of exactly `size` rows (the last one shorter) from any stream of batches, so
    two files read in different chunks can be compared batch by batch."""
    import pyarrow as pa

    pending, count = [], 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _check_parquet_twins(folder: Path, descriptor: dict) -> list[str]:
    """Each Parquet table holds its CSV twin's columns, types and cells (as the CSV writes
    them), compared in batches of TWIN_BATCH_ROWS rows read from both files as streams."""
    import itertools

    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    problems = []
    by_name = {r["name"]: r for r in descriptor["resources"]}
    for r in descriptor["resources"]:
        if r.get("format") != "parquet":
            continue
        twin = by_name.get(r["name"].removesuffix(PARQUET_SUFFIX))
        parquet = pq.ParquetFile(folder / r["path"])
        schema = parquet.schema_arrow
        names = [f["name"] for f in r["schema"]["fields"]]
        if schema.names != names:
            problems.append(f"{folder.name}/{r['path']}: columns {schema.names}, the "
                            f"schema says {names}")
            continue
        if twin is None:
            problems.append(f"{folder.name}/{r['path']}: no CSV twin {r['name']}")
            continue
        kinds = {f["name"]: f["type"] for f in r["schema"]["fields"]}
        stored = {f.name: table_schema_type(f.type) for f in schema}
        wrong = [f"{n} is {stored[n]}, the schema says {kinds[n]}" for n in names
                 if stored[n] != kinds[n]]
        if wrong:
            problems.append(f"{folder.name}/{r['path']}: " + "; ".join(wrong))
            continue
        text = pcsv.open_csv(
            folder / twin["path"],
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False))
        offset, rows = 0, {"csv": 0, "parquet": 0}
        for got, expected in itertools.zip_longest(
                _rebatch(parquet.iter_batches(batch_size=TWIN_BATCH_ROWS), TWIN_BATCH_ROWS),
                _rebatch(text, TWIN_BATCH_ROWS)):
            rows["parquet"] += got.num_rows if got is not None else 0
            rows["csv"] += expected.num_rows if expected is not None else 0
            if got is None or expected is None or got.num_rows != expected.num_rows:
                continue  # counted, reported below
            for name in names:
                want = expected.column(name).to_pylist()
                have = column_text(got.column(name).combine_chunks(), kinds[name])
                if have != want:
                    row = offset + next(i for i, (a, b) in enumerate(zip(have, want))
                                        if a != b) + 2
                    problems.append(f"{folder.name}/{r['path']}: column {name} differs from "
                                    f"{twin['path']} at CSV row {row}")
                    break
            else:
                offset += got.num_rows
                continue
            break
        if rows["parquet"] != rows["csv"]:
            problems.append(f"{folder.name}/{r['path']}: {rows['parquet']:,} rows, "
                            f"{twin['path']} has {rows['csv']:,}")
    return problems


def check_package(folder: Path) -> None:
    problems = validate_package(folder)
    if problems:
        raise PackageInvalidError(f"package {folder.name} is not valid:\n  "
                                  + "\n  ".join(problems))


# --- release --------------------------------------------------------------------------------


def aside(publish_dir: Path, suffix: str) -> Path:
    return publish_dir.with_name(f"{publish_dir.name}.{suffix}")


def recover(publish_dir: Path) -> list[str]:
    """Repair an interrupted release: a missing `publish_dir` with a `.old` beside it is the
    previous release, restored; a `.old` beside a present `publish_dir` is a finished swap's
    leftover, and a `.tmp` an unfinished build: both deleted. Returns what was done."""
    old, tmp = aside(publish_dir, "old"), aside(publish_dir, "tmp")
    done = []
    if old.exists() and not publish_dir.exists():
        os.rename(old, publish_dir)
        fsync_dir(publish_dir.parent)
        done.append(f"restored the previous release from {old}")
    if old.exists():
        shutil.rmtree(old)
        done.append(f"deleted the superseded release {old}")
    if tmp.exists():
        shutil.rmtree(tmp)
        done.append(f"deleted the unfinished build {tmp}")
    return done


T = TypeVar("T")


def release(publish_dir: Path, fill: Callable[[Path], T],
            check: Callable[[Path], list[str]] | None = None) -> T:
    """Build a new release with `fill(tmp)`, validate every package in it (and whatever
    `check(tmp)` finds wrong with the rest, e.g. the catalogue), then swap it in whole. On
    any failure the tmp folder is deleted and `publish_dir` stays as it was."""
    recover(publish_dir)
    tmp = aside(publish_dir, "tmp")
    tmp.mkdir(parents=True)
    try:
        result = fill(tmp)
        folders = sorted(p.parent for p in tmp.glob("*/datapackage.json"))
        if not folders:
            raise PackageInvalidError(f"{tmp}: no package was built")
        problems = [p for folder in folders for p in validate_package(folder)]
        if check is not None and not problems:
            problems += check(tmp)
        if problems:
            raise PackageInvalidError("release refused; the previous release stays as it "
                                      "was:\n  " + "\n  ".join(problems))
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap(tmp, publish_dir)
    return result


def swap(new: Path, publish_dir: Path) -> None:
    """Rename-aside: a directory cannot be renamed onto a non-empty one on Linux. A kill
    between the two renames leaves `.old` and no `publish_dir`: `recover` restores it."""
    old = aside(publish_dir, "old")
    if publish_dir.exists():
        os.rename(publish_dir, old)
    os.rename(new, publish_dir)
    fsync_dir(publish_dir.parent)
    if old.exists():
        shutil.rmtree(old)


def publish(conn: duckdb.DuckDBPyConnection, specs: Iterable[PackageSpec],
            publish_dir: Path, catalogue: bool = True) -> list[PackageReport]:
    """Build every package straight from the build database, versioned against what
    `publish_dir` holds, write the catalogue (paccto_data/catalog.py) and release them
    together. (The Dagster assets do the same in steps: paccto_data/defs/publication.py.)"""
    from paccto_data import catalog

    specs = list(specs)

    def fill(tmp: Path) -> list[PackageReport]:
        reports = [build_package(conn, s, tmp / s.name, previous=publish_dir / s.name)
                   for s in specs]
        if catalogue:
            catalog.write_catalogue(tmp)
        return reports

    return release(publish_dir, fill, catalog.check_catalogue if catalogue else None)



def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        else:
            fsync_dir(path)
    fsync_dir(root)
