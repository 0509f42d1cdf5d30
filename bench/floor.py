"""The floor every bench ratio is taken to, timed in the same run as the measure.

    .venv/bin/python bench/floor.py          (prints the floor)

The floor is the cheapest real Dagster build: `dagster asset materialize` of two trivial
assets (bench/floor_definitions.py) with the in-process executor, in a fresh process and a
fresh DAGSTER_HOME, as `make run` starts. The machine's speed and load move a build and its
floor together, so "14x the floor" means the same on a laptop and on a shared CI runner,
where seconds do not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR_DEFINITIONS = Path(__file__).resolve().parent / "floor_definitions.py"


@dataclass(frozen=True)
class Timed:
    seconds: float  # wall clock
    cpu: float  # user + system seconds of the process and its children
    peak_mib: float  # the largest resident set of the process or any child it waited for


def timed(command: list[str], env: dict | None = None, cwd: Path = ROOT) -> Timed:
    """Run `command` to completion; its wall time, CPU time and peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()[-3000:]}")
    # ru_maxrss of wait4 is the largest of the child and the descendants it waited for
    return Timed(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def floor(repeat: int = 3) -> Timed:
    """The fastest of `repeat` floor builds (the first also warms the file cache)."""
    dagster = Path(sys.executable).parent / "dagster"
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="paccto-floor-") as home:
            runs.append(timed([str(dagster), "asset", "materialize", "-f",
                               str(FLOOR_DEFINITIONS), "--select", "*"],
                              env={"DAGSTER_HOME": home}))
    return min(runs, key=lambda t: t.seconds)


if __name__ == "__main__":
    t = floor()
    print(f"floor: {t.seconds:.2f} s wall, {t.cpu:.2f} s CPU, peak RSS {t.peak_mib:.0f} MiB "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)")
