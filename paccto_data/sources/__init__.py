"""One module per upstream source: pure functions from raw files to tidy DataFrames.

A module declares `SOURCE_ID` (its id in `assets/sources/`) and `TABLES`, a mapping from
staging table name to a function `(files: dict[file_id, Path]) -> Tidy`, and optionally
`FEEDS`, a mapping from staging table name to the core fact it flows into
(`"fact_indicator"`). The Dagster wiring discovers the modules, so a new source costs one
YAML, one module here and one suite.

A staging table that feeds `core.fact_indicator` has the columns `iso3, year, indicator_id,
value, unit` and may add `flag` (the publisher's observation flag or note) and the
disaggregations `DISAGGREGATIONS` (absent means the total, written `'total'`); and it names
where each value was read, `PROVENANCE`: `source_file` and `source_locator`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# The breakdowns a fact_indicator row may carry; with iso3, year, indicator_id and source_id
# they are its key.
DISAGGREGATIONS = ("sex", "age", "category", "dimension")
# Where a row was read (_common.with_provenance): the file, and the line or cell in it.
PROVENANCE = ("source_file", "source_locator")


@dataclass
class Tidy:
    """A staging table and the account of how it was made from the raw rows."""

    table: pd.DataFrame
    rows_read: int
    dropped: Counter = field(default_factory=Counter)  # reason -> rows dropped on purpose

    def __post_init__(self) -> None:
        kept, dropped = len(self.table), sum(self.dropped.values())
        if self.rows_read != kept + dropped:
            raise AssertionError(
                f"row account does not add up: read {self.rows_read}, kept {kept}, "
                f"dropped {dropped} ({dict(self.dropped)})"
            )


TidyFunction = Callable[[Mapping[str, Path]], Tidy]


@dataclass(frozen=True)
class StagingTable:
    name: str
    source_id: str
    tidy: TidyFunction
    feeds: str | None = None  # the core fact table it flows into, if any

    @property
    def description(self) -> str:
        return (self.tidy.__doc__ or self.name).strip()


def staging_tables() -> dict[str, StagingTable]:
    """Every staging table of every source module, by table name."""
    tables: dict[str, StagingTable] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        feeds = getattr(module, "FEEDS", {})
        for name, function in module.TABLES.items():
            if name in tables:
                raise ValueError(f"staging table {name!r} is declared twice")
            tables[name] = StagingTable(name, module.SOURCE_ID, function, feeds.get(name))
    return tables
