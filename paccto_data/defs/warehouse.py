"""Layer `warehouse`: the curated `core` tables from SQL models, and the release."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource

from paccto_data.activities import activity_count_columns
from paccto_data.defs import OWNERS
from paccto_data.defs.checks import suite_check
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.staging import staging_key
from paccto_data.quality.status import release_problems
from paccto_data.quality.suites import suite_path
from paccto_data.settings import SQL_DIR
from paccto_data.sources import StagingTable
from paccto_data.warehouse import reference
from paccto_data.warehouse.tables import (
    quote,
    release,
    run_sql_model,
    table_columns,
    table_metadata,
)

HEADER = re.compile(r"^--\s*(description|depends|frames|placeholders):\s*(.*)$")


@dataclass(frozen=True)
class Model:
    """A warehouse table built by `paccto_data/warehouse/sql/<schema>/<name>.sql`.

    The file's leading comment declares what the wiring needs:
        -- description: what the table holds (shown in the UI; may continue on
        -- description: further lines)
        -- depends: staging.un_m49, core.dim_country     (tables it reads)
        -- frames: country_groups                        (reference frames, reference.FRAMES)
        -- placeholders: fact_indicator_union            (generated SQL, PLACEHOLDERS below)
    """

    schema: str
    name: str
    description: str
    deps: Sequence[dg.AssetKey]
    frames: dict[str, Callable[[], pd.DataFrame]] = field(default_factory=dict)
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


@dataclass(frozen=True)
class Placeholder:
    """SQL generated when a model runs, and the tables it reads."""

    deps: Callable[[dict[str, StagingTable]], list[dg.AssetKey]]
    sql: Callable[[duckdb.DuckDBPyConnection, dict[str, StagingTable]], str]


def _feeding(tables: dict[str, StagingTable], fact: str) -> list[StagingTable]:
    return [t for t in tables.values() if t.feeds == fact]


def _activity_count_columns(conn, tables) -> str:
    return activity_count_columns()


PLACEHOLDERS = {
    "activity_count_columns": Placeholder(deps=lambda tables: [], sql=_activity_count_columns),
    "fact_indicator_union": Placeholder(
        deps=lambda tables: [staging_key(t.name) for t in _feeding(tables, "fact_indicator")],
        sql=lambda conn, tables: fact_indicator_union(
            [(t, table_columns(conn, "staging", t.name))
             for t in _feeding(tables, "fact_indicator")]),
    ),
}


def table_key(qualified: str) -> dg.AssetKey:
    return dg.AssetKey(qualified.split("."))


def read_model(path: Path, tables: dict[str, StagingTable]) -> Model:
    header: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = HEADER.match(line)
        if match:
            header.setdefault(match.group(1), []).append(match.group(2).strip())
        elif line.strip() and not line.startswith("--"):
            break

    def items(name: str) -> list[str]:
        return [i.strip() for part in header.get(name, []) for i in part.split(",") if i.strip()]

    if not header.get("description"):
        raise ValueError(f"{path}: no '-- description:' line in the leading comment")
    unknown = [f for f in items("frames") if f not in reference.FRAMES] + \
        [p for p in items("placeholders") if p not in PLACEHOLDERS]
    if unknown:
        raise ValueError(f"{path}: unknown frames or placeholders {unknown}")
    deps = [table_key(t) for t in items("depends")]
    for name in items("placeholders"):
        deps += PLACEHOLDERS[name].deps(tables)
    return Model(
        schema=path.parent.name,
        name=path.stem,
        description=" ".join(header["description"]),
        deps=deps,
        frames={f: reference.FRAMES[f] for f in items("frames")},
        placeholders={p: (lambda conn, p=p: PLACEHOLDERS[p].sql(conn, tables))
                      for p in items("placeholders")},
    )


def models(tables: dict[str, StagingTable]) -> list[Model]:
    """Every SQL model under paccto_data/warehouse/sql/<schema>/."""
    return [read_model(path, tables) for path in sorted(SQL_DIR.glob("*/*.sql"))]


def model_asset(model: Model) -> dg.AssetsDefinition:
    @dg.asset(
        key=model.key,
        deps=model.deps,
        group_name="warehouse",
        owners=OWNERS,
        kinds={"duckdb", "sql"},
        description=model.description,
        metadata={"dagster/table_name": model.qualified,
                  "sql": f"paccto_data/warehouse/sql/{model.schema}/{model.name}.sql"},
    )
    def _model(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            for name, make in model.frames.items():
                conn.register(name, make())
            run_sql_model(conn, f"{model.schema}/{model.name}.sql",
                          {name: make(conn) for name, make in model.placeholders.items()})
            return dg.MaterializeResult(metadata=table_metadata(conn, model.qualified))

    return _model


def refuse_unless_checks_passed(context: dg.AssetExecutionContext,
                                check_keys: Sequence[dg.AssetCheckKey], what: str) -> None:
    """Raise a Failure naming every blocking check that stops the release of `what`."""
    problems = release_problems(context.instance, check_keys)
    if problems:
        raise dg.Failure(
            description=f"{what} not released; the previous release stays as it was:\n- "
            + "\n- ".join(problems),
            metadata={"blocking_checks": dg.MetadataValue.json(problems)},
        )


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
        refuse_unless_checks_passed(context, check_keys, "warehouse")
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
