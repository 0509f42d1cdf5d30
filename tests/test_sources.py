"""Every staging table of every source module, the same way: its suite passes on the bundled
files, it feeds core.fact_indicator exactly when it holds indicators, and the indicators it
writes are catalogued with its unit, its source and both languages. What is particular to a
source is in tests/test_source_<id>.py (and tests/test_activities.py)."""

import pytest

from paccto_data.quality import suites
from paccto_data.sources import staging_tables
from tests.sources import assert_suite_passes, catalogue_entries, tidy_table, used_units

TABLES = staging_tables()
INDICATOR_COLUMNS = {"iso3", "year", "indicator_id", "value", "unit"}


def staging_parameters(table: str) -> dict:
    """The value sets a staging suite reads from other staging tables (staging.un_m49's
    iso3), taken from those tables as their tidy functions make them."""
    suite = suites.load_suite_file(suites.suite_path(f"staging.{table}"))
    parameters = {}
    for name in suites.parameter_names(suite):
        schema, other, column = name.split("__")
        assert schema == "staging", name
        parameters[name] = sorted(tidy_table(other).table[column].dropna().unique())
    return parameters


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_staging_suite_passes_on_the_bundled_files(table):
    assert_suite_passes(tidy_table(table).table, f"staging.{table}", staging_parameters(table))


@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_table_feeds_the_indicator_fact_exactly_when_it_holds_indicators(table):
    columns = set(tidy_table(table).table.columns)
    feeds = TABLES[table].feeds
    assert feeds in (None, "fact_indicator"), feeds
    assert (feeds == "fact_indicator") == (INDICATOR_COLUMNS <= columns), (feeds, columns)


@pytest.mark.parametrize("table", sorted(t for t, s in TABLES.items()
                                         if s.feeds == "fact_indicator"))
def test_every_indicator_is_catalogued_with_its_unit_source_and_both_languages(table):
    entries = catalogue_entries()
    units = used_units(tidy_table(table).table)
    assert {i: entries.get(i, {}).get("unit") for i in units} == units
    for indicator in units:
        entry = entries[indicator]
        assert TABLES[table].source_id in entry["sources"], indicator
        for field in ("title_en", "title_es", "description_en", "description_es"):
            assert entry.get(field), (indicator, field)


def test_map_distinct_calls_once_per_value_and_maps_missing_values_row_by_row():
    import pandas as pd

    from paccto_data.sources._common import map_distinct

    calls = []
    column = pd.Series(["a", "b", "a", "a"], index=[10, 11, 12, 13], name="label")
    mapped = map_distinct(column, lambda v: calls.append(v) or v.upper())
    assert mapped.tolist() == ["A", "B", "A", "A"] and mapped.index.tolist() == [10, 11, 12, 13]
    assert sorted(calls) == ["a", "b"] and mapped.name == "label"
    assert map_distinct(pd.Series(["2", "3", "2"]), int).dtype == "int64"
    # cells that compare equal but are not the same value: factorize would take them for one
    assert map_distinct(pd.Series(["a", None, float("nan")], dtype=object), repr).tolist() \
        == ["'a'", "None", "nan"]
    assert map_distinct(pd.Series([1, 1.0, True, "1"], dtype=object), repr).tolist() \
        == ["1", "1.0", "True", "'1'"]
    assert map_distinct(pd.Series([0.0, -0.0]), repr).tolist() == ["0.0", "-0.0"]
