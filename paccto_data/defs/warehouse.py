"""Layer `warehouse`: the curated `core` tables from SQL models, and the release."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource

from paccto_data import reference
from paccto_data.defs import OWNERS
from paccto_data.defs.checks import suite_check
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.staging import staging_key
from paccto_data.quality import suite_path
from paccto_data.sources import StagingTable
from paccto_data.warehouse import quote, release, run_sql_model, table_columns, table_metadata


@dataclass(frozen=True)
class Model:
    """A warehouse table built by `paccto_data/sql/<schema>/<name>.sql`."""

    schema: str
    name: str
    description: str
    deps: Sequence[dg.AssetKey]
    # Reviewed reference frames the SQL reads, registered under these names.
    frames: dict[str, Callable[[], pd.DataFrame]] = field(default_factory=dict)
    # Values for `{placeholders}` in the SQL file, computed from the build database.
    placeholders: dict[str, Callable[[duckdb.DuckDBPyConnection], str]] = field(
        default_factory=dict)

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.schema, self.name])

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


DISAGGREGATIONS = ("sex", "age", "category", "dimension")


def fact_indicator_union(tables: Sequence[tuple[StagingTable, list[str]]]) -> str:
    """One SELECT per staging table that feeds core.fact_indicator, in the fact's columns."""
    if not tables:
        raise ValueError("no staging table feeds core.fact_indicator")

    def select(table: StagingTable, columns: set[str]) -> str:
        optional = ["flag" if "flag" in columns else "CAST(NULL AS VARCHAR) AS flag"]
        optional += [d if d in columns else f"'total' AS {d}" for d in DISAGGREGATIONS]
        return (f"SELECT iso3, year, indicator_id, '{table.source_id}' AS source_id, value, "
                f"unit, {', '.join(optional)} FROM staging.{quote(table.name)}")

    return "\n    UNION ALL BY NAME\n    ".join(
        select(t, set(columns)) for t, columns in tables)


def models(tables: dict[str, StagingTable]) -> list[Model]:
    indicator_tables = [t for t in tables.values() if t.feeds == "fact_indicator"]

    def union(conn) -> str:
        return fact_indicator_union([(t, table_columns(conn, "staging", t.name))
                                     for t in indicator_tables])

    return [
        Model(
            "core", "dim_country",
            "Every UN M49 country or area (249): ISO3/ISO2/M49 codes, English and Spanish "
            "names, M49 region, is_lac (M49 419) and LAC sub-region, World Bank region and "
            "income group, is_celac (33) and is_programme_partner (EL PAcCTO 2.0, 31).",
            deps=[staging_key("un_m49"), staging_key("wb_population_countries")],
            frames={"country_groups": reference.country_groups},
        ),
        Model(
            "core", "dim_indicator",
            "One row per indicator: English and Spanish title and description, unit, "
            "sources, and the valid range the checks enforce (assets/indicators.yaml).",
            deps=[], frames={"indicator_catalogue": reference.indicator_catalogue},
        ),
        Model(
            "core", "dim_source",
            "One row per source: publisher, producer, distributor, licence, redistribution "
            "(open / unmodified-only / internal), citation, vintage and retrieval date.",
            deps=[], frames={"source_catalogue": reference.source_catalogue},
        ),
        Model(
            "core", "fact_indicator",
            "Every indicator value for LAC, long: iso3, year, indicator_id, source_id, value, "
            "unit, the publisher's flag, and disaggregations (sex, age, category, dimension; "
            "'total' where a source has none).",
            deps=[staging_key(t.name) for t in indicator_tables]
            + [dg.AssetKey(["core", "dim_country"]), dg.AssetKey(["core", "dim_indicator"]),
               dg.AssetKey(["core", "dim_source"])],
            placeholders={"union": union},
        ),
    ]


def model_asset(model: Model) -> dg.AssetsDefinition:
    @dg.asset(
        key=model.key,
        deps=model.deps,
        group_name="warehouse",
        owners=OWNERS,
        kinds={"duckdb", "sql"},
        description=model.description,
        metadata={"dagster/table_name": model.qualified,
                  "sql": f"paccto_data/sql/{model.schema}/{model.name}.sql"},
    )
    def _model(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            for name, make in model.frames.items():
                conn.register(name, make())
            run_sql_model(conn, f"{model.schema}/{model.name}.sql",
                          {name: make(conn) for name, make in model.placeholders.items()})
            return dg.MaterializeResult(metadata=table_metadata(conn, model.qualified))

    return _model


def release_gate(instance: dg.DagsterInstance, check_keys: Sequence[dg.AssetCheckKey]) -> list[str]:
    """Why the release may not go ahead: one line per blocking check whose latest result is
    missing, failed, errored, or older than its asset's latest materialisation."""
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus as Status,
    )

    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    problems = []
    for key in check_keys:
        name = f"{key.asset_key.to_user_string()}:{key.name}"
        record = latest.get(key)
        if record is None:
            problems.append(f"{name} has never run")
            continue
        evaluation = record.evaluation
        if record.status != Status.SUCCEEDED or evaluation is None or not evaluation.passed:
            detail = evaluation.description if evaluation is not None else record.status.value
            problems.append(f"{name} did not pass in run {record.run_id[:8]}: {detail}")
            continue
        materialisations = instance.fetch_materializations(key.asset_key, limit=1).records
        target = evaluation.target_materialization_data
        if materialisations and (target is None
                                 or target.storage_id != materialisations[0].storage_id):
            problems.append(f"{name} last ran before {key.asset_key.to_user_string()} was "
                            "last materialised: the current table is unchecked")
    return problems


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
    )
    def warehouse_release(context: dg.AssetExecutionContext, paccto: PacctoConfig,
                          duckdb: DuckDBResource) -> dg.MaterializeResult:
        problems = release_gate(context.instance, check_keys)
        if problems:
            raise dg.Failure(
                description="warehouse not released; the previous release stays as it was:\n- "
                + "\n- ".join(problems),
                metadata={"blocking_checks": dg.MetadataValue.json(problems)},
            )
        target = paccto.settings.warehouse
        with duckdb.get_connection() as conn:
            counts = release(conn, target)
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
        assets.append(model_asset(model))
        if suite_path(model.qualified).exists():
            checks.append(suite_check(model.key, model.qualified))
    return assets, checks
