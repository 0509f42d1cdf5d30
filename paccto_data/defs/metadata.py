"""A warehouse table as Dagster metadata: row count, column schema and a preview."""

import dagster as dg
import duckdb

from paccto_data.warehouse.tables import describe_table


def table_metadata(conn: duckdb.DuckDBPyConnection, qualified: str) -> dict:
    table = describe_table(conn, qualified)
    return {
        "dagster/row_count": dg.MetadataValue.int(table.rows),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(c, t, description=d) for c, t, d in table.columns]
        ),
        "dagster/table_name": qualified,
        "preview": dg.MetadataValue.md(table.preview),
    }
