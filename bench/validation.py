"""Time Great Expectations validation per table, as the blocking checks run it.

    .venv/bin/python bench/validation.py [BUILD_DB] [--warn]
                                       (default: PACCTO_BUILD_DB, after `make run`)
    .venv/bin/python bench/validation.py --fresh     (make run into a temporary directory first)

Reads every table that has a suite in expectations/ from the build database into pandas and
validates it with `paccto_data.suites.validate` (the function behind every blocking check),
`--repeat` times. Prints rows, expectations, read seconds, and the first and best validation
seconds per table (a build runs each suite once, so `first` is what a check step pays),
and separately the one-off costs every check process pays: `import great_expectations` (as
suites.import_gx does it) and the ephemeral GX context with its shared pandas datasource.

`--warn` also times the non-blocking quality checks (assets/quality_checks.yaml). The total
validation time is also printed as a ratio to the floor (bench/floor.py) timed in this run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fixed_cost(suites) -> float:
    """What a validate call costs besides its expectations' metrics."""
    import statistics

    import pandas as pd

    frame = pd.DataFrame({"iso3": ["JAM", "URY"] * 10, "year": range(20)})
    suite = {"name": "bench", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "iso3"}}]}
    times = []
    for _ in range(51):
        start = time.perf_counter()
        suites.validate(frame, suite)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_db", nargs="?", help="the build database (default: PACCTO_BUILD_DB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per table, best kept")
    parser.add_argument("--warn", action="store_true", help="also time the warn checks")
    parser.add_argument("--fresh", action="store_true",
                        help="build into a temporary directory first (make run)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import tempfile

    from build import build, environment
    from floor import floor

    base = floor()
    if args.fresh:
        with tempfile.TemporaryDirectory(prefix="paccto-validation-") as tmp:
            build(Path(tmp))
            args.build_db = environment(Path(tmp))["PACCTO_BUILD_DB"]
            run(args, base)
        return
    run(args, base)


def run(args, base) -> None:
    from paccto_data.quality import suites

    start = time.perf_counter()
    suites.import_gx()  # the import every check process pays once, as the checks import it
    gx_import = time.perf_counter() - start

    import duckdb

    from paccto_data.settings import EXPECTATIONS_DIR, Settings
    from paccto_data.warehouse.tables import read_table

    start = time.perf_counter()
    suites.prepare()
    gx_context = time.perf_counter() - start

    path = Path(args.build_db) if args.build_db else Settings.from_env().build_db
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run `make run` first (or pass a build database)")
    conn = duckdb.connect(str(path), read_only=True)
    existing = {f"{s}.{t}" for s, t in conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}

    rows = []
    for suite_file in sorted(EXPECTATIONS_DIR.glob("*.json")):
        table = suite_file.stem
        if table not in existing:
            rows.append((table, None, None, None, None, None, "not in the build database"))
            continue
        suite = suites.load_suite_file(suite_file)
        start = time.perf_counter()
        frame = read_table(conn, table)
        parameters = suites.warehouse_parameters(conn, suites.parameter_names(suite))
        read = time.perf_counter() - start
        times, outcome = [], None
        for _ in range(max(1, args.repeat)):
            start = time.perf_counter()
            outcome = suites.validate(frame, suite, parameters,
                                       key_columns=suite.get("meta", {}).get("key_columns"),
                                       name=table)
            times.append(time.perf_counter() - start)
        status = "passed" if outcome.passed else suites.summary(outcome)[:60]
        rows.append((table, len(frame), len(suite["expectations"]), read, times[0], min(times),
                     status))

    print(f"{'table':36} {'rows':>7} {'exp':>4} {'read s':>7} {'first s':>8} {'best s':>7} "
          f"{'ms/exp':>7}  outcome")
    total = [0, 0, 0.0, 0.0, 0.0]
    for table, n, exp, read, first, best, status in rows:
        if n is None:
            print(f"{table:36} {'':>7} {'':>4} {'':>7} {'':>8} {'':>7} {'':>7}  {status}")
            continue
        total = [a + b for a, b in zip(total, (n, exp, read, first, best))]
        print(f"{table:36} {n:7d} {exp:4d} {read:7.3f} {first:8.3f} {best:7.3f} "
              f"{1000 * best / exp:7.1f}  {status}")
    n, exp, read, first, best = total
    print(f"{'total':36} {n:7d} {exp:4d} {read:7.3f} {first:8.3f} {best:7.3f} "
          f"{1000 * best / max(exp, 1):7.1f}")
    print(f"validation of every suite (first runs) {first:.2f} s = {first / base.seconds:.1f}x the "
          f"floor ({base.seconds:.2f} s, timed in this run)")
    print(f"one-off: import great_expectations {gx_import:.2f} s; "
          f"GX context and shared pandas datasource {gx_context:.2f} s")
    print(f"fixed cost of one validate call (one not-null expectation, 20 rows, median of "
          f"50): {1000 * fixed_cost(suites):.1f} ms")

    if args.warn:
        from paccto_data.quality import rules as quality_rules

        print()
        print(f"{'warn check':44} {'seconds':>8}  outcome")
        for rule in quality_rules.load_rules():
            start = time.perf_counter()
            result = quality_rules.evaluate(conn, rule)
            seconds = time.perf_counter() - start
            print(f"{rule.name:44} {seconds:8.3f}  {result.summary[:70]}")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} cores, best of {args.repeat})")


if __name__ == "__main__":
    main()
