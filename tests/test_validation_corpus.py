"""The validation test corpus: every expectation in every suite can fail.

For each expectation of each suite in expectations/, a broken fixture is built from real rows
of the built table by a mutator chosen by the expectation's type (not_null -> a null,
unique -> a duplicate, in_set -> an out-of-set value, between -> a value beyond the bound on a
row the row_condition selects, regex -> a non-matching value, row counts -> rows dropped or
repeated, column sums -> flags flipped, ...), so a new suite is covered without a line here.
An expectation type without a mutator fails the first test; an expectation whose
row_condition selects no real row fails too (it could never fail).

Row-level expectations: each mutation gets real rows of its own, and all of a suite's
mutations go into one small fixture (a few real rows per expectation, unbroken, plus the
mutated ones) validated once. Each expectation must fail on exactly its mutated rows, and a
mutated row may fail no other expectation unless that one reads the changed column (two
value sets on iso3, say; a repeated row may fail any uniqueness expectation): "only that
one", checked for all of them at the cost of one validation per suite. Table-level
expectations (row counts, sums, distinct sets, columns) are validated one by one on the whole
table, changed as little as makes them fail, because the whole table is what they measure.

The last tests are end to end: the warn checks warn on the real data and neither release
waits for them; the quality report covers every table offline; and a broken table's blocking
check stops its downstream assets and the quality report, a later run of only the two
releases is refused by the gate (the released warehouse and published files stay byte for
byte), and a rebuild then writes the same quality report, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from paccto_data.defs.publication import build_area
from paccto_data.quality import suites
from paccto_data.settings import EXPECTATIONS_DIR
from paccto_data.warehouse.tables import read_table, write_table
from tests.support import build, failed_steps

SUITES = sorted(EXPECTATIONS_DIR.glob("*.json"))
ROWS_PER_EXPECTATION = 3  # real rows each row-level expectation contributes to the fixture
ROW = "_corpus_row"  # the row label, as a column, so failing rows can be named


def suite_of(path):
    return suites.load_suite_file(path)


# --- mutators --------------------------------------------------------------------------------


class NoRealRow(AssertionError):
    """No real row can carry the mutation (e.g. a row_condition that selects nothing)."""


class NoFreeRow(NoRealRow):
    """Every row that could carry the mutation already carries another one."""


@dataclass
class Plan:
    """A row-level mutation: `apply` changes a frame holding the real rows; `rows` must then
    fail, and only expectations on `columns` may fail with them (an empty set: a whole row
    was repeated, which any uniqueness expectation may see)."""

    rows: set
    columns: set
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    note: str


@dataclass
class Mutation:
    """A table-level mutation: the whole table, changed."""

    frame: pd.DataFrame
    note: str


def selected(frame: pd.DataFrame, kwargs: dict) -> pd.DataFrame:
    """The rows the expectation looks at: its row_condition, as GX's pandas engine applies it."""
    condition = kwargs.get("row_condition")
    return frame.query(condition) if condition else frame


def candidates(frame: pd.DataFrame, kwargs: dict, columns: list[str], free) -> list:
    rows = selected(frame, kwargs)
    rows = rows.dropna(subset=[c for c in columns if c in rows.columns])
    if rows.empty:
        raise NoRealRow(f"no real row with {columns} set matches "
                        f"row_condition {kwargs.get('row_condition')!r}")
    labels = [label for label in rows.index if free(label)]
    if not labels:
        raise NoFreeRow(f"all {len(rows)} candidate rows carry other mutations")
    return labels


def set_cell(frame: pd.DataFrame, label, column: str, value) -> pd.DataFrame:
    """frame.loc[label, column] = value, widening the column's dtype when it must."""
    try:
        frame.loc[label, column] = value
        if value is None or pd.isna(value) or frame.at[label, column] == value:
            return frame
    except (TypeError, ValueError):
        pass
    frame[column] = frame[column].astype(object)
    frame.loc[label, column] = value
    return frame


def plan_cell(frame, kwargs, columns, free, column: str, value_of, note: str) -> Plan:
    """Set `column` of the first free real row the expectation selects (and still selects
    once changed) to `value_of(row)`."""
    for label in candidates(frame, kwargs, columns, free):
        value = value_of(frame.loc[label])
        trial = set_cell(frame.loc[[label]].copy(), label, column, value)
        if label in selected(trial, kwargs).index:
            return Plan({label}, {column},
                        lambda f, label=label, value=value: set_cell(f, label, column, value),
                        f"{column} of row {label} set to {value!r}{note}")
    raise NoRealRow(f"no row stays selected by {kwargs.get('row_condition')!r} once "
                    f"{column} changes")


def value_set(kwargs: dict, parameters: dict) -> list:
    values = kwargs["value_set"]
    if isinstance(values, dict) and suites.PARAMETER_KEY in values:
        return list(parameters[values[suites.PARAMETER_KEY]])
    return list(values)


def outside(values: list, column: pd.Series):
    """A value of the column's kind that is not in `values`."""
    present = [v for v in values if v is not None]
    if pd.api.types.is_bool_dtype(column) or (present and all(isinstance(v, bool)
                                                              for v in present)):
        options = [v for v in (True, False) if v not in present]
        if not options:
            raise NoRealRow(f"value_set {values} holds every boolean")
        return options[0]
    numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if pd.api.types.is_numeric_dtype(column) or (present and len(numbers) == len(present)):
        top = max([*numbers, *column.dropna().tolist()], default=0)
        return int(top) + 1 if float(top).is_integer() else float(top) + 1
    text = "corpus: not in the set"
    assert text not in present
    return text


def m_not_null(frame, kwargs, parameters, free):
    column = kwargs["column"]
    return plan_cell(frame, kwargs, [column], free, column, lambda row: None, "")


def m_null(frame, kwargs, parameters, free):
    column = kwargs["column"]
    filled = frame[column].dropna()
    value = filled.iloc[0] if len(filled) else "corpus: a value"
    return plan_cell(frame, kwargs, [], free, column, lambda row: value, "")


def m_in_set(frame, kwargs, parameters, free):
    column = kwargs["column"]
    value = outside(value_set(kwargs, parameters), frame[column])
    return plan_cell(frame, kwargs, [column], free, column, lambda row: value,
                     ", outside the set")


def m_between(frame, kwargs, parameters, free):
    column = kwargs["column"]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if high is not None:
        value = high if kwargs.get("strict_max") else high + 1
    elif low is not None:
        value = low if kwargs.get("strict_min") else low - 1
    else:
        raise NoRealRow("a between expectation without bounds cannot fail")
    return plan_cell(frame, kwargs, [column], free, column, lambda row: value,
                     f", beyond [{low}, {high}]")


NON_MATCHING = ["", "#", "0", "ZZZZ", "corpus value", " "]


def m_regex(frame, kwargs, parameters, free):
    column, pattern = kwargs["column"], kwargs["regex"]
    value = next((v for v in NON_MATCHING if re.search(pattern, v) is None), None)
    if value is None:
        raise NoRealRow(f"every corpus string matches {pattern!r}")
    return plan_cell(frame, kwargs, [column], free, column, lambda row: value,
                     f", which {pattern!r} does not match")


def m_value_lengths(frame, kwargs, parameters, free):
    column = kwargs["column"]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    value = "" if low else "x" * (int(high) + 1)
    return plan_cell(frame, kwargs, [column], free, column, lambda row: value, "")


def m_unique(frame, kwargs, parameters, free):
    column = kwargs["column"]
    labels = candidates(frame, kwargs, [column], free)
    if len(labels) < 2:
        raise NoFreeRow(f"fewer than two free real rows with {column} set")
    first, second = labels[0], labels[1]
    value = frame.at[second, column]
    return Plan({first, second}, {column}, lambda f: set_cell(f, first, column, value),
                f"row {first} given {column} {value!r} of row {second}")


def m_compound_unique(frame, kwargs, parameters, free):
    columns = kwargs["column_list"]
    label = candidates(frame, kwargs, columns, free)[0]
    new = f"copy of {label}"
    return Plan({label, new}, set(),
                lambda f: pd.concat([f, f.loc[[label]].set_axis([new])]),
                f"row {label} repeated")


def _earlier(value):
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value - dt.timedelta(days=1)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value - 1
    if isinstance(value, str):
        return ""  # sorts before any other string
    raise NoRealRow(f"no earlier value for {value!r} ({type(value).__name__})")


def m_a_greater_than_b(frame, kwargs, parameters, free):
    a, b = kwargs["column_A"], kwargs["column_B"]
    return plan_cell(frame, kwargs, [a, b], free, a, lambda row: _earlier(row[b]),
                     f", below {b}")


# Table-level: the whole table, changed as little as makes the aggregate fail.

def m_row_count_between(frame, kwargs, parameters):
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low:
        return Mutation(frame.iloc[:int(low) - 1], f"{int(low) - 1} of {len(frame)} rows kept")
    positions = np.resize(np.arange(len(frame)), int(high) + 1)
    return Mutation(frame.iloc[positions].reset_index(drop=True),
                    f"rows repeated to {int(high) + 1}")


def m_row_count_equal(frame, kwargs, parameters):
    return Mutation(frame.iloc[:-1], f"one of {len(frame)} rows dropped")


def m_column_sum(frame, kwargs, parameters):
    column = kwargs["column"]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    broken = frame.copy()
    series = broken[column]
    total = series.sum()
    if pd.api.types.is_bool_dtype(series):
        if high is not None and (~series.fillna(True).astype(bool)).sum() > high - total:
            flips = int(high - total) + 1
            labels = series[series == False].index[:flips]  # noqa: E712
            broken.loc[labels, column] = True
            return Mutation(broken, f"{flips} {column} flags flipped to true")
        flips = int(total - low) + 1
        labels = series[series == True].index[:flips]  # noqa: E712
        broken.loc[labels, column] = False
        return Mutation(broken, f"{flips} {column} flags flipped to false")
    label = series.dropna().index[0]
    delta = (high - total + 1) if high is not None else (low - total - 1)
    set_cell(broken, label, column, series[label] + delta)
    return Mutation(broken, f"{column} of row {label} moved by {delta}")


def m_unique_value_count(frame, kwargs, parameters):
    column = kwargs["column"]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    distinct = sorted(frame[column].dropna().unique().tolist(), key=str)
    if low and low >= 2:
        keep = distinct[:int(low) - 1]
        return Mutation(frame[frame[column].isin(keep)],
                        f"only rows with {len(keep)} distinct {column} kept")
    extra = int(high) - len(distinct) + 1
    broken = frame.copy()
    for k, label in enumerate(frame.index[:extra]):
        set_cell(broken, label, column, f"corpus-{k}")
    return Mutation(broken, f"{extra} new distinct {column} values")


def m_distinct_values(frame, kwargs, parameters):
    column = kwargs["column"]
    required = value_set(kwargs, parameters)
    present = [v for v in sorted(set(frame[column].dropna().tolist()), key=str) if v in required]
    if not present:
        raise NoRealRow(f"no value of the set occurs in {column}")
    value = present[0]
    return Mutation(frame[frame[column] != value],
                    f"every row with {column} = {value!r} dropped")


def m_columns_ordered(frame, kwargs, parameters):
    columns = list(frame.columns)
    columns[0], columns[1] = columns[1], columns[0]
    return Mutation(frame[columns], f"columns {columns[1]} and {columns[0]} swapped")


def m_columns_set(frame, kwargs, parameters):
    column = next(c for c in kwargs["column_set"] if c in frame.columns)
    return Mutation(frame.drop(columns=[column]), f"column {column} dropped")


ROW_LEVEL: dict[str, Callable] = {
    "expect_column_values_to_not_be_null": m_not_null,
    "expect_column_values_to_be_null": m_null,
    "expect_column_values_to_be_in_set": m_in_set,
    "expect_column_values_to_be_between": m_between,
    "expect_column_values_to_match_regex": m_regex,
    "expect_column_value_lengths_to_be_between": m_value_lengths,
    "expect_column_values_to_be_unique": m_unique,
    "expect_compound_columns_to_be_unique": m_compound_unique,
    "expect_column_pair_values_a_to_be_greater_than_b": m_a_greater_than_b,
}
TABLE_LEVEL: dict[str, Callable] = {
    "expect_table_row_count_to_be_between": m_row_count_between,
    "expect_table_row_count_to_equal": m_row_count_equal,
    "expect_column_sum_to_be_between": m_column_sum,
    "expect_column_unique_value_count_to_be_between": m_unique_value_count,
    "expect_column_distinct_values_to_equal_set": m_distinct_values,
    "expect_column_distinct_values_to_contain_set": m_distinct_values,
    "expect_table_columns_to_match_ordered_list": m_columns_ordered,
    "expect_table_columns_to_match_set": m_columns_set,
}
MUTATORS = {**ROW_LEVEL, **TABLE_LEVEL}


def test_every_expectation_type_in_every_suite_has_a_mutator():
    used = {}
    for path in SUITES:
        for expectation in suite_of(path)["expectations"]:
            used.setdefault(expectation["type"], path.name)
    missing = {t: f"first used in {name}" for t, name in used.items() if t not in MUTATORS}
    assert not missing, f"add a mutator to tests/test_validation_corpus.py for {missing}"


# --- the corpus, on the real built tables ----------------------------------------------------


def read_tables(settings, names=None) -> dict:
    """Every table with a suite (or those named), read back from the build database with its
    suite and its foreign-key value sets."""
    tables = {}
    with duckdb.connect(str(settings.build_db), read_only=True) as conn:
        for path in SUITES:
            if names is not None and path.stem not in names:
                continue
            suite = suite_of(path)
            tables[path.stem] = (read_table(conn, path.stem), suite, suites.warehouse_parameters(
                conn, suites.parameter_names(suite)))
    return tables


@pytest.fixture(scope="module")
def built(warehouse_build):
    """The session's full offline build (assets, blocking and warn checks, releases, quality
    report), and its tables (read_tables)."""
    return (warehouse_build.settings, warehouse_build.instance, warehouse_build.result,
            read_tables(warehouse_build.settings))


UNIQUENESS = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


def _columns(kwargs: dict) -> set[str]:
    """The columns an expectation reads, its row_condition's included."""
    named = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"),
             *(kwargs.get("column_list") or [])} - {None}
    condition = kwargs.get("row_condition") or ""
    return named | set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition))


def _base(frame: pd.DataFrame, expectations: list[dict]) -> pd.DataFrame:
    """A few real rows per row-level expectation (those its row_condition selects)."""
    labels = set(frame.index[:ROWS_PER_EXPECTATION])
    for e in expectations:
        kwargs = e["kwargs"]
        rows = selected(frame, kwargs)
        labels.update(rows.index[:ROWS_PER_EXPECTATION])  # null-checks want the nulls too
        named = [c for c in _columns(kwargs) if c in frame.columns]
        labels.update(rows.dropna(subset=named).index[:ROWS_PER_EXPECTATION])
    return frame.loc[sorted(labels)]


def _validate(frame, expectations, parameters, table, row_level=True):
    """Outcomes in the order given; failing rows named by their label when row-level."""
    if row_level:
        frame = frame.assign(**{ROW: [str(label) for label in frame.index]})
    outcome = suites.validate(frame, {"name": table, "expectations": expectations},
                               parameters, key_columns=[ROW] if row_level else None, name=table)
    assert outcome.could_not_run is None, f"{table}: {outcome.could_not_run}"
    return outcome.outcomes


def _failing(outcome) -> set[str]:
    return {str(row[ROW]) for row in outcome.sample}


@pytest.mark.e2e
@pytest.mark.parametrize("table", [p.stem for p in SUITES])
def test_every_expectation_fails_on_its_broken_fixture(built, table, monkeypatch):
    monkeypatch.setattr(suites, "SAMPLE_ROWS", 100_000)  # name every failing row
    _, _, _, tables = built
    frame, suite, parameters = tables[table]
    numbered = list(enumerate(suite["expectations"], start=1))
    row_level = [(n, e) for n, e in numbered if e["type"] in ROW_LEVEL]
    table_level = [(n, e) for n, e in numbered if e["type"] in TABLE_LEVEL]
    base = _base(frame, [e for _, e in row_level])

    def label(n, e):
        return f"{table} #{n} {e['type']}({json.dumps(e['kwargs'])[:160]})"

    # Unbroken, the fixtures pass: the row-level expectations on the small base, the
    # table-level ones on the whole table.
    for rows, group, is_row in ((base, row_level, True), (frame, table_level, False)):
        if group:
            outcomes = _validate(rows, [e for _, e in group], parameters, table, is_row)
            failed = [label(n, e) for (n, e), o in zip(group, outcomes) if not o.success]
            assert not failed, f"{table}: the unbroken fixture fails: {failed}"

    problems = []
    # Row-level: every mutation on real rows of its own, all in one small fixture, validated
    # together, so each mutation shows which expectations it breaks: its own, and at most
    # others on the column it changed.
    plans, used, alone = {}, set(), []
    for n, e in row_level:
        try:
            plan = ROW_LEVEL[e["type"]](frame, e["kwargs"], parameters,
                                        lambda row: row not in used)
        except NoFreeRow:
            alone.append((n, e))
            continue
        except NoRealRow as exc:
            problems.append(f"{label(n, e)}: cannot be broken from real rows: {exc}")
            continue
        plans[n] = plan
        used |= {r for r in plan.rows if r in frame.index}
    fixture = frame.loc[sorted(set(base.index) | used)].copy()
    for plan in plans.values():
        fixture = plan.apply(fixture)
    mutated = {str(r) for plan in plans.values() for r in plan.rows}
    planned = [(n, e) for n, e in row_level if n in plans]
    outcomes = dict(zip((n for n, _ in planned),
                        _validate(fixture, [e for _, e in planned], parameters, table)))
    for n, e in planned:
        plan, outcome = plans[n], outcomes[n]
        own = {str(r) for r in plan.rows}
        failing = _failing(outcome)
        if not own <= failing:
            problems.append(f"{label(n, e)}: still passes on the rows of: {plan.note} "
                            f"(failing rows {sorted(failing)})")
        if not failing <= mutated or outcome.unexpected_count != len(failing):
            problems.append(f"{label(n, e)}: fails on unmutated rows "
                            f"{sorted(failing - mutated)}")
        for m, other in planned:
            if m == n or not own & _failing(outcomes[m]):
                continue
            allowed = (other["type"] in UNIQUENESS if not plan.columns
                       else plan.columns & _columns(other["kwargs"]))
            if not allowed:
                problems.append(f"{label(n, e)}: its mutation ({plan.note}) also fails "
                                f"{label(m, other)}, which does not read the changed column")
    # Mutations that found no row of their own: each alone on the base and its rows.
    for n, e in alone:
        plan = ROW_LEVEL[e["type"]](frame, e["kwargs"], parameters, lambda row: True)
        rows = sorted(set(base.index) | {r for r in plan.rows if r in frame.index})
        outcome = _validate(plan.apply(frame.loc[rows].copy()), [e], parameters, table)[0]
        if _failing(outcome) != {str(r) for r in plan.rows}:
            problems.append(f"{label(n, e)}: after {plan.note}, failing rows "
                            f"{sorted(_failing(outcome))} are not the mutated ones")
    # Table-level: the whole table, changed; each validated on its own.
    for n, e in table_level:
        try:
            mutation = TABLE_LEVEL[e["type"]](frame, e["kwargs"], parameters)
        except NoRealRow as exc:
            problems.append(f"{label(n, e)}: cannot be broken from real rows: {exc}")
            continue
        outcome = _validate(mutation.frame, [e], parameters, table, row_level=False)[0]
        if outcome.success:
            problems.append(f"{label(n, e)}: still passes after {mutation.note}")
    assert not problems, "\n".join(problems)


# --- warn checks never block; a failing blocking check does ---------------------------------


def _tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.e2e
def test_warn_checks_warn_and_neither_release_waits_for_them(built):
    from paccto_data.quality.rules import load_rules
    from paccto_data.quality.status import release_problems as release_gate

    settings, instance, result, _ = built
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    rules = {r.name: r for r in load_rules()}
    assert set(rules) <= set(evaluations)
    for name in rules:
        assert evaluations[name].severity == dg.AssetCheckSeverity.WARN, name
    warned = sorted(n for n in rules if not evaluations[n].passed)
    # The real data has warnings: UNODC and the World Bank disagree on BOL 2015 and 2019 and
    # CHL 2015; homicide rates jump in small Caribbean states and Haiti 2023.
    assert {"homicide_rate_unodc_vs_world_bank", "homicide_rate_jumps"} <= set(warned)
    assert evaluations["homicide_rate_coverage"].passed
    # ... and both releases went ahead in the same run, and their gate is clear.
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert {dg.AssetKey("warehouse_release"), dg.AssetKey("publication_release")} <= materialised
    defs_checks = build_definitions_checks(settings)
    blocking = [s.key for s in defs_checks if s.blocking]
    # the rules of assets/quality_checks.yaml, beside the per-asset warnings (vintage
    # freshness of each source, no silent loss of each package)
    warn = [s.key for s in defs_checks if not s.blocking and s.key.name in rules]
    assert {k.name for k in warn} == set(rules)
    assert release_gate(instance, blocking) == []
    # Had the gate looked at the warn checks, it would have refused:
    assert len(release_gate(instance, blocking + warn)) == len(warned)
    # The published quality report is the one built, and lists the warnings.
    page = (settings.publish_dir / "quality" / "index.html").read_bytes()
    assert page == (build_area(settings) / "quality" / "index.html").read_bytes()
    text = page.decode("utf-8")
    for name in warned:
        assert f'id="w-{name}"' in text
    assert "BOL 2019" in text and "<td>BOL</td><td>Bolivia (Plurinational State of)</td>" \
        "<td class=num>2019</td><td class=num>4.2583</td><td class=num>7.0007</td>" in text


def build_definitions_checks(settings):
    from paccto_data.definitions import build_definitions

    return [spec for c in build_definitions(settings).asset_checks for spec in c.check_specs]


@pytest.mark.e2e
def test_the_quality_report_covers_every_table_offline(built):
    settings, instance, _, tables = built
    page = (build_area(settings) / "quality" / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"\bsrc\s*=", page) and "<script" not in page.lower()
    assert not re.search(r"https?://", page.replace("^https?://", ""))  # the regex is text
    for record in instance.get_run_records():
        assert record.dagster_run.run_id[:8] not in page
    assert dt.date.today().isoformat() not in page
    for table, (_, suite, _) in tables.items():
        assert f'<details id="t-{table.replace(".", "-")}">' in page, table
    rows = re.findall(r"<tr><td class=num>\d+</td><td><code>expect_", page)
    assert len(rows) == sum(len(s["expectations"]) for _, s, _ in tables.values())
    assert '<details id="c-homicide_rate-unodc_homicide">' in page


@pytest.mark.e2e
def test_a_failing_check_blocks_downstream_assets_and_both_releases(warehouse_build_copy):
    """A table that breaks its suite: its blocking check fails, its downstream assets do not
    run; a later run of only the releases is refused; the release stays byte for byte. Then
    a rebuild of that table and everything downstream repairs it and writes the same quality
    report, byte for byte."""
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    report = build_area(settings) / "quality" / "index.html"
    before = report.read_bytes(), settings.warehouse.read_bytes(), _tree(settings.publish_dir)
    # The corpus fixture of staging.unodc_homicide's range check, on the whole table.
    table, key = "staging.unodc_homicide", dg.AssetKey(["staging", "unodc_homicide"])
    frame, suite, parameters = read_tables(settings, [table])[table]
    expectation = next(e for e in suite["expectations"]
                       if e["type"] == "expect_column_values_to_be_between"
                       and e["kwargs"]["column"] == "value")
    plan = m_between(frame, expectation["kwargs"], parameters, lambda row: True)
    (row,) = plan.rows
    with duckdb.connect(str(settings.build_db)) as conn:
        write_table(conn, "staging", "unodc_homicide", plan.apply(frame.copy()))

    run = build(settings, instance, dg.AssetSelection.checks_for_assets(key)
                | dg.AssetSelection.assets(key).downstream(include_self=False))
    assert not run.success
    (evaluation,) = [e for e in run.get_asset_check_evaluations() if e.asset_key == key]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    failing = frame.loc[row]
    assert f"'iso3': '{failing.iso3}', 'year': {failing.year}" in evaluation.description
    assert "expect_column_values_to_be_between(value)" in evaluation.description
    assert "(rule: min_value=0, max_value=250)" in evaluation.description
    # Everything downstream was in the run and none of it started: not core.fact_indicator,
    # the marts, the packages, the quality report, nor either release.
    started = {e.step_key for e in run.all_events if e.event_type_value == "STEP_START"}
    assert started == {"staging__unodc_homicide_great_expectations"}, started
    assert not run.get_asset_materialization_events()
    output = "\n".join(r.user_message for r in instance.all_logs(run.run_id))
    for step in ("core__fact_indicator", "publication__lac_homicide",
                 "publication__quality_report", "warehouse_release", "publication_release"):
        assert re.search(rf"Dependencies for step {step} (failed|were not executed)", output), step

    releases = build(settings, instance,
                     dg.AssetSelection.assets("warehouse_release", "publication_release"))
    failures = failed_steps(releases)
    for step in ("warehouse_release", "publication_release"):
        assert "staging/unodc_homicide:great_expectations did not pass" in failures[step], step
    assert (report.read_bytes(), settings.warehouse.read_bytes(),
            _tree(settings.publish_dir)) == before

    again = build(settings, instance, dg.AssetSelection.assets(key).downstream())
    assert again.success, failed_steps(again)
    assert report.read_bytes() == before[0]  # an unchanged rebuild: the same report
