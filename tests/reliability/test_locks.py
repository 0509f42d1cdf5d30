"""One build, release, refresh or `accept` at a time per data directory (paccto_data/lock.py),
and releases that never touch another live process's files: real processes, real locks.

The first test is the fault as issue 12 found it: two publication releases overlapping in two
processes. Before the lock, the second's recovery deleted the first's temporary folder, and
the first then swapped the second's half-written folder into `published/`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from paccto_data.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "published" / "lac-homicide"

# A release whose fill copies a real package file by file, slowly, so that a second release
# started meanwhile overlaps it. It prints its pid, then the outcome, as JSON.
RELEASER = textwrap.dedent("""
    import json, os, shutil, sys, time
    from pathlib import Path
    from paccto_data.publication.release import release_folder

    publish_dir, package, pause = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])

    def fill(tmp):
        target = tmp / package.name
        for source in sorted(p for p in package.rglob("*") if p.is_file()):
            (target / source.relative_to(package)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / source.relative_to(package))
            time.sleep(pause)

    def peak_mib():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

    print(json.dumps({"pid": os.getpid()}), flush=True)
    try:
        release_folder(publish_dir, fill)
        print(json.dumps({"ok": True, "peak_mib": peak_mib()}))
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
""")


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def child_env(root: Path, **extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT),
            "PACCTO_BUILD_DB": str(root / "build" / "warehouse.duckdb"),
            "PACCTO_WAREHOUSE": str(root / "warehouse.duckdb"),
            "PACCTO_PUBLISH_DIR": str(root / "published"), **extra}


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()
                  if p.name not in ("published", "build") and not p.name.endswith(".lock"))


def test_two_overlapping_publication_releases_each_publish_a_whole_tree(tmp_path, table_row):
    publish_dir = tmp_path / "published"
    files = digests(PACKAGE)
    pause = 1.5 / len(files)  # each fill takes about 1.5 s
    start = time.monotonic()
    first = subprocess.Popen([sys.executable, "-c", RELEASER, str(publish_dir), str(PACKAGE),
                              str(pause)], env=child_env(tmp_path), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    json.loads(first.stdout.readline())  # started: its fill is under way
    time.sleep(0.5)
    second = subprocess.Popen([sys.executable, "-c", RELEASER, str(publish_dir), str(PACKAGE),
                               str(pause)], env=child_env(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    outcomes = []
    for process in (first, second):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        outcomes.append(json.loads(out.splitlines()[-1]))
    seconds = time.monotonic() - start
    assert [o["ok"] for o in outcomes] == [True, True], outcomes
    assert digests(publish_dir / PACKAGE.name) == files  # whole, byte for byte
    assert leftovers(tmp_path) == []  # no published.*.tmp / .old left behind
    table_row("two overlapping publication releases, 2 processes (1 try)",
              "both whole, the second waited for the lock",
              f"{max(o['peak_mib'] for o in outcomes):.0f}", f"{seconds:.1f}")


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from paccto_data.lock import data_lock
    from paccto_data.settings import Settings

    with data_lock(Settings.from_env(), "a test holder"):
        Path(sys.argv[1]).write_text("held")
        time.sleep(float(sys.argv[2]))
""")

SECOND = textwrap.dedent("""
    import sys
    from paccto_data.lock import data_lock
    from paccto_data.settings import Settings

    with data_lock(Settings.from_env(), "a second holder"):
        with data_lock(Settings.from_env(), "the same process again"):  # re-entrant
            print("got it")
""")


def hold(tmp_path: Path, seconds: float) -> subprocess.Popen:
    marker = tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(marker), str(seconds)],
                              env=child_env(tmp_path))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert holder.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return holder


def test_a_second_holder_waits_and_is_told_which_process_holds_the_lock(tmp_path):
    holder = hold(tmp_path, 2)
    second = subprocess.run([sys.executable, "-c", SECOND], env=child_env(tmp_path),
                            capture_output=True, text=True, timeout=120, check=False)
    holder.wait(timeout=60)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "got it"
    assert f"is held by pid {holder.pid} on " in second.stderr
    assert "(a test holder:" in second.stderr and "waiting for it" in second.stderr


def test_with_a_timeout_a_second_holder_gives_up_naming_the_holder(tmp_path):
    holder = hold(tmp_path, 30)
    try:
        start = time.monotonic()
        second = subprocess.run([sys.executable, "-c", SECOND],
                                env=child_env(tmp_path, PACCTO_LOCK_TIMEOUT="1"),
                                capture_output=True, text=True, timeout=120, check=False)
        seconds = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode != 0 and "got it" not in second.stdout
    assert "LockBusyError" in second.stderr
    assert f"is held by pid {holder.pid} on " in second.stderr
    assert "gave up after 1 s (PACCTO_LOCK_TIMEOUT)" in second.stderr
    assert seconds < 30


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    holder = hold(tmp_path, 60)
    os.kill(holder.pid, 9)  # SIGKILL: the kernel drops its lock
    holder.wait()
    second = subprocess.run([sys.executable, "-c", SECOND],
                            env=child_env(tmp_path, PACCTO_LOCK_TIMEOUT="5"),
                            capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0 and second.stdout.strip() == "got it", second.stderr
    assert "waiting" not in second.stderr


@pytest.mark.parametrize("command", [
    ["-m", "paccto_data.refresh", "un_m49", "--yes"],
    ["-m", "paccto_data.activities", "accept"],
])
def test_refresh_and_accept_take_the_lock(tmp_path, command):
    holder = hold(tmp_path, 30)
    try:
        waited = subprocess.run([sys.executable, *command], cwd=tmp_path,
                                env=child_env(tmp_path, PACCTO_LOCK_TIMEOUT="0.5"),
                                capture_output=True, text=True, timeout=120, check=False)
    finally:
        holder.kill()
        holder.wait()
    assert waited.returncode == 2, waited.stdout + waited.stderr
    assert f"is held by pid {holder.pid} on " in waited.stdout + waited.stderr
