"""The one way to write a warehouse table, describe it in the UI, and release the warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from paccto_data.fileio import fsync_dir
from paccto_data.settings import SQL_DIR

# The released file is written in a storage format DuckDB 1.4 can open (analysts on DuckDB
# 1.x, R or DBeaver); the build database keeps DuckDB 2's default.
RELEASE_STORAGE_VERSION = "v1.4.0"
RELEASED_SCHEMAS = ("core", "marts")
PREVIEW_ROWS = 10


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def write_table(conn: duckdb.DuckDBPyConnection, schema: str, name: str,
                frame: pd.DataFrame) -> None:
    """Replace `schema.name` with the rows of `frame`, in one transaction."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    conn.register("_incoming", frame)
    try:
        conn.execute(
            f"CREATE OR REPLACE TABLE {quote(schema)}.{quote(name)} AS SELECT * FROM _incoming"
        )
    finally:
        conn.unregister("_incoming")


def run_sql_model(conn: duckdb.DuckDBPyConnection, relative_path: str,
                  placeholders: dict[str, str] | None = None) -> None:
    """Run a model file from `paccto_data/warehouse/sql/` (it creates or replaces its own table);
    `{name}` placeholders in the file are filled from `placeholders`."""
    sql = (SQL_DIR / relative_path).read_text(encoding="utf-8")
    if placeholders:
        sql = sql.format(**placeholders)
    schema = Path(relative_path).parent.name
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    conn.execute(sql)


def table_columns(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index", [schema, name],
    ).fetchall()]


def read_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> pd.DataFrame:
    schema, name = qualified.split(".")
    return conn.execute(f"SELECT * FROM {quote(schema)}.{quote(name)}").df()


def table_metadata(conn: duckdb.DuckDBPyConnection, qualified: str) -> dict:
    """Row count, column schema and a Markdown preview, as Dagster metadata."""
    import dagster as dg

    schema, name = qualified.split(".")
    columns = conn.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index", [schema, name],
    ).fetchall()
    rows = conn.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(name)}").fetchone()[0]
    preview = conn.execute(
        f"SELECT * FROM {quote(schema)}.{quote(name)} LIMIT {PREVIEW_ROWS}"
    ).df()
    return {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(c, t, description=d) for c, t, d in columns]
        ),
        "dagster/table_name": qualified,
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
    }


def release(conn: duckdb.DuckDBPyConnection, target: Path) -> dict:
    """Copy the released schemas of the build database into a new file beside `target`,
    then rename it onto `target` atomically. Readers holding the old file keep reading it;
    new connections see the new release. Returns the tables released with their row counts."""
    conn.execute("CHECKPOINT")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging_file = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staging_file.unlink(missing_ok=True)
    build = conn.execute("SELECT current_database()").fetchone()[0]
    tables = conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = ? AND schema_name IN (SELECT unnest(?)) "
        "ORDER BY schema_name, table_name", [build, list(RELEASED_SCHEMAS)],
    ).fetchall()
    counts = {}
    conn.execute(
        f"ATTACH {sql_string(str(staging_file))} AS _release "
        f"(STORAGE_VERSION '{RELEASE_STORAGE_VERSION}')"
    )
    try:
        for schema in RELEASED_SCHEMAS:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS _release.{quote(schema)}")
        for schema, name, comment in tables:
            source = f"{quote(build)}.{quote(schema)}.{quote(name)}"
            dest = f"_release.{quote(schema)}.{quote(name)}"
            conn.execute(f"CREATE TABLE {dest} AS SELECT * FROM {source}")
            _copy_comments(conn, build, schema, name, dest, comment)
            counts[f"{schema}.{name}"] = conn.execute(f"SELECT count(*) FROM {dest}").fetchone()[0]
        conn.execute("CHECKPOINT _release")
    finally:
        conn.execute("DETACH _release")
    with open(staging_file, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(staging_file, target)
    fsync_dir(target.parent)
    return counts


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(conn, build: str, schema: str, name: str, dest: str, comment) -> None:
    if comment:
        conn.execute(f"COMMENT ON TABLE {dest} IS {sql_string(comment)}")
    for column, column_comment in conn.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = ? AND table_name = ? AND comment IS NOT NULL",
        [build, schema, name],
    ).fetchall():
        conn.execute(f"COMMENT ON COLUMN {dest}.{quote(column)} IS {sql_string(column_comment)}")
