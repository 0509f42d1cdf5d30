"""The warehouse's SQL models: `paccto_data/warehouse/sql/<schema>/<name>.sql`.

A model file creates or replaces its own table, `<schema>.<name>`. Everything the wiring needs
is read from the file itself:
- `-- description:` lines in its leading comment: what the table holds (shown in the UI);
- the tables it reads: every `staging.x`, `core.x` and `marts.x` its SQL names (comments
  aside), so a new join is a new dependency without a header to keep in sync;
- the reference frames it reads (`reference.FRAMES`, registered as tables when it runs),
  named in its SQL like any table;
- `{placeholders}`: SQL generated when the model runs (`PLACEHOLDERS`), e.g. one SELECT per
  staging table that feeds `core.fact_indicator`; a placeholder may add tables it reads;
- `-- depends:` lines, only for tables the model must follow without reading them: a fact
  whose suite checks its codes against the dimensions is built after them, and not at all
  when one of them failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from paccto_data.activities import activity_count_columns
from paccto_data.settings import SQL_DIR
from paccto_data.sources import DISAGGREGATIONS, StagingTable
from paccto_data.warehouse.reference import FRAMES
from paccto_data.warehouse.tables import literal, quote, run_sql_model, table_columns

DESCRIPTION = re.compile(r"^--\s*description:\s*(.*)$")
DEPENDS = re.compile(r"^--\s*depends:\s*(.*)$")
TABLE_NAME = re.compile(r"\b(staging|core|marts)\.([a-z_][a-z0-9_]*)\b")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
COMMENT = re.compile(r"--[^\n]*")


def fact_indicator_union(tables: Sequence[tuple[StagingTable, list[str]]]) -> str:
    """One SELECT per staging table that feeds core.fact_indicator, in the fact's columns."""
    if not tables:
        raise ValueError("no staging table feeds core.fact_indicator")

    def select(table: StagingTable, columns: set[str]) -> str:
        optional = ["flag" if "flag" in columns else "CAST(NULL AS VARCHAR) AS flag"]
        optional += [d if d in columns else f"'total' AS {d}" for d in DISAGGREGATIONS]
        return (f"SELECT iso3, year, indicator_id, '{table.source_id}' AS source_id, value, "
                f"unit, {', '.join(optional)}, source_file, source_locator "
                f"FROM staging.{quote(table.name)}")

    return "\n    UNION ALL BY NAME\n    ".join(
        select(t, set(columns)) for t, columns in tables)


def _headline_ids() -> list[str]:
    return list(FRAMES["headline_indicators"]()["indicator_id"])


def _pivot(columns: dict[str, str]) -> str:
    """One SELECT item per headline indicator and field: `max(<field>) FILTER (WHERE
    indicator_id = '<id>') AS <id><suffix>`, in the order of the headline list."""
    return ",\n        ".join(
        f"max({quote(field)}) FILTER (WHERE indicator_id = {literal(indicator)}) "
        f"AS {quote(indicator + suffix)}"
        for indicator in _headline_ids() for field, suffix in columns.items())


def headline_value_columns() -> str:
    """marts.country_year: each headline indicator's value, its source and the place in the
    source file it was read from, side by side."""
    return _pivot({"value": "", "source_id": "_source_id", "source_file": "_source_file",
                   "source_locator": "_source_locator"})


def headline_latest_columns() -> str:
    """marts.programme_coverage: each headline indicator's latest value, year and source, and
    the place in the source file it was read from."""
    return _pivot({"value": "", "year": "_year", "source_id": "_source_id",
                   "source_file": "_source_file", "source_locator": "_source_locator"})


def _feeding(tables: dict[str, StagingTable], fact: str) -> list[StagingTable]:
    return [t for t in tables.values() if t.feeds == fact]


@dataclass(frozen=True)
class Placeholder:
    """SQL generated when a model runs, and the tables it reads."""

    depends: Callable[[dict[str, StagingTable]], list[str]]
    sql: Callable[[duckdb.DuckDBPyConnection, dict[str, StagingTable]], str]


def _reads_nothing(tables: dict[str, StagingTable]) -> list[str]:
    return []


PLACEHOLDERS = {
    "activity_count_columns": Placeholder(_reads_nothing,
                                          lambda conn, tables: activity_count_columns()),
    "headline_value_columns": Placeholder(_reads_nothing,
                                          lambda conn, tables: headline_value_columns()),
    "headline_latest_columns": Placeholder(_reads_nothing,
                                           lambda conn, tables: headline_latest_columns()),
    "fact_indicator_union": Placeholder(
        depends=lambda tables: [f"staging.{t.name}" for t in _feeding(tables, "fact_indicator")],
        sql=lambda conn, tables: fact_indicator_union(
            [(t, table_columns(conn, "staging", t.name))
             for t in _feeding(tables, "fact_indicator")]),
    ),
}


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    description: str
    depends: tuple[str, ...]  # schema.table it reads, in the order first named
    frames: tuple[str, ...]  # reference frames it reads
    placeholders: tuple[str, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def relative_path(self) -> str:
        return f"{self.schema}/{self.name}.sql"

    def run(self, conn: duckdb.DuckDBPyConnection, tables: dict[str, StagingTable]) -> None:
        """Register its frames, generate its placeholders and run it on `conn`."""
        for frame in self.frames:
            conn.register(frame, FRAMES[frame]())
        run_sql_model(conn, self.relative_path,
                      {p: PLACEHOLDERS[p].sql(conn, tables) for p in self.placeholders})


def read_model(path: Path, tables: dict[str, StagingTable]) -> Model:
    text = path.read_text(encoding="utf-8")
    description, declared = [], []
    for line in text.splitlines():
        if match := DESCRIPTION.match(line):
            description.append(match.group(1).strip())
        elif match := DEPENDS.match(line):
            declared += [t.strip() for t in match.group(1).split(",") if t.strip()]
        elif line.strip() and not line.startswith("--"):
            break
    if not description:
        raise ValueError(f"{path}: no '-- description:' line in the leading comment")
    sql = COMMENT.sub("", text)
    own = f"{path.parent.name}.{path.stem}"
    placeholders = tuple(dict.fromkeys(PLACEHOLDER.findall(sql)))
    unknown = [p for p in placeholders if p not in PLACEHOLDERS]
    if unknown:
        raise ValueError(f"{path}: unknown placeholders {unknown} (known: "
                         f"{', '.join(sorted(PLACEHOLDERS))})")
    depends = [f"{s}.{t}" for s, t in TABLE_NAME.findall(sql)] + declared
    for name in placeholders:
        depends += PLACEHOLDERS[name].depends(tables)
    frames = tuple(f for f in FRAMES if re.search(rf"\b{f}\b", sql))
    return Model(
        schema=path.parent.name,
        name=path.stem,
        description=" ".join(description),
        depends=tuple(d for d in dict.fromkeys(depends) if d != own),
        frames=frames,
        placeholders=placeholders,
    )


def models(tables: dict[str, StagingTable]) -> list[Model]:
    """Every SQL model under paccto_data/warehouse/sql/<schema>/."""
    return [read_model(path, tables) for path in sorted(SQL_DIR.glob("*/*.sql"))]
