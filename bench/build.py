"""Time the builder (`make run`: `python -m paccto_data.defs.build`) cold and with nothing
changed, and the code-location load, as ratios to the floor (bench/floor.py) timed in the same
run; print peak memory.

    make bench            (or: .venv/bin/python bench/build.py [--rounds N])

Each build runs `python -m paccto_data.defs.build` in a fresh process, as `make run` does,
against a temporary directory (its own DAGSTER_HOME, build database, warehouse and
publication), so the figures include process start and imports. The
code-location load is `import paccto_data.definitions` in a fresh process (what `dagster dev`
and every run pay before the first step).

Wall seconds move with the machine's load, on a shared VM by 10-20 % within the hour, and the
floor with them. So the builds run in rounds (`--rounds`, default 3): each round times the
floor (the fastest of three) just before its cold and unchanged builds and divides by it; the
ratios printed are the median of the rounds, with their range.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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


def line(label: str, pairs: list[tuple[Timed, Timed]]) -> str:
    """`label`'s median wall, CPU and peak RSS over the rounds, each / that round's floor."""
    def median(f):
        return statistics.median(f(t, base) for t, base in pairs)

    ratios = sorted(t.seconds / base.seconds for t, base in pairs)
    spread = f" ({ratios[0]:.1f}-{ratios[-1]:.1f})" if len(pairs) > 1 else ""
    return (f"{label:28} {median(lambda t, _: t.seconds):6.2f} s "
            f"{median(lambda t, b: t.seconds / b.seconds):5.1f}x{spread:12}  "
            f"CPU {median(lambda t, _: t.cpu):6.2f} s {median(lambda t, b: t.cpu / b.cpu):5.1f}x   "
            f"peak RSS {median(lambda t, _: t.peak_mib):5.0f} MiB "
            f"{median(lambda t, b: t.peak_mib / b.peak_mib):4.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3,
                        help="floor, cold build and unchanged build, this many times (3)")
    args = parser.parse_args()
    floors, colds, warms = [], [], []
    for _ in range(args.rounds):
        floors.append(floor())
        with tempfile.TemporaryDirectory(prefix="paccto-bench-") as tmp:
            workdir = Path(tmp)
            colds.append(build(workdir))
            warms.append(build(workdir))
            size = (workdir / "warehouse.duckdb").stat().st_size
    load = code_location_load()
    base = min(floors, key=lambda t: t.seconds)
    print(f"{args.rounds} round(s); each build / the floor timed just before it, median (range)")
    print(f"{'':28} {'wall':>8} {'/floor':>6}{'':12}  {'':3} {'CPU':>6} {'/floor':>7}")
    print(line("floor (2 trivial assets)", list(zip(floors, floors))))
    print(line("code-location load", [(load, base)]) + "   (against the fastest floor)")
    print(line("cold make run", list(zip(colds, floors))))
    print(line("make run, nothing changed", list(zip(warms, floors))))
    print(f"released warehouse: {size / 1e6:.2f} MB "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
