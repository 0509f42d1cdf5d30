"""Layer `staging`: one tidy long table per source table, written to the build database."""

import inspect
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from paccto_data.acquire import fetch, records
from paccto_data.defs import OWNERS
from paccto_data.defs.checks import suite_check
from paccto_data.defs.conditions import inputs_changed
from paccto_data.defs.metadata import table_metadata
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.sources import raw_key, source_metadata
from paccto_data.defs.versions import ACTIVITIES, TIDY_SHARED, code_version, suite
from paccto_data.limits import reading
from paccto_data.quality import ahead
from paccto_data.sources import StagingTable
from paccto_data.warehouse.tables import write_table


def staging_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", table])


def staging_code_version(table: StagingTable) -> str:
    module = Path(inspect.getsourcefile(table.tidy))
    extra = ACTIVITIES if table.source_id == "paccto_activities" else []
    return code_version(module, *TIDY_SHARED, *extra, suite(f"staging.{table.name}"))


def staging_asset(table: StagingTable) -> dg.AssetsDefinition:
    source = records.source(table.source_id)

    @dg.asset(
        key=staging_key(table.name),
        deps=[raw_key(source.id)],
        group_name="staging",
        owners=OWNERS,
        kinds={"duckdb", "pandas"},
        description=table.description,
        metadata={**source_metadata(source), "dagster/table_name": f"staging.{table.name}"},
        code_version=staging_code_version(table),
        automation_condition=inputs_changed(),
    )
    def _staging(paccto: PacctoConfig, duckdb: DuckDBResource) -> dg.MaterializeResult:
        files = fetch.local_files(source, paccto.settings)
        # each file read within its own limits (the YAML's `limits:` over the defaults)
        with reading({path: source.limits_for(source.file(file_id))
                      for file_id, path in files.items()}):
            tidy = table.tidy(files)
        with duckdb.get_connection() as conn:
            write_table(conn, "staging", table.name, tidy.table)
            metadata = table_metadata(conn, f"staging.{table.name}")
            ahead.submit(conn, f"staging.{table.name}")  # its suite, while the run goes on
        return dg.MaterializeResult(metadata={
            **metadata,
            **source_metadata(source),
            "rows_read": tidy.rows_read,
            "rows_kept": len(tidy.table),
            "rows_dropped": dg.MetadataValue.json(dict(sorted(tidy.dropped.items()))),
        })

    return _staging


def staging_definitions(tables: dict[str, StagingTable]) -> tuple[list, list]:
    assets, checks = [], []
    for table in tables.values():
        assets.append(staging_asset(table))
        qualified = f"staging.{table.name}"
        from paccto_data.quality.suites import suite_path

        if suite_path(qualified).exists():
            checks.append(suite_check(staging_key(table.name), qualified))
    return assets, checks
