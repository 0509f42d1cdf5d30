"""Real kills (issue 12, item 5): `python -m paccto_data.defs.build` (make run) in a copy of the
project, sent SIGKILL at points chosen from the run's own events, at least five times a point:

    download               the loopback server has sent half of a changed file (live mode)
    staging_write          a staging table written, not yet checkpointed
    warehouse_release      the release's temporary file written, not yet renamed
    publication_fill       the new published tree assembled beside the old one
    between_swap_renames   the old published tree renamed aside, the new one not in place

The moment is chosen by the run itself: the server's request log for a download, and for the
others the one test hook, PACCTO_TEST_PAUSE_AT (paccto_data/pausepoints.py: the process writes
a marker and sleeps there); the kill is a real os.kill(pid, SIGKILL) of the real process.

Each try first changes the bytes of one source (unodc_drug_seizures, whose lineage is the
smallest that reaches both releases), so the build has something to release. After each kill:
the released warehouse opens and holds every table with the rows it had; `published/` is the
previous release or, byte for byte, the one the next build makes (a kill between the two
renames leaves it aside, and the next build restores it before anything else); the next build
succeeds with no clean-up; and then no temporary file is left anywhere.

One cold build per test run (shared with test_incremental.py, conftest.cold_cli) and one live
build of a copy of it, shared by every pytest-xdist worker; one copy of that per point,
rebuilt incrementally try after try; the points run on whichever worker is free.
PACCTO_KILL_TRIES (default 5) sets the tries per point.

And one polite kill: SIGTERM during a download ends the run at once, as Ctrl-C does.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from paccto_data.settings import PROJECT_ROOT
from tests.support import Project, shared_build
from tests.workbooks import WorkbookCopy

pytestmark = pytest.mark.e2e

TRIES = int(os.environ.get("PACCTO_KILL_TRIES", "5"))
SOURCE, NAME = "unodc_drug_seizures", "7.1_Drug_seizures_2018-2022.xlsx"
CELL, KILOGRAMS = "H2605", 659133.85  # a 2022 seizure; the edited copy adds one kilogram
PAUSE_POINTS = ("staging_write", "warehouse_release", "publication_fill", "between_swap_renames")
LEFTOVER = re.compile(r".*\.(tmp|old|part)(\.wal)?$|^\.promote-.*|^published\..*")
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")


@dataclass
class Ran:
    returncode: int
    output: str
    peak_mib: float
    seconds: float


def build_env(project: Project, **extra: str) -> dict:
    env = {k: v for k, v in project.env.items() if k not in _PROXY_VARIABLES}
    env.update(PACCTO_AUTOMATION="off", **extra)
    return env


def run_build(project: Project, env: dict, kill_when=None, timeout: float = 600,
              sig: int = signal.SIGKILL) -> Ran:
    """The builder in the copy; with `kill_when`, sent `sig` (SIGKILL) as soon as that is true.
    Its peak RSS is read from /proc while it runs."""
    log = project.data / f"build-{time.monotonic_ns()}.log"
    start, peak = time.monotonic(), 0.0
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "paccto_data.defs.build"],
                                   cwd=project.root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        while process.poll() is None:
            peak = max(peak, _vm_hwm(process.pid))
            if kill_when is not None and kill_when():
                os.kill(process.pid, sig)
                break
            assert time.monotonic() - start < timeout, log.read_text()[-3000:]
            time.sleep(0.05)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text(errors="replace")
    if os.environ.get("PACCTO_KILL_LOGS"):
        shutil.copy(log, Path(os.environ["PACCTO_KILL_LOGS"]) / log.name)
    log.unlink()
    return Ran(process.returncode, output, peak, time.monotonic() - start)


def _vm_hwm(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def published(project: Project) -> dict[str, str] | None:
    folder = project.data / "published"
    if not folder.is_dir():
        return None
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def warehouse(project: Project) -> tuple[dict[str, int], float]:
    """Every released table with its rows, and the seizures' total kilograms."""
    with duckdb.connect(str(project.warehouse), read_only=True) as conn:
        tables = {f"{s}.{t}": conn.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]
                  for s, t in conn.execute(
                      "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        kilograms = conn.execute("SELECT sum(kilograms) FROM core.fact_drug_seizure").fetchone()
    return tables, round(kilograms[0], 2)


def leftovers(project: Project) -> list[str]:
    return sorted(str(p.relative_to(project.root)) for p in project.data.rglob("*")
                  if LEFTOVER.fullmatch(p.name))


def variants(folder: Path) -> list[bytes]:
    """The bundled workbook, and a copy with one more kilogram in one cell."""
    original = PROJECT_ROOT / "assets" / "snapshots" / SOURCE / NAME
    folder.mkdir(parents=True, exist_ok=True)
    edited = WorkbookCopy(original).make(folder, cells={CELL: KILOGRAMS + 1})["data"]
    return [original.read_bytes(), edited.read_bytes()]


def serve_sources(server, env: dict) -> None:
    """Every source from the loopback server, as test_incremental serves them, into `env`."""
    from tests.test_incremental import serve_everything

    class Collect:
        def setenv(self, name, value):
            env[name] = value

    serve_everything(server, Collect())


def _cold_live(folder: Path, cold_cli) -> None:
    """A copy of the cold command-line build (conftest.cold_cli) built once more in live mode
    against the loopback server (every source downloaded once), and the two workbooks the
    tries serve (variants)."""
    from loopback import Loopback

    shutil.copytree(cold_cli.root, folder / "project", symlinks=True)
    project = Project(folder / "project", folder / "project" / "data")
    with Loopback() as server:
        env = build_env(project, PACCTO_SOURCE_MODE="live")
        serve_sources(server, env)
        ran = run_build(project, env)
        assert ran.returncode == 0, ran.output[-3000:]
    for n, body in enumerate(variants(folder / "variants")):
        (folder / f"variant-{n}").write_bytes(body)


@pytest.fixture(scope="session")
def cold_live(tmp_path_factory, cold_cli):
    """_cold_live, made once per test run whichever worker asks first (support.shared_build),
    so that the points can run on every worker; every point copies it."""
    assert cold_cli.returncode == 0, cold_cli.stdout[-3000:] + cold_cli.stderr[-3000:]
    folder = shared_build(tmp_path_factory, "kills-cold-live",
                          lambda target: _cold_live(target, cold_cli))
    root = folder / "project"
    files = [(folder / f"variant-{n}").read_bytes() for n in range(2)]
    return root, files, warehouse(Project(root, root / "data"))[0]


def point_copy(cold, tmp_path: Path) -> Project:
    root = tmp_path / "project"
    shutil.copytree(cold[0], root, symlinks=True)
    return Project(root, root / "data")


def record(table_row, point: str, tries: int, survived: int, peak: float,
           seconds: float) -> None:
    table_row(f"SIGKILL at {point} ({tries} tries)", f"{survived}/{tries} survived; bytes lost: 0",
              f"{peak:.0f}", f"{seconds:.1f}")


def check_after_kill(project: Project, killed: Ran, before: dict, tables: dict,
                     kilograms: set[float]) -> dict | None:
    """What a kill may leave: the warehouse whole (either release), published/ the previous
    release, or (killed between the renames) missing with the previous release aside."""
    assert killed.returncode == -signal.SIGKILL, killed.output[-3000:]
    released, total = warehouse(project)
    assert released == tables and total in kilograms, (released, total)
    after = published(project)
    if after is None:  # between the two renames: the previous release waits aside, whole
        [aside] = project.data.glob("published.*.old")
        assert {p.relative_to(aside).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(aside.rglob("*")) if p.is_file()} == before
    else:
        assert after == before
    return after


def check_next_build(project: Project, env: dict, before: dict, tables: dict,
                     kilograms: float) -> Ran:
    ran = run_build(project, env)
    assert ran.returncode == 0, ran.output[-3000:]
    assert "make run: done" in ran.output and "had died; marked failed" in ran.output
    assert published(project) != before  # the changed source reached the publication
    assert warehouse(project) == (tables, kilograms)
    assert leftovers(project) == []
    return ran


POINTS = ("download", *PAUSE_POINTS)


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_a_point_of_the_build_loses_nothing(cold_live, tmp_path, loopback,
                                                      table_row, point):
    from loopback import Reply

    project = point_copy(cold_live, tmp_path)
    _, files, tables = cold_live
    env = build_env(project, PACCTO_SOURCE_MODE="live")
    serve_sources(loopback, env)
    path, marker = f"/{SOURCE}/{NAME}", tmp_path / "paused"
    peak, start, survived = 0.0, time.monotonic(), 0
    for attempt in range(1, TRIES + 1):
        before, (_, old_kg) = published(project), warehouse(project)
        new_kg = round(old_kg + (1 if attempt % 2 else -1), 2)
        body, etag = files[attempt % 2], f'"{SOURCE}-{attempt}"'
        loopback.clear_log()
        if point == "download":  # half the body, then a stall: the kill lands mid-download
            loopback.route(path, Reply(body=body, etag=etag, stall=120,
                                       stall_after=len(body) // 2))
            seen: list[float] = []

            def kill_when(seen=seen) -> bool:  # the run's own request, half its body sent
                if not seen and loopback.requests_to(path):
                    seen.append(time.monotonic())
                return bool(seen) and time.monotonic() - seen[0] > 0.5

            killed = run_build(project, env, kill_when=kill_when)
            assert seen, f"try {attempt}: never asked for {path}:\n{killed.output[-3000:]}"
        else:
            loopback.route(path, Reply(body=body, etag=etag))
            marker.unlink(missing_ok=True)
            killed = run_build(project, {**env, "PACCTO_TEST_PAUSE_AT": f"{point}={marker}"},
                               kill_when=marker.exists)
            assert marker.exists(), \
                f"try {attempt}: never reached {point}:\n{killed.output[-3000:]}"
        after_kill = check_after_kill(project, killed, before, tables, {old_kg, new_kg})
        loopback.route(path, Reply(body=body, etag=etag))
        ran = check_next_build(project, env, before, tables, new_kg)
        if after_kill is None:  # restored first thing, before any step (and any gate)
            restored = ran.output.index("make run: restored the previous release")
            assert restored < ran.output.index("make run: asking every live source")
        peak = max(peak, killed.peak_mib, ran.peak_mib)
        survived += 1
    record(table_row, point, TRIES, survived, peak, time.monotonic() - start)


def test_sigterm_during_a_download_ends_the_run_at_once_and_releases_nothing(
        cold_live, tmp_path, loopback):
    """A polite kill ends the run the way Ctrl-C does, even inside a source's step, whose
    download is otherwise tried again: no retry, nothing released, no run left STARTED."""
    import dagster as dg
    from loopback import Reply

    project = point_copy(cold_live, tmp_path)
    _, files, tables = cold_live
    env = build_env(project, PACCTO_SOURCE_MODE="live")
    serve_sources(loopback, env)
    before, released = published(project), warehouse(project)
    path = f"/{SOURCE}/{NAME}"
    loopback.route(path, Reply(body=files[1], etag='"sigterm"', stall=120,
                               stall_after=len(files[1]) // 2))
    ran = run_build(project, env, sig=signal.SIGTERM,
                    kill_when=lambda: bool(loopback.requests_to(path)))
    assert ran.returncode not in (0, -signal.SIGKILL), ran.output[-3000:]
    assert "trying again" not in ran.output and "will retry" not in ran.output
    assert len(loopback.requests_to(path)) == 1  # asked once, never again
    assert ran.seconds < 100  # it did not wait for the stalled body (120 s)
    assert published(project) == before and warehouse(project) == released
    home = str(project.data / "dagster")
    with pytest.MonkeyPatch.context() as patch:  # dagster.yaml: the runs are in DAGSTER_HOME
        patch.setenv("DAGSTER_HOME", home)
        with dg.DagsterInstance.get() as instance:
            statuses = {r.status for r in instance.get_runs(limit=1)}
    assert statuses == {dg.DagsterRunStatus.FAILURE}
    assert leftovers(project) == []
