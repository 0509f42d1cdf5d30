"""The one way to write a Frictionless data package (Data Package v2) and release `published/`.

A package is declared in `assets/packages/<name>.yaml` (schema: `assets/packages.schema.json`):
its resources are SQL queries against the build database's `core`/`marts` tables. Writing
one goes: licence gate (every column's sources must be `open`), then `data/<resource>.csv`
and `data/<resource>.parquet`, `datapackage.json` and `README.md`. Nothing in them comes
from the clock: `created` is the latest vintage of the contributing sources and `version`
is the spec's, so unchanged inputs give byte-identical files.

A release builds every package into `<publish_dir>.tmp`, validates it (frictionless on the
CSV resources; our own bytes/sha256 check of every file) and swaps it in whole by
rename-aside (`publish_dir` -> `<publish_dir>.old`, tmp -> `publish_dir`, delete `.old`);
`recover` repairs an interrupted swap at the start of the next release.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import duckdb
import yaml

from paccto_data.errors import PacctoError
from paccto_data.settings import ASSETS_DIR

PACKAGES_DIR = ASSETS_DIR / "packages"
SPEC_SCHEMA_PATH = ASSETS_DIR / "packages.schema.json"
DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
PUBLISHABLE_SCHEMAS = ("core", "marts")
MISSING = ""  # how a null is written in the CSV (the schema's only missing value)
PARQUET_SUFFIX = "_parquet"  # resource name of a table's Parquet twin
DESCRIBED_EXTRA = ("datapackage.json", "README.md")


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


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    title: str
    description: str
    query: str
    primary_key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    foreign_keys: tuple[dict, ...] = ()

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

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
    import jsonschema  # only loading a spec needs it

    record = yaml.safe_load(path.read_text(encoding="utf-8"))
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
                               tuple(f.get("sources", ())), dict(f.get("constraints", {})))
                     for f in r["fields"]),
        foreign_keys=tuple(r.get("foreign_keys", ())),
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


def _check_spec(spec: PackageSpec) -> None:
    where = spec.path or spec.name
    problems = []
    names = [r.name for r in spec.resources]
    if len(set(names)) != len(names):
        problems.append(f"resource names are not unique: {names}")
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
        try:
            tables = r.tables
        except duckdb.Error as exc:
            problems.append(f"resource {r.name}: query does not parse: {exc}")
            continue
        for table in tables:
            if table.split(".")[0] not in PUBLISHABLE_SCHEMAS or table.count(".") != 1:
                problems.append(f"resource {r.name}: query reads {table!r}; name tables as "
                                f"<schema>.<table> in {', '.join(PUBLISHABLE_SCHEMAS)}")
        if "source_id" not in fields:
            unsourced = [f.name for f in r.fields if not f.sources]
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
    """The sources each column derives from: its declared `sources`, else the values of the
    resource's `source_id` column (every row's provenance)."""
    row_sources: list[str] = []
    if "source_id" in table.column_names:
        values = table.column("source_id").to_pylist()
        if None in values:
            raise PublicationError(f"package {package}, resource {resource.name}: "
                                   "source_id is empty on some rows; every row needs a source")
        row_sources = sorted(set(values))
    derived = {}
    for f in resource.fields:
        derived[f.name] = sorted(f.sources) if f.sources else row_sources
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
        import math

        import numpy as np

        if not math.isfinite(value):
            raise PublicationError(f"cannot publish the non-finite number {value!r}")
        # shortest text that reads back as the same double, never in exponent notation
        return np.format_float_positional(value, unique=True, trim="-")
    if kind == "date":
        return value.isoformat()
    return str(value)


def write_csv(table, path: Path) -> None:
    kinds = [table_schema_type(f.type) for f in table.schema]
    columns = [[format_cell(v, kind) for v in column.to_pylist()]
               for column, kind in zip(table.columns, kinds)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.column_names)
    writer.writerows(zip(*columns))
    path.write_bytes(buffer.getvalue().encode("utf-8"))


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


def build_package(conn: duckdb.DuckDBPyConnection, spec: PackageSpec,
                  folder: Path) -> PackageReport:
    """Write `spec` into `folder` (replaced if present): data/, datapackage.json, README.md.
    Refuses before writing anything if a column derives from a non-open source."""
    sources = source_records(conn)
    tables = {r.name: query_resource(conn, spec.name, r) for r in spec.resources}
    derivation = {r.name: column_sources(spec.name, r, tables[r.name]) for r in spec.resources}
    check_licences(spec.name, derivation, sources)

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
    used = sorted({s for columns in derivation.values() for ids in columns.values() for s in ids})
    created = max(vintage_date(sources[s].vintage) for s in used) + "T00:00:00Z"
    descriptor = describe(spec, tables, derivation, sources, files, created)
    (folder / "datapackage.json").write_bytes(
        (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    (folder / "README.md").write_bytes(
        readme(spec, descriptor, tables, derivation, sources, files).encode("utf-8"))
    return PackageReport(spec.name, spec.version, created, folder, tuple(files))


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
        "missingValues": [MISSING],
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
                "description": r.description,
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


# --- README.md ------------------------------------------------------------------------------


def coverage(table) -> str:
    import pyarrow.compute as pc

    names = table.column_names
    if "iso3" in names and "year" in names:
        countries = len(pc.unique(table.column("iso3")))
        years = pc.unique(table.column("year"))
        first, last = pc.min(years).as_py(), pc.max(years).as_py()
        return (f"{countries} countries × {len(years)} years ({first}–{last}): "
                f"{table.num_rows:,} of {countries * len(years):,} country-years have a value")
    if "iso3" in names:
        return f"{len(pc.unique(table.column('iso3')))} countries and areas"
    return f"{table.num_rows:,} rows"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme(spec: PackageSpec, descriptor: dict, tables: dict, derivation: dict,
           sources: dict[str, SourceRecord], files: list[FileReport]) -> str:
    year = descriptor["created"][:4]
    publisher = next((c["title"] for c in spec.contributors if "publisher" in c["roles"]),
                     spec.contributors[0]["title"])
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
              "(Frictionless Data Package v2).", ""]
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
    lines += ["", "## Citation", "",
              f"{publisher} ({year}). *{spec.title}*, version {spec.version} "
              f"[data package]. {spec.homepage}", "",
              "Please cite the sources above as well.", "",
              "## Resumen en español", "",
              f"**{spec.title_es}**", "",
              spec.description_es, "",
              f"Versión {spec.version}. Licencias y atribución: véase *Licence and "
              "attribution* más arriba.", ""]
    return "\n".join(lines)


# --- validation -----------------------------------------------------------------------------


def validate_package(folder: Path) -> list[str]:
    """Why the package in `folder` is not fit to publish (empty: it is). Frictionless
    validates the whole package, as a researcher's `frictionless validate datapackage.json`
    does (rows against the Table Schema, keys, CSV bytes and hashes); frictionless 5.21 does
    not verify a Parquet file's hash, so our own code checks the size and sha256 of every
    file against the descriptor, and that the Parquet rows equal the CSV's."""
    import frictionless

    path = folder / "datapackage.json"
    if not path.exists():
        return [f"{folder}: no datapackage.json"]
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    problems = _check_files(folder, descriptor)
    try:
        report = frictionless.Package(descriptor, basepath=str(folder)).validate()
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
    return problems


def _check_parquet_twins(folder: Path, descriptor: dict) -> list[str]:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    problems = []
    by_name = {r["name"]: r for r in descriptor["resources"]}
    for r in descriptor["resources"]:
        if r.get("format") != "parquet":
            continue
        twin = by_name.get(r["name"].removesuffix(PARQUET_SUFFIX))
        parquet = pq.read_table(folder / r["path"])
        names = [f["name"] for f in r["schema"]["fields"]]
        if parquet.column_names != names:
            problems.append(f"{folder.name}/{r['path']}: columns {parquet.column_names}, the "
                            f"schema says {names}")
            continue
        if twin is None:
            problems.append(f"{folder.name}/{r['path']}: no CSV twin {r['name']}")
            continue
        strings = {n: pa.string() for n in names}
        text = pcsv.read_csv(
            folder / twin["path"],
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(column_types=strings, strings_can_be_null=False))
        kinds = {f["name"]: f["type"] for f in r["schema"]["fields"]}
        for name in names:
            expected = text.column(name).to_pylist()
            got = [format_cell(v, kinds[name]) for v in parquet.column(name).to_pylist()]
            if got != expected:
                row = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b) + 2
                problems.append(f"{folder.name}/{r['path']}: column {name} differs from "
                                f"{twin['path']} at CSV row {row}")
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
        _fsync_dir(publish_dir.parent)
        done.append(f"restored the previous release from {old}")
    if old.exists():
        shutil.rmtree(old)
        done.append(f"deleted the superseded release {old}")
    if tmp.exists():
        shutil.rmtree(tmp)
        done.append(f"deleted the unfinished build {tmp}")
    return done


T = TypeVar("T")


def release(publish_dir: Path, fill: Callable[[Path], T]) -> T:
    """Build a new release with `fill(tmp)`, validate every package in it, then swap it in
    whole. On any failure the tmp folder is deleted and `publish_dir` stays as it was."""
    recover(publish_dir)
    tmp = aside(publish_dir, "tmp")
    tmp.mkdir(parents=True)
    try:
        result = fill(tmp)
        folders = sorted(p.parent for p in tmp.glob("*/datapackage.json"))
        if not folders:
            raise PackageInvalidError(f"{tmp}: no package was built")
        problems = [p for folder in folders for p in validate_package(folder)]
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
    _fsync_dir(publish_dir.parent)
    if old.exists():
        shutil.rmtree(old)


def publish(conn: duckdb.DuckDBPyConnection, specs: Iterable[PackageSpec],
            publish_dir: Path) -> list[PackageReport]:
    """Build every package straight from the build database and release them together."""
    specs = list(specs)
    return release(publish_dir, lambda tmp: [build_package(conn, s, tmp / s.name)
                                             for s in specs])


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        else:
            _fsync_dir(path)
    _fsync_dir(root)
