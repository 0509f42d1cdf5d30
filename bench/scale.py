"""The whole pipeline on a synthetic N× copy of the real data, timed against the floor.

    .venv/bin/python bench/scale.py --factor N [--json FILE]     one factor; JSON on stdout
    .venv/bin/python bench/scale.py --table FILE                 the Markdown table of a JSONL
    make bench                                                   1×, 10×, 100× -> bench/results/

In a temporary directory: bench/synthetic.py copies the project with N× source files in the
sources' own formats (what is scaled, and how, is written there), then `make run`
(`python -m paccto_data.defs.build`) builds everything in a fresh process: acquire, tidy,
staging, every Great Expectations suite, warehouse, marts, warn checks, both releases and the
publication. Prints JSON: wall seconds of the build (and of making the data, apart), seconds
per stage (the builder's own step times, summed by stage), peak RSS (the most the build's
process tree held at once, sampled every 0.1 s from /proc, and the largest single process),
rows per stage (every staging, core and marts table; every published CSV), and the floor
(bench/floor.py) timed in the same run, with the ratios to it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import floor, high_water  # noqa: E402
from synthetic import make_project  # noqa: E402

STEP = re.compile(r"^\s+\[\s*\d+\]\s+(?P<labels>.*)\s+\((?P<seconds>[\d.]+) s\)$")
ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> tuple[int, int]:
    """Of `root` and its descendants, from /proc: the sum of their resident bytes now, and
    the largest peak (VmHWM) of one of them so far."""
    parents, rss = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21]) * PAGE
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in tree), max(map(high_water, tree), default=0)


def run_sampled(command: list[str], env: dict, cwd: Path) -> tuple[float, int, int, str]:
    """Run `command`; (wall seconds, peak summed RSS, peak single RSS, stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak = [0, 0]

    def sample() -> None:
        while process.poll() is None:
            total, largest = _tree_rss(process.pid)
            peak[0], peak[1] = max(peak[0], total), max(peak[1], largest)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read()
    _, status, _ = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-5000:]}")
    return seconds, peak[0], peak[1], output


def stage_of(labels: str) -> str:
    if ":great_expectations" in labels:
        return "gx_suites"
    if ":package_valid" in labels:
        return "publication"  # the package's validation (frictionless, on the worker)
    first = labels.split(" ", 1)[0]
    if ":" in first:
        return "other_checks"  # the warn rules (assets/quality_checks.yaml)
    if first.startswith("raw/") or first.startswith("sources/"):
        return "sources"
    if first.startswith("staging/"):
        return "tidy_and_staging"
    if first.startswith("core/"):
        return "warehouse"
    if first.startswith("marts/"):
        return "marts"
    if first.startswith("warehouse_release"):
        return "release"
    return "publication"


def stages(output: str) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for line in output.splitlines():
        match = STEP.match(line)
        if match:
            stage = stage_of(match["labels"])
            seconds[stage] = round(seconds.get(stage, 0.0) + float(match["seconds"]), 2)
    return seconds


def rows(build_db: Path, published: Path) -> dict[str, dict[str, int]]:
    import duckdb

    counts: dict[str, dict[str, int]] = {}
    with duckdb.connect(str(build_db), read_only=True) as conn:
        tables = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                              "ORDER BY 1, 2").fetchall()
        for schema, table in tables:
            n = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            counts.setdefault(schema, {})[table] = n
    for csv_file in sorted(published.glob("*/data/*.csv")):
        with open(csv_file, "rb") as handle:
            n = sum(1 for _ in handle) - 1
        counts.setdefault("published", {})[f"{csv_file.parent.parent.name}/{csv_file.name}"] = n
    return counts


def measure(factor: int) -> dict:
    base = floor()
    with tempfile.TemporaryDirectory(prefix=f"paccto-scale-{factor}x-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        files = make_project(work / "project", factor)
        generate = time.perf_counter() - start
        (work / "dagster").mkdir()
        if (ROOT / "data" / "dagster" / "dagster.yaml").exists():  # as `make run` has it
            shutil.copy2(ROOT / "data" / "dagster" / "dagster.yaml", work / "dagster")
        env = {**os.environ, "PYTHONPATH": str(work / "project"),
               "DAGSTER_HOME": str(work / "dagster"),
               "PACCTO_SOURCE_MODE": "snapshot",
               "PACCTO_WAREHOUSE": str(work / "warehouse.duckdb"),
               "PACCTO_BUILD_DB": str(work / "build" / "warehouse.duckdb"),
               "PACCTO_RAW_DIR": str(work / "raw"),
               "PACCTO_PUBLISH_DIR": str(work / "published")}
        command = [sys.executable, "-m", "paccto_data.defs.build", "--full"]
        seconds, peak_sum, peak_one, output = run_sampled(command, env, work / "project")
        if f"{work}/project/paccto_data" not in subprocess.run(
                [sys.executable, "-c", "import paccto_data; print(paccto_data.__file__)"],
                cwd=work / "project", env=env, capture_output=True, text=True).stdout:
            raise SystemExit("the build did not run the synthetic copy of the project")
        counts = rows(work / "build" / "warehouse.duckdb", work / "published")
    after = floor()
    base = min(base, after, key=lambda t: t.seconds)
    mib = 1 << 20
    return {
        "factor": factor,
        "seconds": round(seconds, 2),
        "seconds_per_floor": round(seconds / base.seconds, 1),
        "generate_seconds": round(generate, 2),
        "stages_seconds": stages(output),
        "peak_rss_mib": round(peak_sum / mib),
        "peak_rss_largest_process_mib": round(peak_one / mib),
        "peak_rss_per_floor": round(peak_sum / mib / base.peak_mib, 1),
        "floor": {"seconds": round(base.seconds, 2), "peak_rss_mib": round(base.peak_mib)},
        "rows_per_stage": {stage: sum(t.values()) for stage, t in counts.items()},
        "rows": counts,
        "scaled_files_bytes": files,
    }


def table(results: list[dict]) -> str:
    one = next((r for r in results if r["factor"] == 1), results[0])
    lines = ["| factor | build s | /floor | /1× | peak RSS MiB (tree) | /floor | largest process "
             "MiB | staging rows | core rows | marts rows | published rows | floor s, MiB | "
             "making the data s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: r["factor"]):
        n = r["rows_per_stage"]
        lines.append(
            f"| {r['factor']}× | {r['seconds']:.1f} | {r['seconds_per_floor']} | "
            f"{r['seconds'] / one['seconds']:.1f} | {r['peak_rss_mib']} | "
            f"{r['peak_rss_per_floor']} | {r['peak_rss_largest_process_mib']} | "
            f"{n.get('staging', 0):,} | {n.get('core', 0):,} | {n.get('marts', 0):,} | "
            f"{n.get('published', 0):,} | {r['floor']['seconds']}, "
            f"{r['floor']['peak_rss_mib']} | {r['generate_seconds']} |")
    lines += ["", "Seconds per stage (the builder's step times, summed):", "",
              "| factor | " + " | ".join(sorted(one["stages_seconds"])) + " |",
              "|---|" + "---|" * len(one["stages_seconds"])]
    for r in sorted(results, key=lambda r: r["factor"]):
        lines.append(f"| {r['factor']}× | " + " | ".join(
            str(r["stages_seconds"].get(s, "")) for s in sorted(one["stages_seconds"])) + " |")
    base = one["rows"].get("staging", {})
    lines += ["", "Staging rows as a multiple of 1× (a workbook stops at Excel's 1,048,576 rows; "
              "reference tables, the register and TI CPI are not scaled: bench/synthetic.py):",
              "", "| factor | " + " | ".join(sorted(base)) + " |", "|---|" + "---|" * len(base)]
    for r in sorted(results, key=lambda r: r["factor"]):
        staging = r["rows"].get("staging", {})
        lines.append(f"| {r['factor']}× | " + " | ".join(
            f"{staging.get(t, 0) / base[t]:.1f}" if base[t] else "" for t in sorted(base)) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, help="N: the size of the synthetic copy")
    parser.add_argument("--json", type=Path, help="also append the result to this JSONL file")
    parser.add_argument("--table", type=Path, help="print the Markdown table of a JSONL file")
    args = parser.parse_args()
    if args.table:
        results = [json.loads(line) for line in args.table.read_text().splitlines() if line]
        print(table(results), end="")
        return
    if not args.factor or args.factor < 1:
        parser.error("--factor N (N >= 1) or --table FILE")
    result = measure(args.factor)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        with args.json.open("a") as handle:
            handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
