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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR_DEFINITIONS = Path(__file__).resolve().parent / "floor_definitions.py"


@dataclass(frozen=True)
class Timed:
    seconds: float  # wall clock
    cpu: float  # user + system seconds of the process and its children
    peak_mib: float  # the largest resident set of the process or any child it waited for


# Linux counts in a child's ru_maxrss the resident set of the process that spawned it (exec
# records the outgoing address space's peak): bench/scale.py, holding the 100x data it had
# just generated, read 281 MiB for a 111 MiB floor. So a small launcher (python -I -S, a few
# MiB) starts the command and reports the command's own wall time, CPU time and peak.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
stderr = process.stderr.read()
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - start
sys.stderr.buffer.write(stderr)
print(json.dumps([os.waitstatus_to_exitcode(status), seconds,
                  usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))
"""


def timed(command: list[str], env: dict | None = None, cwd: Path = ROOT) -> Timed:
    """Run `command` to completion; its wall time, CPU time and peak memory (the largest
    resident set of the process or any descendant it waited for)."""
    import json

    launched = subprocess.run([sys.executable, "-I", "-S", "-c", _LAUNCHER, *command],
                              cwd=cwd, env={**os.environ, **(env or {})},
                              capture_output=True)
    try:
        code, seconds, cpu, peak_kib = json.loads(launched.stdout)
    except ValueError:
        code, seconds, cpu, peak_kib = launched.returncode or 1, 0.0, 0.0, 0
    if code != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{launched.stderr.decode()[-3000:]}")
    return Timed(seconds, cpu, peak_kib / 1024)


def high_water(pid: int | str = "self") -> int:
    """The peak resident bytes of a running process itself (VmHWM, from /proc; 0 once it is
    gone): what a process reports of its own peak, ru_maxrss counting its spawner's (above)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


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
