"""Publication and validation time per package, at today's size and scaled up 100×.

    .venv/bin/python bench/publication.py [--build-db data/build/warehouse.duckdb] [--scale 100]

It needs a build database (`make run` writes data/build/warehouse.duckdb). The scaled copy
is a scratch copy of it in which every table a package reads, except the dimensions its keys
point to (core.dim_country, core.dim_source, core.dim_indicator), holds its real rows
`--scale` times over: copy k shifts `year` by 100·k (and renumbers activity ids), so keys stay
unique and the values are real. (The spec's `ACT-[0-9]{4}` pattern is widened for the
renumbered ids in the scaled run only.)

For each package and size, one fresh process (so its peak memory is its own) times:
  build     publication.package.build_package: query, licence gate, CSV + Parquet, descriptor, docs;
  rebuild   the same against the first build as `previous` (the version comparison on the
            primary keys; unchanged data, so the version and every byte are kept);
  validate  publication.validation.validate_package: frictionless on the CSV tables, our bytes/sha256,
            documents and Parquet-twin checks;
and the catalogue (catalog.json, DCAT, pages, charts) of all packages together. It prints
seconds, rows, megabytes written and peak RSS, and the ratio of time at scale to time today.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHIFT = 100  # years between copies
# table -> how copy k (a column `k`) changes a row so its key stays unique
SCALE_UP = {
    "core.fact_indicator": "* REPLACE (year + {shift} * k AS year)",
    "core.fact_drug_seizure": "* REPLACE (year + {shift} * k AS year)",
    "marts.country_year": "* REPLACE (year + {shift} * k AS year)",
    "core.dim_activity": "* REPLACE (activity_id || '-' || k AS activity_id)",
    "core.bridge_activity_country": "* REPLACE (activity_id || '-' || k AS activity_id)",
}


def scaled_database(build_db: Path, target: Path, scale: int) -> dict[str, int]:
    import duckdb

    shutil.copy(build_db, target)
    rows = {}
    with duckdb.connect(str(target)) as conn:
        for table, select in SCALE_UP.items():
            conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT "
                         f"{select.format(shift=SHIFT)} FROM {table}, "
                         f"range({scale}) AS copies(k)")
            conn.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS k")
            rows[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        conn.execute("CHECKPOINT")
    return rows


def widened(spec):
    """The spec with the activity-id pattern widened for renumbered ids."""
    import dataclasses

    resources = []
    for r in spec.resources:
        fields = tuple(dataclasses.replace(f, constraints={
            k: v for k, v in f.constraints.items() if not (k == "pattern" and "ACT-" in v)})
            for f in r.fields)
        resources.append(dataclasses.replace(r, fields=fields))
    return dataclasses.replace(spec, resources=tuple(resources))


def measure_one(db: Path, name: str, out: Path, scaled: bool) -> dict:
    """In a child process: build, rebuild against the first build, validate one package."""
    import duckdb

    from paccto_data.publication.package import build_package
    from paccto_data.publication.spec import COUNTRIES, package_specs
    from paccto_data.publication.validation import validate_package

    spec = package_specs()[name]
    if scaled:
        spec = widened(spec)
    first, second = out / "first" / name, out / "second" / name
    with duckdb.connect(str(db), read_only=True) as conn:
        start = time.perf_counter()
        report = build_package(conn, spec, first)
        built = time.perf_counter()
        again = build_package(conn, spec, second, previous=first)
        rebuilt = time.perf_counter()
    problems = validate_package(second)
    validated = time.perf_counter()
    if problems:
        raise SystemExit(f"{name}: not valid:\n  " + "\n  ".join(problems[:10]))
    if again.version != report.version or again.changes:
        raise SystemExit(f"{name}: an unchanged rebuild changed the version")
    data_rows = sum(f.rows for f in report.files if f.format == "csv"
                    and f.resource != COUNTRIES)
    size = sum(p.stat().st_size for p in first.rglob("*") if p.is_file())
    return {"package": name, "rows": data_rows, "bytes": size,
            "build_s": built - start, "rebuild_s": rebuilt - built,
            "validate_s": validated - rebuilt}


def measure_catalogue(root: Path) -> dict:
    from paccto_data.site import catalogue

    start = time.perf_counter()
    catalogue.write_catalogue(root)
    written = time.perf_counter()
    problems = catalogue.check_catalogue(root)
    if problems:
        raise SystemExit("catalogue not valid:\n  " + "\n  ".join(problems[:10]))
    return {"package": "(catalogue)", "rows": 0,
            "bytes": sum(p.stat().st_size for p in root.glob("*") if p.is_file())
            + sum(p.stat().st_size for p in (root / "charts").glob("*")),
            "build_s": written - start, "rebuild_s": 0.0,
            "validate_s": time.perf_counter() - written}


def run_child(arguments: list[str]) -> dict:
    """Run this script on one package in a fresh process; its result and peak RSS (MiB)."""
    process = subprocess.Popen([sys.executable, __file__, *arguments], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mib"] = result.pop("_peak_kib") / 1024
    return result


def main() -> None:
    from paccto_data.publication.spec import package_specs

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-db", type=Path, default=ROOT / "data/build/warehouse.duckdb")
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child: one package
    parser.add_argument("--catalogue", type=Path, help=argparse.SUPPRESS)  # child
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scaled", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one or args.catalogue:
        from floor import high_water

        result = (measure_one(args.db, args.one, args.out, args.scaled) if args.one
                  else measure_catalogue(args.catalogue))
        result["_peak_kib"] = high_water() // 1024
        print(json.dumps(result))
        return

    if not args.build_db.exists():
        raise SystemExit(f"{args.build_db}: no build database; run `make run` first "
                         "(or pass --build-db)")

    names = sorted(package_specs())
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="paccto-bench-publication-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        scaled_rows = scaled_database(args.build_db, work / "scaled.duckdb", args.scale)
        scale_up_s = time.perf_counter() - start
        for label, db, scaled in (("1x", args.build_db, False),
                                  (f"{args.scale}x", work / "scaled.duckdb", True)):
            out = work / label
            results[label] = {}
            for name in names:
                arguments = ["--one", name, "--db", str(db), "--out", str(out)]
                results[label][name] = run_child(arguments + (["--scaled"] if scaled else []))
            results[label]["(catalogue)"] = run_child(["--catalogue", str(out / "first")])

    print(f"scaled copy ({args.scale}x, {scale_up_s:.1f} s): "
          + ", ".join(f"{t} {n:,} rows" for t, n in scaled_rows.items()))
    print()
    header = (f"{'package':28} {'size':>5} {'rows':>11} {'MB':>8} {'build s':>8} "
              f"{'rebuild s':>9} {'valid s':>8} {'peak MiB':>9} {'µs/row':>7}")
    print(header)
    print("-" * len(header))
    for label in results:
        for name, r in results[label].items():
            per_row = (r["build_s"] + r["validate_s"]) / r["rows"] * 1e6 if r["rows"] else 0
            print(f"{name:28} {label:>5} {r['rows']:>11,} {r['bytes'] / 1e6:>8.2f} "
                  f"{r['build_s']:>8.2f} {r['rebuild_s']:>9.2f} {r['validate_s']:>8.2f} "
                  f"{r['peak_mib']:>9.0f} {per_row:>7.1f}")
        print()
    small, large = results["1x"], results[f"{args.scale}x"]
    print(f"time at {args.scale}x / time at 1x (build + rebuild + validate), "
          f"against the row ratio {args.scale}:")
    for name in names:
        a = sum(small[name][k] for k in ("build_s", "rebuild_s", "validate_s"))
        b = sum(large[name][k] for k in ("build_s", "rebuild_s", "validate_s"))
        rows = large[name]["rows"] / max(small[name]["rows"], 1)
        print(f"  {name:28} {b / a:6.1f}x for {rows:5.0f}x the rows "
              f"(peak memory {small[name]['peak_mib']:.0f} -> {large[name]['peak_mib']:.0f} MiB)")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
