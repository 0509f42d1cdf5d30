"""Incremental builds with Dagster's versions, and the faults: `make run` (paccto_data/defs/build.py)
rebuilds nothing when nothing changed and exactly a source's lineage when its bytes changed; a
blocking check that fails in an automated run stops everything downstream and both releases;
a killed build is marked failed by the next one, and a cancelled one releases nothing."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest
from loopback import Reply

from paccto_data.acquire import records
from paccto_data.definitions import build_definitions
from paccto_data.defs import build as make_run
from paccto_data.defs.upstream import lineage, raw_key, upstream_sensor
from paccto_data.quality import ahead
from paccto_data.quality.status import release_problems
from paccto_data.settings import PROJECT_ROOT
from tests.support import environment, tmp_settings

pytestmark = pytest.mark.e2e

HOMICIDE = "unodc_homicide"
JAMAICA_2022 = b"Jamaica,JAM,2022,53.1146"


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


# --- live mode, in-process: versions, lineage, a failing check ------------------------------


def serve_everything(loopback, monkeypatch, homicide: bytes | None = None, tag: str = "v1"):
    """Every source from the loopback server (ZIP members packed per URL), its URL overrides
    set; `homicide` replaces the bytes of unodc_homicide's file."""
    for source in records.sources().values():
        groups = defaultdict(list)
        for spec in source.files:
            if spec.member:
                groups[spec.url].append(spec)
        for n, specs in enumerate(groups.values()):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for s in specs:
                    archive.writestr(s.name, (source.snapshot_dir / s.name).read_bytes())
            path = loopback.route(f"/{source.id}/bulk-{n}.zip",
                                  Reply(body=buffer.getvalue(), etag=f'"{source.id}-{n}"'))
            for s in specs:
                monkeypatch.setenv(f"PACCTO_URL_{source.id.upper()}__{s.id.upper()}",
                                   loopback.url(f"/{source.id}/bulk-{n}.zip"))
        for spec in source.files:
            if spec.member:
                continue
            body = (source.snapshot_dir / spec.name).read_bytes()
            etag = f'"{source.id}-{spec.id}"'
            if source.id == HOMICIDE and homicide is not None:
                body, etag = homicide, f'"{source.id}-{tag}"'
            path = f"/{source.id}/{spec.name}"
            loopback.route(path, Reply(body=body, etag=etag))
            name = f"PACCTO_URL_{source.id.upper()}" if len(source.files) == 1 \
                else f"PACCTO_URL_{source.id.upper()}__{spec.id.upper()}"
            monkeypatch.setenv(name, loopback.url(path))


def homicide_with(value: bytes) -> bytes:
    source = records.source(HOMICIDE)
    original = (source.snapshot_dir / source.files[0].name).read_bytes()
    assert JAMAICA_2022 in original
    return original.replace(JAMAICA_2022, b"Jamaica,JAM,2022," + value)


def test_a_changed_source_rebuilds_its_lineage_and_a_failing_check_stops_it(
        loopback, monkeypatch, tmp_path):
    settings = tmp_settings(tmp_path, source_mode="live")
    instance = dg.DagsterInstance.ephemeral()
    serve_everything(loopback, monkeypatch)
    with environment(settings):
        defs = build_definitions(settings)
        graph = defs.resolve_asset_graph()
        ok, outcome, _, _ = make_run.build(defs, instance, settings)
        assert ok, (outcome.failed, outcome.check_failures)
        assert set(outcome.built) == {k.to_user_string() for k in graph.get_all_asset_keys()}

        # Nothing changed: every source answers 304 (same data version); nothing else runs,
        # and the validation worker `make run` starts ahead is stopped, unused.
        published = tree_digest(settings.publish_dir)
        ahead.start()
        ok, outcome, plan, _ = make_run.build(defs, instance, settings)
        assert ok and plan.build == [] and ahead._worker is None
        assert {b.split("/")[0] for b in outcome.built} == {"raw"}
        assert tree_digest(settings.publish_dir) == published

        # One source's bytes change: its lineage is rebuilt, and nothing else.
        serve_everything(loopback, monkeypatch, homicide_with(b"53.2146"), "v2")
        ok, outcome, plan, _ = make_run.build(defs, instance, settings)
        assert ok, (outcome.failed, outcome.check_failures)
        downstream = dg.AssetSelection.assets(raw_key(HOMICIDE)).downstream().resolve(graph)
        rebuilt = {dg.AssetKey.from_user_string(b) for b in outcome.built}
        assert {k for k in rebuilt if k.path[0] != "raw"} == downstream - {raw_key(HOMICIDE)}
        assert dg.AssetKey(["staging", "wb_wgi"]) not in rebuilt
        assert dg.AssetKey(["core", "dim_country"]) not in rebuilt
        assert dg.AssetKey(["publication", "lac_homicide"]) in rebuilt
        assert outcome.packages["publication/lac_homicide"][1] != \
            outcome.packages["publication/lac_homicide"][0]  # the data changed: a new version

        # The upstream sensor sees bad bytes; the run it requests fails its blocking check.
        sensor = upstream_sensor(settings, [records.source(HOMICIDE)],
                                 {HOMICIDE: lineage(defs.assets, raw_key(HOMICIDE))})
        cursor = sensor.evaluate_tick(dg.build_sensor_context(instance=instance)).cursor
        serve_everything(loopback, monkeypatch, homicide_with(b"353.1146"), "v3")
        tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
        [request] = tick.run_requests
        warehouse = settings.warehouse.read_bytes()
        published = tree_digest(settings.publish_dir)
        outcome = make_run.Outcome()
        assert not make_run.execute(defs, instance, request.asset_selection, outcome, "sensor")
    failed = "staging/unodc_homicide:great_expectations"
    assert outcome.checks["failed"] == [failed]
    assert "expect_column_values_to_be_between" in outcome.check_failures[failed]
    assert "353.1146" in outcome.check_failures[failed] or "250" in outcome.check_failures[failed]
    assert "core/fact_indicator" not in outcome.built and "warehouse_release" not in outcome.built
    assert settings.warehouse.read_bytes() == warehouse
    assert tree_digest(settings.publish_dir) == published
    blocking = [s.key for c in defs.asset_checks for s in c.check_specs if s.blocking]
    assert any(p.startswith(failed) for p in release_problems(instance, blocking))


# --- the CLI, in a subprocess: runs that die --------------------------------------------------


def cli_env(root: Path) -> dict:
    home = root / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "data" / "dagster" / "dagster.yaml", home / "dagster.yaml")
    settings = tmp_settings(root)
    return {**os.environ, "DAGSTER_HOME": str(home), "PACCTO_SOURCE_MODE": "snapshot",
            "PACCTO_WAREHOUSE": str(settings.warehouse),
            "PACCTO_BUILD_DB": str(settings.build_db), "PACCTO_RAW_DIR": str(settings.raw_dir),
            "PACCTO_PUBLISH_DIR": str(settings.publish_dir), "PACCTO_AUTOMATION": "off"}


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paccto_data.defs.build", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=1200)


def interrupted(env: dict, sig: int, after_steps: int = 4) -> subprocess.Popen:
    """A `make run FULL=1` sent `sig` once `after_steps` steps have finished."""
    process = subprocess.Popen([sys.executable, "-m", "paccto_data.defs.build", "--full"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        if line.startswith(f"  [{after_steps:>2}]"):
            process.send_signal(sig)
            break
    process.stdout.read()
    process.wait(timeout=120)
    return process


def runs(env: dict) -> list[dg.DagsterRun]:
    with pytest.MonkeyPatch.context() as patch:  # dagster.yaml: the runs are in DAGSTER_HOME
        patch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            return list(instance.get_runs())


def test_make_run_skips_what_is_fresh_and_recovers_from_killed_and_cancelled_runs(tmp_path,
                                                                                  cold_cli):
    # The cold build: `make run` in a copy of the project (conftest.cold_cli, made once per
    # test run); this test goes on in a copy of its data folder, with this checkout's code.
    shutil.copytree(cold_cli.root / "data", tmp_path, dirs_exist_ok=True)
    env = cli_env(tmp_path)
    first = cold_cli
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "DEBUG" not in first.stdout + first.stderr
    assert "make run: done" in first.stdout and "checks:" in first.stdout
    warehouse = Path(env["PACCTO_WAREHOUSE"])
    published = Path(env["PACCTO_PUBLISH_DIR"])
    released = (warehouse.read_bytes(), tree_digest(published))

    unchanged = cli(env)
    assert unchanged.returncode == 0, unchanged.stdout[-3000:]
    assert "nothing to build" in unchanged.stdout and "0 built" in unchanged.stdout
    assert (warehouse.read_bytes(), tree_digest(published)) == released

    killed = interrupted(env, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    [dead] = [r for r in runs(env) if r.status == dg.DagsterRunStatus.STARTED]
    recovery = cli(env)
    assert recovery.returncode == 0, recovery.stdout[-3000:] + recovery.stderr[-3000:]
    assert f"run {dead.run_id[:8]} had died; marked failed" in recovery.stdout
    status = {r.run_id: r.status for r in runs(env)}
    assert status[dead.run_id] == dg.DagsterRunStatus.FAILURE
    assert dg.DagsterRunStatus.STARTED not in status.values()

    cancelled = interrupted(env, signal.SIGTERM)
    assert cancelled.returncode != 0
    assert not [r for r in runs(env) if r.status in (dg.DagsterRunStatus.STARTED,
                                                     dg.DagsterRunStatus.STARTING)]
    assert (warehouse.read_bytes(), tree_digest(published)) == released  # nothing released
    after = cli(env)  # recovers without clean-up
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    assert "had died" not in after.stdout
    assert (warehouse.read_bytes(), tree_digest(published)) == released
