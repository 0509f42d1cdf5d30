"""The licence gate: a column's licence comes from the sources it derives from (its
declared `sources`, the values of its `source_column`, or the rows' `source_id`), and a
column from a source that is not `open` is refused, naming column, source and licence.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from paccto_data.errors import LicenceError, PublicationError
from paccto_data.publication.spec import ResourceSpec


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
    # (file name, url, sha256) of each of its files: the `source_file` of the rows read
    # from it, and what a researcher checks a download against
    files: tuple[tuple[str, str, str], ...] = ()


def source_records(conn: duckdb.DuckDBPyConnection) -> dict[str, SourceRecord]:
    files: dict[str, list] = {}
    for source_id, *file in conn.sql(
            "SELECT source_id, file_name, url, sha256 FROM core.dim_source_file "
            "ORDER BY source_id, file_id").fetchall():
        files.setdefault(source_id, []).append(tuple(file))
    rows = conn.sql(
        "SELECT source_id, title, publisher, homepage, licence, licence_spdx, licence_url, "
        "redistribution, citation, vintage FROM core.dim_source ORDER BY source_id"
    ).fetchall()
    return {row[0]: SourceRecord(*row, files=tuple(files.get(row[0], ()))) for row in rows}


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
