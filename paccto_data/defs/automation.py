"""Layer `automation`: the job that builds everything, and its schedule."""

import dagster as dg

build_everything = dg.define_asset_job(
    "build_everything",
    selection=dg.AssetSelection.all(),
    description="Every source, staging table, warehouse table and publication, then the "
    "release. The same as `make run`.",
)


def automation_definitions() -> tuple[list, list]:
    weekly = dg.ScheduleDefinition(
        name="weekly_build",
        job=build_everything,
        cron_schedule="0 5 * * 1",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Mondays 05:00 UTC. Off by default: turn it on in the UI where a live "
        "refresh is wanted (PACCTO_SOURCE_MODE=live).",
    )
    return [build_everything], [weekly]
