"""What a package is: `assets/packages/<name>.yaml` (schema `assets/packages.schema.json`)
read into a checked `PackageSpec`. Its resources are SQL queries on the build database's
`core`/`marts` tables; every package also has the `countries` resource that its country
codes reference.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import duckdb

from paccto_data.errors import PublicationError
from paccto_data.fileio import read_yaml
from paccto_data.settings import ASSETS_DIR

PACKAGES_DIR = ASSETS_DIR / "packages"
# The `countries` resource of every package that does not declare its own.
STANDARD_COUNTRIES_PATH = PACKAGES_DIR / "standard" / "countries.yaml"

SPEC_SCHEMA_PATH = ASSETS_DIR / "packages.schema.json"

PUBLISHABLE_SCHEMAS = ("core", "marts")

COUNTRIES = "countries"  # the resource every package has, that its country codes reference


# folders of a release that are not packages (a package may not take their names)
RESERVED_FOLDERS = {"charts": "the catalogue's charts", "quality": "the data-quality report"}


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


def _table_functions(node) -> list[str]:
    """The table functions (read_csv, read_text, glob, …) a parsed query calls."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "TABLE_FUNCTION":
            function = node.get("function") or {}
            found.append(str(function.get("function_name", "?")))
        for value in node.values():
            found += _table_functions(value)
    elif isinstance(node, list):
        for value in node:
            found += _table_functions(value)
    return found


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """An empty in-memory database, kept for the process: it only parses queries (opening one
    takes about 20 ms, parsing a query well under 1 ms)."""
    return duckdb.connect(":memory:")


def query_problems(query: str) -> list[str]:
    """Why a package query is not one plain SELECT on warehouse tables: several statements,
    another kind of statement, or a table function (every one of them reads outside the
    warehouse or makes rows up). The query also runs where it can read nothing else
    (publication.tables.Sandbox); this names the problem before anything is built."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        return [f"query does not parse: {exc}"]
    if len(statements) != 1:
        return [f"the query holds {len(statements)} statements; it must be one SELECT"]
    if statements[0].type != duckdb.StatementType.SELECT:
        return [f"the query is a {statements[0].type.name} statement; it must be a SELECT"]
    tree = json.loads(_parser().execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0])
    if tree.get("error"):
        return [f"query does not parse: {tree.get('error_message')}"]
    return [f"the query calls {name}(), which reads outside the warehouse; a package query "
            f"reads only the {', '.join(PUBLISHABLE_SCHEMAS)} tables"
            for name in sorted(set(_table_functions(tree)))]


def _fold(text: str) -> str:
    return " ".join(text.split())


def load_spec(path: Path) -> PackageSpec:
    """Read and check one `assets/packages/<name>.yaml`."""
    return spec_from_record(read_yaml(path), path)


def spec_from_record(record: dict, path: Path) -> PackageSpec:
    """Check a parsed spec against assets/packages.schema.json and the rules below."""
    import jsonschema  # only loading a spec needs it

    record = with_standard_countries(record)
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


def with_standard_countries(record: dict) -> dict:
    """The spec with the standard `countries` resource first, unless it declares its own."""
    resources = record.get("resources")
    if not isinstance(resources, list) or any(
            isinstance(r, dict) and r.get("name") == COUNTRIES for r in resources):
        return record
    standard = read_yaml(STANDARD_COUNTRIES_PATH)
    return {**record, "resources": [standard, *resources]}


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
        refused = query_problems(r.query)
        if refused:
            problems += [f"resource {r.name}: {problem}" for problem in refused]
            continue
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
        raise PublicationError(f"{where} (package {spec.name}):\n  " + "\n  ".join(problems))


_loaded: dict[tuple, dict[str, PackageSpec]] = {}


def package_specs(directory: Path = PACKAGES_DIR) -> dict[str, PackageSpec]:
    """Every package spec, by name. Checking a spec (its schema, its query parsed by DuckDB)
    takes about 0.1 s; the specs are checked again only when a file's size or mtime changed."""
    paths = sorted(directory.glob("*.yaml"))
    stamps = tuple((str(p), s.st_mtime_ns, s.st_size) for p, s in ((p, p.stat()) for p in paths))
    if stamps not in _loaded:
        _loaded.clear()
        _loaded[stamps] = {p.stem: load_spec(p) for p in paths}
    return dict(_loaded[stamps])
