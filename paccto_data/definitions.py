"""The one Dagster `Definitions` of paccto-data (`dagster dev -w workspace.yaml`)."""

from __future__ import annotations

import dagster as dg

from paccto_data.acquire import records
from paccto_data.defs.automation import automation_definitions
from paccto_data.defs.publication import publication_definitions
from paccto_data.defs.quality_checks import quality_check_definitions, quality_report_asset
from paccto_data.defs.resources import build_resources
from paccto_data.defs.sources import freshness_check, raw_asset
from paccto_data.defs.staging import staging_definitions
from paccto_data.defs.warehouse import release_asset, warehouse_definitions
from paccto_data.settings import Settings
from paccto_data.sources import staging_tables


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    raw_assets = [raw_asset(source) for source in records.sources().values()]
    # Vintage freshness: warn (never block) when a source's data are older than its cadence.
    freshness = [freshness_check(source) for source in records.sources().values()]
    tables = staging_tables()
    staging_assets, staging_checks = staging_definitions(tables)
    model_assets, model_checks = warehouse_definitions(tables)
    checks = staging_checks + model_checks
    blocking = [key for check in checks for key in check.check_keys]
    release = release_asset([asset.key for asset in model_assets], blocking)
    # Quality checks that warn: never in `blocking`, so neither release waits for them.
    warn_checks = quality_check_definitions()
    report = quality_report_asset([a.key for a in [*staging_assets, *model_assets]], blocking)
    publication_assets, package_checks = publication_definitions(blocking)
    assets = [*raw_assets, *staging_assets, *model_assets, release, *publication_assets, report]
    jobs, schedules, sensors = automation_definitions(settings, assets)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks + package_checks + warn_checks + freshness,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
