"""Layer `automation`: the jobs, the schedule that releases the packages, the sensor that
evaluates the assets' automation conditions (defs/conditions.py) and the sensor that asks the
live sources whether their files changed (defs/upstream.py).

All of them are off by default, so a laptop never builds or downloads behind its owner's
back; PACCTO_AUTOMATION=on (the team deployment) starts them with the daemon (`make ui`, or
`dagster-daemon run`). Either way each can be switched in the UI (Automation).
"""

from __future__ import annotations

import os

import dagster as dg

from paccto_data.acquire import records
from paccto_data.defs.upstream import lineage, raw_key, upstream_sensor
from paccto_data.settings import Settings

AUTOMATION_VARIABLE = "PACCTO_AUTOMATION"
PUBLICATION = dg.AssetSelection.groups("publication")

build_everything = dg.define_asset_job(
    "build_everything",
    selection=dg.AssetSelection.all(),
    description="Every source, staging table, warehouse table and publication, then the "
    "releases (what `make run FULL=1` builds).",
)

release_packages = dg.define_asset_job(
    "release_packages",
    selection=PUBLICATION,
    description="Builds every data package and the quality report from the warehouse tables "
    "as they are, and releases them to PACCTO_PUBLISH_DIR when every blocking check passed.",
)


def automation_on(environ=os.environ) -> bool:
    value = environ.get(AUTOMATION_VARIABLE, "off").strip().lower()
    if value not in ("on", "off", "1", "0", "true", "false", "yes", "no", ""):
        raise ValueError(f"{AUTOMATION_VARIABLE}={value!r}: expected on or off")
    return value in ("on", "1", "true", "yes")


def automation_definitions(settings: Settings, assets: list) -> tuple[list, list, list]:
    """Jobs, schedules and sensors; running by default only when PACCTO_AUTOMATION=on."""
    on = automation_on()
    schedule_status = dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED
    sensor_status = dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED
    packages = dg.ScheduleDefinition(
        name="release_packages_weekly",
        job=release_packages,
        cron_schedule="0 7 * * 1",
        execution_timezone="UTC",
        default_status=schedule_status,
        description="Mondays 07:00 UTC, after the sources' checks (06:00): the packages and "
        f"the catalogue are released on their own schedule. Off unless {AUTOMATION_VARIABLE}=on.",
    )
    automation = dg.AutomationConditionSensorDefinition(
        "automation",
        target=dg.AssetSelection.all(),
        default_status=sensor_status,
        minimum_interval_seconds=60,
        description="Evaluates the automation conditions declared on the assets: sources on "
        "their publisher's cadence, everything downstream when an input's data version "
        f"changed and every blocking check upstream passed. Off unless {AUTOMATION_VARIABLE}=on.",
    )
    sources = list(records.sources().values())
    lineages = {s.id: lineage(assets, raw_key(s.id)) for s in sources}
    upstream = upstream_sensor(settings, sources, lineages, default_status=sensor_status)
    return [build_everything, release_packages], [packages], [automation, upstream]
