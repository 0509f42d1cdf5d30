"""The one way to write a warehouse table, run a SQL model, and describe a table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from paccto_data.pausepoints import pause_point
from paccto_data.settings import SQL_DIR

if TYPE_CHECKING:  # pandas is imported where a frame is made (0.5 s of the UI's load)
    import pandas as pd

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
        pause_point(f"{schema}_write")
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


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class TableDescription:
    """What the UI shows of a table: rows, columns (name, type, comment) and a preview."""

    rows: int
    columns: list[tuple[str, str, str | None]]
    preview: str  # the first PREVIEW_ROWS rows as a Markdown table


def describe_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> TableDescription:
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
    return TableDescription(int(rows), columns, preview.to_markdown(index=False))
