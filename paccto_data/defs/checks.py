"""Great Expectations suites as blocking Dagster asset checks (one thin factory)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from paccto_data import quality
from paccto_data.warehouse import read_table


def suite_check(asset_key: dg.AssetKey, qualified_table: str) -> dg.AssetChecksDefinition:
    """A blocking check that validates `qualified_table` in the build database against
    `expectations/<qualified_table>.json`."""
    path = quality.suite_path(qualified_table)
    # Tables a suite reads its value sets from run first (e.g. staging.un_m49 for iso3).
    try:
        references = sorted(quality.parameter_names(quality.load_suite_file(path)))
    except quality.SuiteError:
        references = []  # the check itself reports the broken suite
    reads = [dg.AssetKey(name.split("__")[:2]) for name in references]

    @dg.asset_check(
        asset=asset_key,
        name="great_expectations",
        blocking=True,
        additional_deps=[key for key in reads if key != asset_key],
        description=f"Great Expectations suite {path.name}: bad data stops everything "
        "downstream, the warehouse release included.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        try:
            suite = quality.load_suite_file(path)
            with duckdb.get_connection() as conn:
                frame = read_table(conn, qualified_table)
                parameters = quality.warehouse_parameters(conn, quality.parameter_names(suite))
            outcome = quality.validate(frame, suite, parameters,
                                       key_columns=suite.get("meta", {}).get("key_columns"),
                                       name=qualified_table)
        except quality.SuiteError as exc:
            outcome = quality.SuiteOutcome(qualified_table, [], could_not_run=str(exc))
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=quality.summary(outcome),
            metadata=quality.outcome_metadata(outcome),
        )

    return _check
