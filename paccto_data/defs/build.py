"""`make run`: build what is missing or stale, and nothing else.

    python -m paccto_data.defs.build [--full]          (make run, make run FULL=1)

It loads the one Definitions, marks failed any earlier build that died without saying so (a
`make run` killed with SIGKILL stays STARTED in the run storage), works out from Dagster's own
versions which assets must be materialised, runs them in-process against the instance in
DAGSTER_HOME, prints one line per step and a closing summary. Full event logs stay in the run
storage (`make ui`).

What is stale (the same rule the UI shows, computed ahead for the whole graph):
- a raw asset: the sha256 of its bundled files (snapshot mode) differ from the data version
  of its latest materialisation, or its code version changed; in live mode every raw asset
  runs first (a conditional download: an unchanged upstream answers 304, same data version);
- any other asset: the data version Dagster would give it now (a hash of its code version and
  its inputs' data versions, predicted through the graph) differs from the one recorded;
- any asset that is missing: never materialised, or its output (table, folder, file) is gone;
- any asset whose blocking check's latest result did not pass on its latest materialisation.
Blocking checks of assets not rebuilt keep their latest (passed) result, which the release
gates accept (paccto_data/quality/status.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from paccto_data.process import run_then_exit
from paccto_data.quality import ahead

LAUNCHED_BY = "paccto/launched_by"
PID_TAG, HOST_TAG = "paccto/pid", "paccto/host"
LAUNCHER = "make run"
QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
CODE_VERSION_TAG = "dagster/code_version"


@dataclass
class Plan:
    build: list[dg.AssetKey]  # in topological order
    reasons: dict[dg.AssetKey, str]
    skipped: list[dg.AssetKey]
    # whether an asset to build has a blocking check: a table's suite or a package's
    # package_valid, what the validation worker (quality/ahead.py) validates
    validates: bool = False


@dataclass
class Outcome:
    run_ids: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # step -> message
    not_run: list[str] = field(default_factory=list)  # steps skipped (a check failed upstream)
    checks: dict[str, list[str]] = field(default_factory=lambda: {
        "passed": [], "warned": [], "failed": []})
    check_failures: dict[str, str] = field(default_factory=dict)
    packages: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (old, new)
    released: set[str] = field(default_factory=set)

    @property
    def success(self) -> bool:
        return not self.failed and not self.checks["failed"]


# --- runs that died --------------------------------------------------------------------------


@contextmanager
def build_lock(settings) -> Iterator[None]:
    """One build at a time per data directory (paccto_data/lock.py): a second `make run`, or
    a release from the UI or a test, waits for this one, and is told which process holds it.
    Holding it, the build first repairs what an interrupted release left, before any gate."""
    from paccto_data.lock import data_lock
    from paccto_data.publication.release import recover_releases

    with data_lock(settings, LAUNCHER, say=lambda m: print(f"make run: {m}", flush=True)):
        for line in recover_releases(settings):
            print(f"make run: {line}", flush=True)
        yield


def mark_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every earlier `make run` run the storage still shows in progress whose
    process is gone (killed, or its machine stopped): on this host, its pid is not alive."""
    from paccto_data.lock import pid_alive

    statuses = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
    dead = []
    host = socket.gethostname()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=statuses,
                                                      tags={LAUNCHED_BY: LAUNCHER})):
        pid = run.tags.get(PID_TAG, "")
        if run.tags.get(HOST_TAG) == host and pid.isdigit() and pid_alive(int(pid)):
            continue  # a build of another data directory, still running
        message = (f"The `make run` process of this run (pid {run.tags.get(PID_TAG, '?')} on "
                   f"{run.tags.get(HOST_TAG, '?')}) ended without finishing the run (killed?); "
                   "marked failed by the next `make run`.")
        instance.report_run_failed(run, message)
        dead.append(run.run_id)
    return dead


# --- what is stale ---------------------------------------------------------------------------


def _recorded(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> dict:
    """Asset key -> (data version, code version) of its latest materialisation."""
    from dagster._core.definitions.data_version import extract_data_version_from_entry

    found = {}
    for record in instance.get_asset_records(list(keys)):
        entry = record.asset_entry.last_materialization_record
        if entry is None:
            continue
        version = extract_data_version_from_entry(entry.event_log_entry)
        tags = entry.event_log_entry.dagster_event.event_specific_data.materialization.tags or {}
        found[record.asset_entry.asset_key] = (version.value if version else None,
                                               tags.get(CODE_VERSION_TAG))
    return found


def _tables_present(build_db: Path) -> set[str] | None:
    """schema.table of every table in the build database (None: it cannot be read now)."""
    import duckdb

    if not build_db.exists():
        return set()
    try:
        with duckdb.connect(str(build_db), read_only=True) as conn:
            return {f"{s}.{t}" for s, t in conn.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    except duckdb.Error:
        return None


def output_present(key: dg.AssetKey, settings, tables: set[str] | None) -> bool:
    """Whether what the asset writes is still there (a deleted build database, build area or
    release is rebuilt even though the instance remembers it)."""
    from paccto_data.defs.publication import build_area
    from paccto_data.publication.spec import package_specs

    head = key.path[0]
    if head in ("staging", "core", "marts"):
        return tables is None or ".".join(key.path) in tables
    if key.to_user_string() == "warehouse_release":
        return settings.warehouse.is_file()
    if key.to_user_string() == "publication_release":
        return (settings.publish_dir / "catalog.json").is_file() and all(
            (settings.publish_dir / name / "datapackage.json").is_file()
            for name in package_specs())
    if key.to_user_string() == "publication/quality_report":
        return (build_area(settings) / "quality" / "index.html").is_file()
    if head == "publication":
        names = {n.replace("-", "_"): n for n in package_specs()}
        name = names.get(key.path[-1])
        return name is None or (build_area(settings) / name / "datapackage.json").is_file()
    return True


def plan_build(defs: dg.Definitions, instance: dg.DagsterInstance, settings,
               full: bool = False, observe_raw: bool = True) -> Plan:
    from dagster._core.definitions.data_version import compute_logical_data_version

    from paccto_data.acquire import records
    from paccto_data.defs.upstream import snapshot_version
    from paccto_data.quality.status import PASSED, latest_check_statuses

    graph = defs.resolve_asset_graph()
    order = [k for k in graph.toposorted_asset_keys if graph.get(k).is_executable]
    recorded = _recorded(instance, order)
    tables = _tables_present(settings.build_db)
    blocking = [spec.key for check in defs.asset_checks for spec in check.check_specs
                if spec.blocking]
    unchecked = {dg.AssetKey(s.table.split(".")): s
                 for s in latest_check_statuses(instance, blocking) if s.status != PASSED}
    predicted: dict[dg.AssetKey, str | None] = {}
    reasons: dict[dg.AssetKey, str] = {}
    for key in order:
        node = graph.get(key)
        version, code = recorded.get(key, (None, None))
        if key.path[0] == "raw":
            source = records.sources().get(key.path[-1])
            if observe_raw and settings.source_mode == "snapshot" and source is not None:
                observed = snapshot_version(source)
                predicted[key] = observed.value if observed else None
            else:
                predicted[key] = version
            if version is not None and code != node.code_version:
                reasons[key] = "code version changed"
        else:
            inputs = {dep: predicted.get(dep) for dep in node.parent_keys}
            if node.code_version and all(v is not None for v in inputs.values()):
                predicted[key] = compute_logical_data_version(
                    node.code_version, {d: dg.DataVersion(v) for d, v in inputs.items()}).value
            else:
                predicted[key] = None
        if full:
            reasons.setdefault(key, "FULL=1")
        elif version is None:
            reasons.setdefault(key, "never materialised")
        elif predicted[key] is None:
            reasons.setdefault(key, "data version unknown")
        elif predicted[key] != version:
            changed = [d.to_user_string() for d in node.parent_keys if d in reasons]
            reasons.setdefault(key, f"new input data ({', '.join(changed[:3])}"
                               f"{', …' if len(changed) > 3 else ''})" if changed
                               else "new data or code version")
        elif not output_present(key, settings, tables):
            reasons.setdefault(key, "output missing")
        elif key in unchecked:
            reasons.setdefault(key, f"blocking check {unchecked[key].status}")
    build = [k for k in order if k in reasons]
    return Plan(build, reasons, [k for k in order if k not in reasons],
                any(check.asset_key in reasons for check in blocking))


# --- running ---------------------------------------------------------------------------------


class Progress:
    """One line per finished step, from the events as the instance stores them."""

    def __init__(self, outcome: Outcome, out=sys.stdout):
        self.outcome, self.out = outcome, out
        self.started: dict[str, float] = {}
        self.labels: dict[str, list[str]] = {}
        self.count = 0

    def __call__(self, entry) -> None:
        event = entry.get_dagster_event() if entry.is_dagster_event else None
        if event is None:
            return
        step, kind = event.step_key, event.event_type_value
        if kind == "STEP_START":
            self.started[step] = entry.timestamp
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            name = materialization.asset_key.to_user_string()
            self.outcome.built.append(name)
            metadata = materialization.metadata
            rows = metadata.get("dagster/row_count")
            detail = f"{rows.value:,} rows" if rows is not None else ""
            if "version" in metadata and "published_version" in metadata:
                old, new = metadata["published_version"].value, metadata["version"].value
                self.outcome.packages[name] = (old, new)
                detail = f"version {new}" + (f" (was {old})" if old and old != new else
                                             " (new)" if not old else " (unchanged)")
            if name in ("warehouse_release", "publication_release"):
                self.outcome.released.add(name)
            self.labels.setdefault(step, []).append(f"{name} built" + (
                f", {detail}" if detail else ""))
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.passed:
                bucket = "passed"
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                bucket = "warned"
            else:
                bucket = "failed"
                self.outcome.check_failures[name] = evaluation.description or ""
            self.outcome.checks[bucket].append(name)
            self.labels.setdefault(step, []).append(f"{name} {bucket}")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY"):
            self.count += 1
            took = entry.timestamp - self.started.get(step, entry.timestamp)
            labels = "; ".join(self.labels.pop(step, [])) or step
            if kind == "STEP_FAILURE":
                error = event.event_specific_data.error
                message = (error.message if error else "").strip().splitlines()
                self.outcome.failed[step] = "\n".join(message)
                labels = f"{step} FAILED: {message[0] if message else ''}"
            elif kind == "STEP_SKIPPED":
                self.outcome.not_run.append(step)
                labels = f"{step} not run (a blocking check upstream did not pass)"
            elif kind == "STEP_UP_FOR_RETRY":
                labels = f"{step} failed, will retry"
            print(f"  [{self.count:>2}] {labels}  ({took:.1f} s)", file=self.out, flush=True)


def execute(defs: dg.Definitions, instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey],
            outcome: Outcome, label: str) -> bool:
    job = defs.resolve_implicit_global_asset_job_def()
    run_id = str(uuid.uuid4())
    instance.add_event_listener(run_id, Progress(outcome))
    outcome.run_ids.append(run_id)
    print(f"make run: {label}: {len(keys)} assets, run {run_id[:8]}", flush=True)
    result = job.execute_in_process(
        instance=instance, asset_selection=list(keys), run_id=run_id, raise_on_error=False,
        run_config=QUIET_LOGGERS,
        tags={LAUNCHED_BY: LAUNCHER, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()})
    return result.success


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def summarise(outcome: Outcome, plan: Plan, settings, dead: list[str], seconds: float) -> str:
    from datetime import date

    from paccto_data.acquire import cadence, records

    lines = ["", "make run: " + ("done" if outcome.success else "FAILED") + f" in {seconds:.1f} s"]
    if dead:
        lines.append(f"  marked failed: {len(dead)} earlier run(s) that had died "
                     f"({', '.join(r[:8] for r in dead)})")
    lines.append(f"  assets: {len(set(outcome.built))} built, {len(plan.skipped)} up to date "
                 "(skipped)" + (f", {len(outcome.not_run)} steps not run" if outcome.not_run
                                else ""))
    c = outcome.checks
    lines.append(f"  checks: {len(c['passed'])} passed, {len(c['warned'])} warned, "
                 f"{len(c['failed'])} failed")
    for name, description in outcome.check_failures.items():
        lines.append(f"    FAILED {name}: {description.splitlines()[0] if description else ''}")
    for step, message in outcome.failed.items():
        lines.append(f"    step {step} failed: {message.splitlines()[0] if message else ''}")
    released = "warehouse_release" in outcome.released
    lines.append(f"  warehouse: {_relative(settings.warehouse)} " + (
        "(released by this run)" if released else "(unchanged)" if outcome.success
        else "(NOT released: the previous release stays)"))
    published = "publication_release" in outcome.released
    lines.append(f"  packages:  {_relative(settings.publish_dir)}/ " + (
        "(released by this run)" if published else "(unchanged)" if outcome.success
        else "(NOT released: the previous release stays)"))
    changed = {n: v for n, v in outcome.packages.items() if v[0] != v[1]}
    for name, (old, new) in sorted(changed.items()):
        lines.append(f"    {name.removeprefix('publication/')}: {old or '(new)'} -> {new}")
    if outcome.packages and not changed:
        lines.append("    no package changed version")
    today = date.today()
    stale = [cadence.freshness(s, today) for s in records.sources().values()]
    stale = [f for f in stale if f.stale]
    if stale:
        lines.append("  stale sources (vintage older than cadence + grace): "
                     + ", ".join(f"{f.source_id} ({f.vintage})" for f in stale))
    if outcome.run_ids:
        lines.append(f"  event logs: run {', '.join(r[:8] for r in outcome.run_ids)} in "
                     f"{_relative(Path(os.environ['DAGSTER_HOME']))} (make ui)")
    return "\n".join(lines)


def build(defs: dg.Definitions, instance: dg.DagsterInstance, settings,
          full: bool = False) -> tuple[bool, Outcome, Plan, list[str]]:
    """Mark dead runs failed, then materialise what is missing or stale (in live mode, after
    asking every source for new files). Call it holding `build_lock`."""
    dead = mark_dead_runs(instance)
    for run_id in dead:
        print(f"make run: run {run_id[:8]} had died; marked failed", flush=True)
    outcome = Outcome()
    ok = True
    if settings.source_mode == "live" and not full:
        raw = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "raw"]
        ok = execute(defs, instance, sorted(raw, key=str), outcome,
                     "asking every live source for new files")
    plan = plan_build(defs, instance, settings, full=full)
    if not plan.validates:
        ahead.stop(at_once=True)  # started ahead by main(): no table or package to validate
    if plan.build:
        print(f"make run: {len(plan.build)} to build, {len(plan.skipped)} up to date",
              flush=True)
        ok = execute(defs, instance, plan.build, outcome, "building") and ok
    else:
        print("make run: everything is up to date; nothing to build", flush=True)
    return ok and outcome.success, outcome, plan, dead


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paccto_data.defs.build",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true",
                        help="materialise everything, stale or not (make run FULL=1)")
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print("make run: DAGSTER_HOME is not set (the Makefile sets data/dagster)",
              file=sys.stderr)
        return 2
    # A polite kill (SIGTERM) ends the run the way Ctrl-C does: marked, nothing released.
    signal.signal(signal.SIGTERM, _interrupt)
    start = time.monotonic()
    # The validation worker imports Great Expectations on the second core while this process
    # loads the definitions and plans; build() stops it if nothing needs it.
    ahead.start()
    from paccto_data.definitions import defs  # built from the environment, as `settings`
    from paccto_data.defs.storage import relaxed_sqlite_sync
    from paccto_data.settings import Settings

    relaxed_sqlite_sync()
    settings = Settings.from_env()
    with build_lock(settings), dg.DagsterInstance.get() as instance:
        ok, outcome, plan, dead = build(defs, instance, settings, full=args.full)
        print(summarise(outcome, plan, settings, dead, time.monotonic() - start), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    run_then_exit(main)
