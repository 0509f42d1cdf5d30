"""Writing one package: query its tables, pass the licence gate, decide the version, write
the CSV and Parquet files and the documents (datapackage.json, README.md, CITATION.cff,
CHANGELOG.md). Nothing comes from the clock: `created` is the latest vintage of the
contributing sources and `version` follows the data, so unchanged inputs give
byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from paccto_data.fileio import sha256_of
from paccto_data.publication.documents import citation_cff, describe, readme
from paccto_data.publication.licences import check_licences, column_sources, source_records
from paccto_data.publication.spec import PackageSpec
from paccto_data.publication.tables import (
    FileReport,
    Sandbox,
    query_resource,
    write_csv,
    write_parquet,
)
from paccto_data.publication.versions import (
    changelog_text,
    compare_package,
    decide_version,
    previous_release,
)


@dataclass(frozen=True)
class PackageReport:
    name: str
    version: str
    created: str
    folder: Path
    files: tuple[FileReport, ...]
    previous_version: str | None = None
    changes: tuple[str, ...] = ()  # the CHANGELOG lines of this version, if it is new
    # rows the previous release published that this build drops (versions.Removal.as_dict)
    removed: tuple[dict, ...] = ()


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
    sandbox = Sandbox()  # one for the package's queries, each holding only its own tables
    try:
        tables = {r.name: query_resource(conn, spec.name, r, sandbox) for r in spec.resources}
    finally:
        sandbox.close()
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
                         tuple(entry[1]) if entry else (),
                         tuple(c.removal.as_dict() for c in changes or () if c.removal))
