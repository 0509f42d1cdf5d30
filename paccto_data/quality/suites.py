"""The bridge from Great Expectations suites (JSON in `expectations/`) to Dagster asset checks.

A suite file is `expectations/<schema>.<table>.json` in GX 1.x's serialised form
(`{"name": ..., "expectations": [{"type": ..., "kwargs": {...}, "meta": {...}}]}`).
A kwarg may name a warehouse column instead of a literal, for foreign keys:
`{"$PARAMETER": "core__dim_country__iso3"}` is filled with the distinct values of
`core.dim_country.iso3` read from the build database before validation.

Validation runs on pandas (GX's SQL path through duckdb-engine failed on DuckDB 2.0.1 here).
A suite that is empty, loads fewer expectations than its file holds, or has an expectation
that raised, fails as "check could not run" — a check that cannot fail proves nothing.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from paccto_data.settings import EXPECTATIONS_DIR

if TYPE_CHECKING:  # pandas is imported where a frame is made (0.5 s of the UI's load)
    import pandas as pd

SAMPLE_ROWS = 20
PARAMETER_KEY = "$PARAMETER"
POSITION_KEY = "paccto_position"  # an expectation's place in its suite file (results meta)
LISTED_VALUES = 10  # a longer value_set is shown in results as "N values"
# What GX reports besides observed_value and unexpected rows: a distinct-set expectation's
# missing values, a column-list expectation's mismatches.
DETAIL_KEYS = ("missing_count", "partial_missing_list", "details")


class SuiteError(Exception):
    """The suite itself is broken: the check could not run."""


@dataclass
class ExpectationOutcome:
    type: str
    kwargs: dict
    success: bool
    observed_value: object = None
    unexpected_count: int | None = None
    sample: list = field(default_factory=list)  # failing rows (key columns and value)
    error: str | None = None  # the expectation raised: it could not run
    details: dict = field(default_factory=dict)  # e.g. values missing from a distinct set

    def describe(self) -> str:
        column = self.kwargs.get("column") or self.kwargs.get("column_list") or ""
        return f"{self.type}({column})" if column else self.type

    def rule(self) -> str:
        """The kwargs `describe` leaves out (bounds, value set, row condition), compactly."""
        return ", ".join(f"{k}={v}" for k, v in self.kwargs.items()
                         if k not in ("column", "column_list", "condition_parser",
                                      "result_format") and v is not None)


@dataclass
class SuiteOutcome:
    suite: str
    outcomes: list[ExpectationOutcome]
    could_not_run: str | None = None

    @property
    def passed(self) -> bool:
        return self.could_not_run is None and all(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def suite_path(qualified_table: str) -> Path:
    return EXPECTATIONS_DIR / f"{qualified_table}.json"


def load_suite_file(path: Path) -> dict:
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SuiteError(f"{path}: cannot read the suite: {exc}") from exc
    expectations = suite.get("expectations") if isinstance(suite, dict) else None
    if not expectations:
        raise SuiteError(f"{path}: the suite has no expectations")
    return suite


def parameter_names(suite: dict) -> set[str]:
    names = set()
    for expectation in suite["expectations"]:
        for value in expectation.get("kwargs", {}).values():
            if isinstance(value, dict) and PARAMETER_KEY in value:
                names.add(value[PARAMETER_KEY])
    return names


def warehouse_parameters(conn, names: set[str]) -> dict[str, list]:
    """`schema__table__column` -> the column's distinct non-null values."""
    from paccto_data.warehouse.tables import quote

    values = {}
    for name in names:
        parts = name.split("__")
        if len(parts) != 3:
            raise SuiteError(f"parameter {name!r} is not of the form schema__table__column")
        schema, table, column = parts
        rows = conn.execute(
            f"SELECT DISTINCT {quote(column)} FROM {quote(schema)}.{quote(table)} "
            f"WHERE {quote(column)} IS NOT NULL"
        ).fetchall()
        values[name] = sorted(r[0] for r in rows)
    return values


# Great Expectations imports scipy.stats at module level for its distribution expectations
# (KL divergence, Kolmogorov-Smirnov), which no suite here uses: 0.8 s of the 2.7 s its import
# costs every validation worker and every build that validates in its own process. The module
# is bound lazily (importlib.util.LazyLoader) and loads in full on its first use, so a suite
# that adds such an expectation still runs (tests/test_quality.py).
DEFERRED_IMPORTS = ("scipy.stats",)


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)


@cache
def import_gx():
    """The `great_expectations` module, imported once with DEFERRED_IMPORTS deferred."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    for name in DEFERRED_IMPORTS:
        _defer(name)
    import great_expectations

    return great_expectations


@cache
def _gx_context():
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _batch_definition():
    """One pandas datasource, asset and batch definition for every validation in the process:
    the frame is passed per batch. Adding and deleting a datasource per call re-serialises the
    context's config to YAML each time, about half of a small validation's cost (bench/)."""
    source = _gx_context().data_sources.add_pandas("paccto")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("all")


def prepare() -> None:
    """Import GX and build the context and datasource now (bench/ times this separately)."""
    _batch_definition()


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _exception_message(exception_info) -> str | None:
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        infos = [exception_info]
    else:  # keyed by metric id
        infos = [v for v in exception_info.values() if isinstance(v, dict)]
    for info in infos:
        if info.get("raised_exception"):
            return info.get("exception_message") or "the expectation raised an exception"
    return None


# Every expectation runs once in BASIC (verdict, observed value, failing-row count, a sample of
# failing values); only those that failed run again in SUMMARY, for the positions of their
# first failing rows. COMPLETE with `unexpected_index_column_names` made GX build a dict per
# failing row in Python, for every failing row of the table (bench/validation.py).
BASIC = {"result_format": "BASIC", "partial_unexpected_count": SAMPLE_ROWS}
SUMMARY = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}


def _domain(kwargs: dict) -> list[str]:
    """The columns an expectation reads (what GX puts first in a failing row's sample)."""
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs and "column_B" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _sample(frame: pd.DataFrame, details: dict, domain: list[str], keys: list[str]) -> list:
    """A failing expectation's first failing rows: {domain columns, key columns} per row (as GX
    writes them for `unexpected_index_column_names`), else row positions, else values."""
    positions = details.get("partial_unexpected_index_list")
    if positions and keys and domain:
        rows = []
        for position in positions[:SAMPLE_ROWS]:
            row = {}
            for column in domain:
                row[column] = frame.at[position, column]
                for key in keys:
                    row[key] = frame.at[position, key]
            rows.append(row)
        return rows
    return positions or details.get("partial_unexpected_list") or []


def _position(result, fallback: int) -> int:
    return (result.expectation_config.meta or {}).get(POSITION_KEY, fallback)


def validate(frame: pd.DataFrame, suite: dict, parameters: dict | None = None,
             key_columns: list[str] | None = None, name: str | None = None) -> SuiteOutcome:
    """Run `suite` (its JSON form) on `frame`: one GX batch for the table, the whole suite in
    one validation, and a second one only for the expectations that failed."""
    gx = import_gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    suite_name = name or suite.get("name", "suite")
    expected_count = len(suite["expectations"])
    try:
        configurations = [
            ExpectationConfiguration(
                type=e["type"], kwargs=e.get("kwargs", {}),
                meta={**(e.get("meta") or {}), POSITION_KEY: position},
            )
            for position, e in enumerate(suite["expectations"])
        ]
        expectations = [c.to_domain_obj() for c in configurations]
    except Exception as exc:  # an unknown type or bad kwargs in the file
        return SuiteOutcome(suite_name, [], could_not_run=f"cannot load the suite: {exc}")
    gx_suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    if len(gx_suite.expectations) != expected_count:
        return SuiteOutcome(suite_name, [], could_not_run=(
            f"the suite loaded {len(gx_suite.expectations)} of the {expected_count} "
            "expectations its file holds"))
    import pandas as pd

    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
        frame = frame.reset_index(drop=True)  # failing rows are found by position
    key_columns = [c for c in (key_columns or []) if c in frame.columns]
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gx_suite, result_format=BASIC,
                            expectation_parameters=parameters or {})
    if len(result.results) != expected_count:
        return SuiteOutcome(suite_name, [], could_not_run=(
            f"GX returned {len(result.results)} results for {expected_count} expectations"))
    results = {_position(r, n): r for n, r in enumerate(result.results)}
    # failed, or passed with failing rows (`mostly`): the rows are shown either way
    failed = sorted(p for p, r in results.items()
                    if not r.success or (r.result or {}).get("unexpected_count"))
    if failed:
        again = batch.validate(
            gx.ExpectationSuite(name=suite_name,
                                expectations=[configurations[p].to_domain_obj() for p in failed]),
            result_format=SUMMARY, expectation_parameters=parameters or {})
        results.update({_position(r, -1): r for r in again.results})
    outcomes = {}
    for position, r in results.items():
        config = r.expectation_config
        # GX does not return results in the suite's order: report them in the file's order,
        # with the kwargs as the file states them ($PARAMETER names, the row condition).
        kwargs = suite["expectations"][position].get("kwargs", {})
        details = r.result or {}
        error = _exception_message(r.exception_info)
        sample = _sample(frame, details, _domain(config.kwargs), key_columns) \
            if position in failed else []
        extra = {k: details[k] for k in DETAIL_KEYS
                 if details.get(k) not in (None, [], {}, 0)}
        if "partial_missing_list" not in extra:  # a map expectation's missing_count: nulls
            extra.pop("missing_count", None)
        outcomes[position] = ExpectationOutcome(
            type=config.type,
            kwargs=_jsonable({k: (f"{len(v)} values" if k == "value_set" and isinstance(v, list)
                                  and len(v) > LISTED_VALUES else v)
                              for k, v in kwargs.items()}),
            success=bool(r.success) and error is None,
            observed_value=_jsonable(details.get("observed_value")),
            unexpected_count=details.get("unexpected_count"),
            sample=_jsonable(sample[:SAMPLE_ROWS]),
            error=error,
            details=_jsonable(extra),
        )
    outcomes = [outcomes[p] for p in sorted(outcomes)]
    errors = [o for o in outcomes if o.error]
    could_not_run = None
    if errors:
        could_not_run = "; ".join(f"{o.describe()} raised: {o.error}" for o in errors)
    return SuiteOutcome(suite_name, outcomes, could_not_run=could_not_run)


def outcome_metadata(outcome: SuiteOutcome) -> dict:
    """Check metadata an engineer can act on without a notebook."""
    import dagster as dg

    rows = []
    for o in outcome.outcomes:
        rows.append({
            "expectation": o.describe(),
            "kwargs": o.kwargs,
            "success": o.success,
            "observed_value": o.observed_value,
            "failing_rows": o.unexpected_count,
            "sample": o.sample[:5],
            **({"details": o.details} if o.details else {}),
        })
    metadata = {
        "suite": dg.MetadataValue.path(str(suite_path(outcome.suite))),
        "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
        "failed": dg.MetadataValue.int(len(outcome.failures)),
        "results": dg.MetadataValue.json(rows),
    }
    if outcome.could_not_run:
        metadata["could_not_run"] = dg.MetadataValue.text(outcome.could_not_run)
    failures = outcome.failures
    if failures:
        lines = ["| expectation | rule | observed | failing rows | sample |",
                 "|---|---|---|---|---|"]
        for o in failures:
            observed = o.observed_value if o.observed_value is not None else \
                (json.dumps(o.details, ensure_ascii=False)[:300] if o.details else None)
            lines.append(f"| {o.describe()} | {o.rule()} | {observed} | "
                         f"{o.unexpected_count} | "
                         f"{json.dumps(o.sample[:5], ensure_ascii=False)[:300]} |")
        metadata["failures"] = dg.MetadataValue.md("\n".join(lines))
    return metadata


def summary(outcome: SuiteOutcome) -> str:
    if outcome.could_not_run:
        return f"check could not run: {outcome.could_not_run}"
    if outcome.passed:
        return f"{len(outcome.outcomes)} expectations passed"
    return "failed: " + "; ".join(_failure(o) for o in outcome.failures)


def _failure(o: ExpectationOutcome) -> str:
    text = o.describe()
    if o.observed_value is not None:
        text += f" observed {o.observed_value!r}"
    if o.unexpected_count:
        text += f", {o.unexpected_count} failing rows, e.g. {o.sample[:3]}"
    if o.details.get("partial_missing_list"):
        text += f", missing {o.details['partial_missing_list'][:10]}"
    if o.details.get("details"):
        text += f", {json.dumps(o.details['details'], ensure_ascii=False)[:200]}"
    if o.rule():
        text += f" (rule: {o.rule()})"
    return text
