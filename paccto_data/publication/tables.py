"""A resource's rows as an Arrow table, and the one way they are written: CSV (the same
value always gives the same text) and Parquet (the same rows give the same bytes).

A package query is configuration, not code we wrote: it runs in a `Sandbox`, a DuckDB of
its own holding copies of the warehouse tables it names and able to read nothing else
(no files, no URLs, no extensions, no other database; the settings locked), so a spec cannot
publish `read_text('/etc/hostname')`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from paccto_data.errors import PublicationError
from paccto_data.publication.spec import PUBLISHABLE_SCHEMAS, ResourceSpec
from paccto_data.warehouse.tables import quote

MISSING = ""  # how a null is written in the CSV (the schema's only missing value)

PARQUET_MISSING = [MISSING, "nan"]  # the Parquet twin's missing values (see table_schema)

PARQUET_SUFFIX = "_parquet"  # resource name of a table's Parquet twin


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


class Sandbox:
    """A new in-memory DuckDB with external access disabled and the configuration locked from
    the start, which holds, each time it is handed over, copies of exactly the warehouse tables
    it was asked for (`holding`): a package's resources are queried one after another in one
    sandbox (a new DuckDB costs about 30 ms), each reading its own tables and nothing else."""

    def __init__(self) -> None:
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET enable_external_access = false")
        self._db.execute("SET lock_configuration = true")
        self._held: set[tuple[str, str]] = set()

    def holding(self, conn: duckdb.DuckDBPyConnection,
                tables: Iterable[str]) -> duckdb.DuckDBPyConnection:
        """The sandbox holding a copy of each `schema.table` of `conn` in `tables` that is a
        warehouse table (core, marts; anything else, or a missing one, is left out: the query
        then fails naming it), and no other table."""
        wanted = set()
        for qualified in set(tables):
            schema, _, name = qualified.partition(".")
            if schema not in PUBLISHABLE_SCHEMAS or not name or "." in name:
                continue
            exists = conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ?", [schema, name]).fetchall()[0][0]
            if exists:
                wanted.add((schema, name))
        for schema, name in sorted(self._held - wanted):
            self._db.execute(f"DROP TABLE {quote(schema)}.{quote(name)}")
        for schema, name in sorted(wanted - self._held):
            rows = conn.sql(f"SELECT * FROM {quote(schema)}.{quote(name)}").to_arrow_table()
            self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
            self._db.register("_incoming", rows)
            try:
                self._db.execute(f"CREATE TABLE {quote(schema)}.{quote(name)} AS "
                                 "SELECT * FROM _incoming")
            finally:
                self._db.unregister("_incoming")
        self._held = wanted
        return self._db

    def close(self) -> None:
        self._db.close()


def query_resource(conn: duckdb.DuckDBPyConnection, package: str, resource: ResourceSpec,
                   sandbox: Sandbox | None = None):
    """The resource's rows as an Arrow table, in the declared column order, sorted by the
    primary key; the query runs in `sandbox` (a new one if none is given) holding only the
    tables it names."""
    order = ", ".join(quote(k) for k in resource.primary_key)
    own = sandbox is None
    sandbox = sandbox or Sandbox()
    try:
        table = sandbox.holding(conn, resource.tables) \
            .sql(f"SELECT * FROM ({resource.query}) ORDER BY {order}").to_arrow_table()
    except duckdb.Error as exc:
        raise PublicationError(f"package {package}, resource {resource.name}: query failed: "
                               f"{exc}") from exc
    finally:
        if own:
            sandbox.close()
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


@dataclass(frozen=True)
class FileReport:
    resource: str
    path: str  # relative to the package folder
    format: str
    rows: int
    bytes: int
    sha256: str
