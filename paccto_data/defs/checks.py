"""Great Expectations suites as blocking Dagster asset checks (one thin factory)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from paccto_data.quality import ahead, suites


def suite_check(asset_key: dg.AssetKey, qualified_table: str) -> dg.AssetChecksDefinition:
    """A blocking check that validates `qualified_table` in the build database against
    `expectations/<qualified_table>.json`."""
    path = suites.suite_path(qualified_table)
    # Tables a suite reads its value sets from run first (e.g. staging.un_m49 for iso3).
    try:
        references = sorted(suites.parameter_names(suites.load_suite_file(path)))
    except suites.SuiteError:
        references = []  # the check itself reports the broken suite
    reads = [dg.AssetKey(name.split("__")[:2]) for name in references]

    @dg.asset_check(
        asset=asset_key,
        name="great_expectations",
        blocking=True,
        additional_deps=[key for key in reads if key != asset_key],
        # after the other steps ready with it: the table's suite is validated meanwhile, on
        # the second core (paccto_data/quality/ahead.py)
        op_tags={"dagster/priority": "-1"},
        description=f"Great Expectations suite {path.name}: bad data stops everything "
        "downstream, the warehouse release included.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        try:
            with duckdb.get_connection() as conn:
                inputs = ahead.SuiteInputs.read(conn, qualified_table)
            # validated already, on the second core, if the asset's step handed it over
            outcome = ahead.outcome(inputs)
        except suites.SuiteError as exc:
            outcome = suites.SuiteOutcome(qualified_table, [], could_not_run=str(exc))
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=suites.summary(outcome),
            metadata=suites.outcome_metadata(outcome),
        )

    return _check
