"""Layer `warehouse`: one asset per SQL model (paccto_data/warehouse/models.py) with its
blocking suite, and the release of the analysts' warehouse."""

from collections.abc import Sequence

import dagster as dg
from dagster_duckdb import DuckDBResource

from paccto_data.defs import OWNERS
from paccto_data.defs.checks import suite_check
from paccto_data.defs.conditions import inputs_changed
from paccto_data.defs.metadata import table_metadata
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.versions import MODELS_SHARED, PACKAGE_DIR, code_version, suite
from paccto_data.lock import data_lock
from paccto_data.quality import ahead
from paccto_data.quality.status import CheckStatus, latest_check_statuses, problems_of
from paccto_data.quality.suites import suite_path
from paccto_data.settings import SOURCES_DIR, SQL_DIR
from paccto_data.sources import StagingTable
from paccto_data.warehouse.models import Model, models
from paccto_data.warehouse.release import release_warehouse


def table_key(qualified: str) -> dg.AssetKey:
    return dg.AssetKey(qualified.split("."))


def model_code_version(model: Model) -> str:
    # core.dim_source(_file) is the catalogue itself: every source's YAML is its input
    reads_catalogue = {"source_catalogue", "source_file_catalogue"} & set(model.frames)
    catalogue = [SOURCES_DIR] if reads_catalogue else []
    return code_version(SQL_DIR / model.relative_path, *MODELS_SHARED, *catalogue,
                        suite(model.qualified))


def model_asset(model: Model, tables: dict[str, StagingTable]) -> dg.AssetsDefinition:
    @dg.asset(
        key=table_key(model.qualified),
        deps=[table_key(t) for t in model.depends],
        group_name="warehouse",
        owners=OWNERS,
        kinds={"duckdb", "sql"},
        description=model.description,
        metadata={"dagster/table_name": model.qualified,
                  "sql": f"paccto_data/warehouse/sql/{model.relative_path}"},
        code_version=model_code_version(model),
        automation_condition=inputs_changed(),
    )
    def _model(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            model.run(conn, tables)
            ahead.submit(conn, model.qualified)  # its suite, while the run goes on
            return dg.MaterializeResult(metadata=table_metadata(conn, model.qualified))

    return _model


def refuse_unless_checks_passed(context: dg.AssetExecutionContext,
                                check_keys: Sequence[dg.AssetCheckKey],
                                what: str) -> list[CheckStatus]:
    """Raise a Failure naming every blocking check that stops the release of `what`; else
    return their latest results, every one passed."""
    statuses = latest_check_statuses(context.instance, check_keys)
    problems = problems_of(statuses)
    if problems:
        raise dg.Failure(
            description=f"{what} not released; the previous release stays as it was:\n- "
            + "\n- ".join(problems),
            metadata={"blocking_checks": dg.MetadataValue.json(problems)},
        )
    return statuses


def release_asset(upstream: Sequence[dg.AssetKey],
                  check_keys: Sequence[dg.AssetCheckKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key="warehouse_release",
        deps=list(upstream),
        group_name="warehouse",
        owners=OWNERS,
        kinds={"duckdb"},
        description="Swaps a complete copy of the build database's `core` and `marts` into "
        "PACCTO_WAREHOUSE by atomic rename, only when the latest result of every blocking "
        "check upstream passed. Written in DuckDB 1.4 storage so 1.x clients can open it.",
        code_version=code_version(PACKAGE_DIR / "warehouse" / "release.py",
                                  PACKAGE_DIR / "warehouse" / "tables.py"),
        automation_condition=inputs_changed(),
    )
    def warehouse_release(context: dg.AssetExecutionContext, paccto: PacctoConfig,
                          duckdb: DuckDBResource) -> dg.MaterializeResult:
        target = paccto.settings.warehouse
        with data_lock(paccto.settings, "warehouse_release"):
            refuse_unless_checks_passed(context, check_keys, "warehouse")
            with duckdb.get_connection() as conn:
                counts = release_warehouse(conn, target)
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(target)),
            "bytes": target.stat().st_size,
            "tables": dg.MetadataValue.json(counts),
            "checks_passed": len(check_keys),
        })

    return warehouse_release


def warehouse_definitions(tables: dict[str, StagingTable]) -> tuple[list, list]:
    assets, checks = [], []
    for model in models(tables):
        assets.append(model_asset(model, tables))
        if suite_path(model.qualified).exists():
            checks.append(suite_check(table_key(model.qualified), model.qualified))
    return assets, checks
