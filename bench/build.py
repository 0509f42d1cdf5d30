"""Time a cold build and a no-change rebuild of every asset; print peak memory.

    make bench            (or: .venv/bin/python bench/build.py)

Each build runs `dagster asset materialize --select '*'` in a fresh process, as `make run`
does, against a temporary directory, so the figures include process start and imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed_build(workdir: Path) -> tuple[float, float]:
    env = {
        **os.environ,
        "PACCTO_WAREHOUSE": str(workdir / "warehouse.duckdb"),
        "PACCTO_BUILD_DB": str(workdir / "build" / "warehouse.duckdb"),
        "PACCTO_RAW_DIR": str(workdir / "raw"),
        "PACCTO_PUBLISH_DIR": str(workdir / "published"),
        "DAGSTER_HOME": str(workdir / "dagster"),
    }
    (workdir / "dagster").mkdir(exist_ok=True)
    dagster = Path(sys.executable).parent / "dagster"
    start = time.perf_counter()
    process = subprocess.Popen([str(dagster), "asset", "materialize", "-m",
                                "paccto_data.definitions", "--select", "*"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="paccto-bench-") as tmp:
        workdir = Path(tmp)
        cold, cold_mem = timed_build(workdir)
        warm, warm_mem = timed_build(workdir)
        size = (workdir / "warehouse.duckdb").stat().st_size
    print(f"cold build:             {cold:6.1f} s   peak RSS {cold_mem:6.0f} MiB")
    print(f"rebuild, nothing new:   {warm:6.1f} s   peak RSS {warm_mem:6.0f} MiB")
    print(f"released warehouse:     {size / 1e6:6.2f} MB")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
