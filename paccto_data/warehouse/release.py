"""The analysts' release: the build database's `core` and `marts`, copied into a new file
(`.<name>.<pid>.tmp`, named for its owner) and renamed onto PACCTO_WAREHOUSE atomically;
`recover_warehouse` deletes what a release that died left (its file and DuckDB's `.wal`)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from paccto_data.fileio import fsync_dir
from paccto_data.lock import leftovers, owned
from paccto_data.pausepoints import pause_point
from paccto_data.warehouse.tables import quote, sql_string

# The released file is written in a storage format DuckDB 1.4 can open (analysts on DuckDB
# 1.x, R or DBeaver); the build database keeps DuckDB 2's default.
RELEASE_STORAGE_VERSION = "v1.4.0"
RELEASED_SCHEMAS = ("core", "marts")


def recover_warehouse(target: Path) -> list[str]:
    """Delete the temporary files of warehouse releases whose process is no longer alive."""
    done = []
    for path in leftovers(target, "tmp"):
        path.unlink(missing_ok=True)
        done.append(f"deleted the unfinished warehouse release {path.name}")
    return done


def release_warehouse(conn: duckdb.DuckDBPyConnection, target: Path) -> dict:
    """Copy the released schemas of the build database into a new file beside `target`,
    then rename it onto `target` atomically. Readers holding the old file keep reading it;
    new connections see the new release. Returns the tables released with their row counts."""
    conn.execute("CHECKPOINT")
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_warehouse(target)
    staging_file = owned(target, "tmp", hidden=True)
    staging_file.unlink(missing_ok=True)
    staging_file.with_name(staging_file.name + ".wal").unlink(missing_ok=True)
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
        pause_point("warehouse_release")
        conn.execute("CHECKPOINT _release")
    finally:
        conn.execute("DETACH _release")
    with open(staging_file, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(staging_file, target)
    fsync_dir(target.parent)
    return counts


def _copy_comments(conn, build: str, schema: str, name: str, dest: str, comment) -> None:
    if comment:
        conn.execute(f"COMMENT ON TABLE {dest} IS {sql_string(comment)}")
    for column, column_comment in conn.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = ? AND table_name = ? AND comment IS NOT NULL",
        [build, schema, name],
    ).fetchall():
        conn.execute(f"COMMENT ON COLUMN {dest}.{quote(column)} IS {sql_string(column_comment)}")
