"""Per-source ingest time: verify the snapshot (sha256) and run each tidy function.

    .venv/bin/python bench/ingest.py [--repeat N]

Prints, per staging table: rows read, rows kept, best and median seconds over N runs
(the first run also pays for imports and the country resolver, reported separately).
"""

from __future__ import annotations

import argparse
import statistics
import time

from paccto_data.acquire import fetch, records
from paccto_data.countries import resolver
from paccto_data.settings import Settings
from paccto_data.sources import staging_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    start = time.perf_counter()
    resolver()
    print(f"country resolver (M49, DataHub, pycountry, overrides): "
          f"{time.perf_counter() - start:.2f} s once")
    print(f"{'table':32} {'read':>9} {'kept':>8} {'verify s':>9} {'tidy best':>10} "
          f"{'tidy median':>12}")
    total = 0.0
    for name, table in sorted(staging_tables().items()):
        source = records.source(table.source_id)
        start = time.perf_counter()
        files = fetch.local_files(source, settings)
        verify = time.perf_counter() - start
        timings, tidy = [], None
        for _ in range(args.repeat):
            start = time.perf_counter()
            tidy = table.tidy(files)
            timings.append(time.perf_counter() - start)
        total += min(timings) + verify
        print(f"{name:32} {tidy.rows_read:9,} {len(tidy.table):8,} {verify:9.3f} "
              f"{min(timings):10.3f} {statistics.median(timings):12.3f}")
    print(f"{'all tables (best)':32} {'':9} {'':8} {'':9} {total:10.2f}")


if __name__ == "__main__":
    main()
