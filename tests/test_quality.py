"""The Great Expectations bridge: suites from JSON, run on pandas, results an engineer can use."""

import json

import duckdb
import pandas as pd
import pytest

from paccto_data.quality import suites
from paccto_data.settings import EXPECTATIONS_DIR

ROWS = pd.DataFrame({
    "iso3": ["JAM", "URY", "DMA", "XXX", "JAM"],
    "year": [2022, 2022, 2022, 2022, 2021],
    "value": [53.3, 11.2, -1.0, 4.0, 49.0],
})


def _suite(*expectations, meta=None):
    return {"name": "test.table", "meta": meta or {"key_columns": ["iso3", "year"]},
            "expectations": list(expectations)}


def test_a_failing_expectation_reports_observed_value_failing_rows_and_a_sample():
    suite = _suite(
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "value", "min_value": 0}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 3}},
    )
    outcome = suites.validate(ROWS, suite, key_columns=["iso3", "year"])
    assert not outcome.passed and outcome.could_not_run is None
    by_type = {o.type: o for o in outcome.outcomes}
    negative = by_type["expect_column_values_to_be_between"]
    assert negative.unexpected_count == 1
    assert negative.sample == [{"iso3": "DMA", "year": 2022, "value": -1.0}]
    assert by_type["expect_table_row_count_to_be_between"].observed_value == 5
    summary = suites.summary(outcome)
    assert "expect_column_values_to_be_between(value)" in summary and "DMA" in summary
    metadata = suites.outcome_metadata(outcome)
    assert metadata["failed"].value == 2
    assert "DMA" in metadata["failures"].value


def test_a_foreign_key_parameter_is_filled_from_the_warehouse():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA core; CREATE TABLE core.dim_country AS "
                 "SELECT unnest(['JAM', 'URY', 'DMA']) AS iso3")
    suite = _suite({"type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": "iso3",
                               "value_set": {"$PARAMETER": "core__dim_country__iso3"}}})
    parameters = suites.warehouse_parameters(conn, suites.parameter_names(suite))
    assert parameters == {"core__dim_country__iso3": ["DMA", "JAM", "URY"]}
    outcome = suites.validate(ROWS, suite, parameters, key_columns=["iso3", "year"])
    assert not outcome.passed
    assert outcome.outcomes[0].sample == [{"iso3": "XXX", "year": 2022}]


def test_a_passing_suite_passes():
    suite = _suite({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "iso3"}})
    outcome = suites.validate(ROWS, suite)
    assert outcome.passed and suites.summary(outcome) == "1 expectations passed"


@pytest.mark.parametrize("content, reason", [
    ({"name": "t", "expectations": []}, "has no expectations"),
    ({"name": "t"}, "has no expectations"),
    ("not json", "cannot read the suite"),
])
def test_an_empty_or_unreadable_suite_cannot_run(tmp_path, content, reason):
    path = tmp_path / "staging.empty.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(suites.SuiteError, match=reason):
        suites.load_suite_file(path)


def test_an_unknown_expectation_type_means_the_check_could_not_run():
    outcome = suites.validate(ROWS, _suite({"type": "expect_the_unexpected", "kwargs": {}}))
    assert not outcome.passed
    assert "cannot load the suite" in outcome.could_not_run
    assert suites.summary(outcome).startswith("check could not run")


def test_an_expectation_that_raises_means_the_check_could_not_run():
    suite = _suite(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "iso3"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "renamed_column"}},
    )
    outcome = suites.validate(ROWS, suite)
    assert not outcome.passed
    assert "renamed_column" in outcome.could_not_run
    assert "does not exist" in outcome.could_not_run


def test_every_suite_in_the_repository_loads_every_expectation_it_holds():
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    paths = sorted(EXPECTATIONS_DIR.glob("*.json"))
    assert paths, "no suites in expectations/"
    for path in paths:
        suite = suites.load_suite_file(path)
        assert suite["name"] == path.stem, f"{path}: name differs from the file name"
        for expectation in suite["expectations"]:
            ExpectationConfiguration(type=expectation["type"],
                                     kwargs=expectation["kwargs"]).to_domain_obj()


def test_a_distinct_set_failure_names_the_missing_values():
    # GX reports no observed value for these: the metadata must say what is missing.
    suite = _suite(
        {"type": "expect_column_distinct_values_to_contain_set",
         "kwargs": {"column": "iso3", "value_set": ["JAM", "TTO"]}},
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": ["iso3", "year", "value", "flag"], "exact_match": True}},
    )
    outcome = suites.validate(ROWS, suite, key_columns=["iso3", "year"])
    contain, columns = outcome.outcomes
    assert contain.observed_value is None
    assert contain.details == {"missing_count": 1, "partial_missing_list": ["TTO"]}
    assert columns.details == {"details": {"mismatched": {"missing": ["flag"]}}}
    summary = suites.summary(outcome)
    assert "missing ['TTO']" in summary and '"missing": ["flag"]' in summary
    metadata = suites.outcome_metadata(outcome)
    assert metadata["results"].value[0]["details"]["partial_missing_list"] == ["TTO"]
    assert "TTO" in metadata["failures"].value


def test_results_follow_the_suite_file_and_state_its_kwargs():
    # GX returns results in its own order; the metadata lists them as the file does, with
    # the row_condition and $PARAMETER names as written there.
    suite = _suite(
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "value", "min_value": 0, "row_condition": "iso3 != \"XXX\"",
                    "condition_parser": "pandas"}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "iso3", "value_set": {"$PARAMETER": "core__dim_country__iso3"}}},
    )
    outcome = suites.validate(ROWS, suite, {"core__dim_country__iso3": ["JAM", "URY", "DMA"]})
    assert [o.type for o in outcome.outcomes] == [e["type"] for e in suite["expectations"]]
    between, _, in_set = outcome.outcomes
    assert between.rule() == 'min_value=0, row_condition=iso3 != "XXX"'
    assert in_set.kwargs["value_set"] == {"$PARAMETER": "core__dim_country__iso3"}
    assert "(rule: min_value=0" in suites.summary(outcome)


_DEFERRED = """
import sys
import pandas as pd
from paccto_data.quality import suites

def loaded():
    return "scipy.stats._stats_py" in sys.modules

suites.prepare()
rows = pd.DataFrame({"iso3": ["JAM", "URY", "JAM", "URY"], "value": [1.0, 2.0, 3.0, 4.0]})
common = suites.validate(rows, {"name": "t", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "value"}},
    {"type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "iso3", "value_set": ["JAM", "URY"]}}]})
before = loaded()
kl = suites.validate(rows, {"name": "t", "expectations": [
    {"type": "expect_column_kl_divergence_to_be_less_than",
     "kwargs": {"column": "iso3", "threshold": 0.1,
                "partition_object": {"values": ["JAM", "URY"], "weights": [0.9, 0.1]}}}]})
print(common.passed, before, kl.could_not_run, kl.passed,
      round(kl.outcomes[0].observed_value, 4), loaded())
"""


def test_scipy_stats_loads_only_for_a_suite_that_uses_it():
    """GX imports scipy.stats for its distribution expectations; the import is deferred
    (suites.DEFERRED_IMPORTS) until one runs, and then it runs with the real module."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _DEFERRED], capture_output=True, text=True,
                         check=True).stdout.split()
    # A suite without a distribution expectation never loads scipy.stats; the KL divergence
    # of (0.5, 0.5) from (0.9, 0.1) is 0.5108 nats, above the threshold: the real scipy ran.
    assert out == ["True", "False", "None", "False", "0.5108", "True"]
