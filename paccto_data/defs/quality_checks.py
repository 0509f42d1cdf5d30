"""Quality rules that warn (paccto_data/quality/rules.py) as non-blocking asset checks, and
the asset that writes the quality report (data: paccto_data/quality/report.py; page:
paccto_data/site/pages.py)."""

from collections.abc import Sequence

import dagster as dg
from dagster_duckdb import DuckDBResource
from duckdb import Error as DuckDBError

from paccto_data.defs import OWNERS
from paccto_data.defs.publication import build_area, no_silent_loss_key, package_key
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.versions import QUALITY_REPORT, code_version
from paccto_data.quality.rules import Rule, WarnResult, evaluate, load_rules

COUNTRIES = dg.AssetKey(["core", "dim_country"])


def rule_key(rule: Rule) -> dg.AssetKey:
    return dg.AssetKey(rule.table.split("."))


def warn_metadata(result: WarnResult) -> dict:
    make = {"json": dg.MetadataValue.json, "text": dg.MetadataValue.text,
            "path": dg.MetadataValue.path, "int": dg.MetadataValue.int,
            "md": dg.MetadataValue.md}
    return {name: make[kind](value) for name, (kind, value) in result.metadata().items()}




def warn_check(rule: Rule) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=rule_key(rule),
        name=rule.name,
        blocking=False,
        additional_deps=[COUNTRIES] if rule_key(rule) != COUNTRIES else [],
        description=f"Warns (never blocks): {rule.kind} rule from assets/quality_checks.yaml. "
        f"{rule.why}",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        try:
            with duckdb.get_connection() as conn:
                result = evaluate(conn, rule)
        except DuckDBError as exc:  # a renamed column or a missing table: say so, warn
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.WARN,
                description=f"check could not run: {exc}",
                metadata={"rule": dg.MetadataValue.json(rule.thresholds)})
        return dg.AssetCheckResult(passed=result.passed, severity=dg.AssetCheckSeverity.WARN,
                                   description=result.summary,
                                   metadata=warn_metadata(result))

    return _check


def quality_check_definitions() -> list[dg.AssetChecksDefinition]:
    return [warn_check(rule) for rule in load_rules()]


def quality_report_asset(tables: Sequence[dg.AssetKey],
                         check_keys: Sequence[dg.AssetCheckKey]) -> dg.AssetsDefinition:
    """`publication/quality_report`: <build area>/quality/index.html. It depends on every
    table, so it runs after every blocking check (and not at all when one failed: the
    published report then stays the one of the last good build), and on every package, so
    it lists the rows their builds drop (their `no_silent_loss` checks)."""
    from paccto_data.publication.spec import package_specs

    specs = list(package_specs().values())
    removal_keys = [no_silent_loss_key(s) for s in specs]

    @dg.asset(
        key=["publication", "quality_report"],
        deps=sorted([*tables, *(package_key(s) for s in specs)],
                    key=lambda k: k.to_user_string()),
        group_name="publication",
        owners=OWNERS,
        kinds={"html"},
        description="The quality report, quality/index.html in the build area (published "
        "with the packages): every expectation of every table and its latest outcome, the "
        "warnings of the non-blocking quality checks, the rows that package builds drop from "
        "their published versions, and a coverage matrix of indicators x countries x years. "
        "Static, offline, byte-identical when nothing changed.",
        code_version=code_version(*QUALITY_REPORT),
    )
    def quality_report(context: dg.AssetExecutionContext, paccto: PacctoConfig,
                       duckdb: DuckDBResource) -> dg.MaterializeResult:
        from paccto_data.quality import report
        from paccto_data.site.pages import write_quality_page

        with duckdb.get_connection() as conn:
            data = report.collect(context.instance, check_keys, conn, load_rules(),
                                  removal_keys)
        path = write_quality_page(build_area(paccto.settings) / "quality", data)
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(path)),
            "bytes": path.stat().st_size,
            "tables": len(data.tables),
            "expectations": data.expectations,
            "expectations_failed": data.expectations_failed,
            "warnings": dg.MetadataValue.json(
                [{"check": w.rule.name, "summary": w.summary} for w in data.warnings
                 if not w.passed]),
        })

    return quality_report
