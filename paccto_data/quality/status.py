"""The latest result of each asset check, read from the Dagster instance.

The one place that reads check records (through Dagster's storage API, whose status enum
lives in `dagster._core`): the release gates and the quality report both ask here, so they
cannot disagree on what "passed" means.

A check's status is one of:
- `passed`: its latest evaluation passed, on the asset's latest materialisation;
- `stale`: it passed, but the asset was materialised again after it ran (unchecked now);
- `failed`: its latest evaluation did not pass;
- `could not run`: the check raised, or its suite could not be read;
- `not yet evaluated`: planned in a run that has not evaluated it (skipped, or the run died);
- `never ran`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

PASSED, STALE, FAILED = "passed", "stale", "failed"
COULD_NOT_RUN, NOT_YET_EVALUATED, NEVER_RAN = "could not run", "not yet evaluated", "never ran"


@dataclass(frozen=True)
class CheckStatus:
    table: str  # schema.name of the checked asset
    check: str
    status: str
    description: str
    run_id: str = ""
    metadata: dict = field(default_factory=dict)  # the evaluation's metadata, as plain values

    @property
    def name(self) -> str:
        return f"{self.table.replace('.', '/')}:{self.check}"

    @property
    def passed(self) -> bool:
        return self.status == PASSED


def _plain(metadata) -> dict:
    return {k: getattr(v, "value", v) for k, v in (metadata or {}).items()}


def latest_check_statuses(instance, check_keys: Sequence) -> list[CheckStatus]:
    """The status of every check in `check_keys`, sorted by table and check name."""
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus as Status,
    )

    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    statuses = []
    for key in sorted(check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        table = ".".join(key.asset_key.path)
        record = latest.get(key)
        if record is None:
            statuses.append(CheckStatus(table, key.name, NEVER_RAN, "the check has never run"))
            continue
        run_id = record.run_id
        evaluation = record.evaluation
        # A check planned in a run that died carries only its planned event, no evaluation.
        if evaluation is None or not hasattr(evaluation, "passed"):
            status = NOT_YET_EVALUATED if record.status == Status.PLANNED else COULD_NOT_RUN
            statuses.append(CheckStatus(table, key.name, status,
                                        f"check execution {record.status.value.lower()}", run_id))
            continue
        metadata = _plain(getattr(evaluation, "metadata", None))
        description = evaluation.description or ""
        if metadata.get("could_not_run"):
            status = COULD_NOT_RUN
        elif not evaluation.passed or record.status != Status.SUCCEEDED:
            status = FAILED
        else:
            status = PASSED
            latest_materialisation = instance.fetch_materializations(key.asset_key,
                                                                     limit=1).records
            target = evaluation.target_materialization_data
            if latest_materialisation and (
                    target is None
                    or target.storage_id != latest_materialisation[0].storage_id):
                status = STALE
        statuses.append(CheckStatus(table, key.name, status, description, run_id, metadata))
    return statuses


def release_problems(instance, check_keys: Sequence) -> list[str]:
    """Why a release may not go ahead: one line per check whose latest result is missing,
    failed, could not run, or is older than its asset's latest materialisation."""
    return problems_of(latest_check_statuses(instance, check_keys))


def problems_of(statuses: Sequence[CheckStatus]) -> list[str]:
    """release_problems, of statuses already read."""
    problems = []
    for s in statuses:
        if s.status == NEVER_RAN:
            problems.append(f"{s.name} has never run")
        elif s.status == STALE:
            problems.append(f"{s.name} last ran before {s.table.replace('.', '/')} was last "
                            "materialised: the current table is unchecked")
        elif s.status != PASSED:
            problems.append(f"{s.name} did not pass in run {s.run_id[:8]}: "
                            f"{s.description or s.status}")
    return problems
