"""Time the builder (`make run`: `python -m paccto_data.defs.build`) cold and with nothing
changed, and the code-location load, as ratios to the floor (bench/floor.py) timed in the same
run; print peak memory.

    make bench            (or: .venv/bin/python bench/build.py)

Each build runs `python -m paccto_data.defs.build` in a fresh process, as `make run` does,
against a temporary directory (its own DAGSTER_HOME, build database, warehouse and
publication), so the figures include process start and imports. The
code-location load is `import paccto_data.definitions` in a fresh process (what `dagster dev`
and every run pay before the first step). Wall seconds move with the machine's load; the
ratios to the floor, and CPU seconds, much less.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import ROOT as ROOT_DIR  # noqa: E402
from floor import Timed, floor, timed  # noqa: E402


def environment(workdir: Path) -> dict:
    (workdir / "dagster").mkdir(exist_ok=True)
    committed = ROOT_DIR / "data" / "dagster" / "dagster.yaml"  # as `make run` has it
    if committed.exists() and not (workdir / "dagster" / "dagster.yaml").exists():
        shutil.copy2(committed, workdir / "dagster" / "dagster.yaml")
    return {
        "PACCTO_WAREHOUSE": str(workdir / "warehouse.duckdb"),
        "PACCTO_BUILD_DB": str(workdir / "build" / "warehouse.duckdb"),
        "PACCTO_RAW_DIR": str(workdir / "raw"),
        "PACCTO_PUBLISH_DIR": str(workdir / "published"),
        "DAGSTER_HOME": str(workdir / "dagster"),
    }


def build(workdir: Path) -> Timed:
    """`make run` in a fresh process: builds what is missing or stale."""
    return timed([sys.executable, "-m", "paccto_data.defs.build"], env=environment(workdir))


def code_location_load(repeat: int = 3) -> Timed:
    runs = [timed([sys.executable, "-c", "import paccto_data.definitions"])
            for _ in range(repeat)]
    return min(runs, key=lambda t: t.seconds)


def line(label: str, t: Timed, base: Timed) -> str:
    return (f"{label:28} {t.seconds:6.2f} s {t.seconds / base.seconds:5.1f}x   "
            f"CPU {t.cpu:6.2f} s {t.cpu / base.cpu:5.1f}x   "
            f"peak RSS {t.peak_mib:5.0f} MiB {t.peak_mib / base.peak_mib:4.1f}x")


def main() -> None:
    base = floor()
    load = code_location_load()
    with tempfile.TemporaryDirectory(prefix="paccto-bench-") as tmp:
        workdir = Path(tmp)
        cold = build(workdir)
        warm = build(workdir)
        size = (workdir / "warehouse.duckdb").stat().st_size
    after = floor()  # the load may have changed during the builds: the floor again
    base = min(base, after, key=lambda t: t.seconds)
    print(f"{'':28} {'wall':>8} {'/floor':>6}   {'':3} {'CPU':>6} {'/floor':>7}")
    print(line("floor (2 trivial assets)", base, base))
    print(line("code-location load", load, base))
    print(line("cold make run", cold, base))
    print(line("make run, nothing changed", warm, base))
    print(f"released warehouse: {size / 1e6:.2f} MB "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
