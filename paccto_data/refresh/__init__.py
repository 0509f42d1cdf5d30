"""The maintainers' refresh: download a source's current upstream files, show what changed
against the bundled snapshot, and only on confirmation promote them.

    make refresh SOURCE=wb_population
    python -m paccto_data.refresh wb_population [--yes] [--vintage 2025-12-16] [--limit 20]

1. Download (download.py) every file of the source through the one HTTP client, in live
   mode (`paccto_data.acquire.fetch.acquire`), into a temporary folder (or `--raw-dir`),
   never over `assets/snapshots/`. `PACCTO_URL_*` overrides apply as in any live build.
2. Compare and report (compare.py, report.py): each file unchanged or changed (sha256 and
   bytes, snapshot and upstream); then every staging table of the source
   (`paccto_data.sources.staging_tables()`) is made by its tidy function from the snapshot
   files and from the downloaded files, and the two tables are compared on their key (iso3,
   year, indicator_id and the disaggregations present; the other columns are the values):
   rows added, rows removed, values revised, by country and year, with the first `--limit`
   differences listed.
3. Promote (promotion.py, through the one promoter `paccto_data.acquire.promote`), only when
   confirmed (a y/N question on a terminal, or `--yes`; with neither it refuses; cli.py): the
   downloaded files are copied byte for byte into `assets/snapshots/<id>/` (all staged and
   verified first, then renamed into place, the old files put back on a failure), and the
   YAML's `sha256`, `bytes`, `retrieved` (the download date) and `vintage` (asked for, or
   `--vintage`) are edited in place, keeping its comments and layout. A changed file's
   `taken_from` (where the old bytes were copied from) no longer describes it: it becomes the
   URL actually downloaded when that differs from the catalogue's `url`, and is removed
   otherwise. Sources whose `redistribution` is `internal` are never bundled: refused.

Exit status: 0 nothing changed or promoted; 1 changes found but not promoted (declined, or
no terminal and no `--yes`); 2 refused or failed (unknown or internal source, a download
that failed, downloaded files the tidy functions reject, bad arguments).
"""

from paccto_data.acquire.promote import load, require_bundlable, snapshot_dir, yaml_path
from paccto_data.refresh.cli import main
from paccto_data.refresh.compare import FileChange, Report, TableDiff, compare
from paccto_data.refresh.download import RefreshError, download
from paccto_data.refresh.promotion import promote
from paccto_data.refresh.report import format_report

__all__ = ["FileChange", "RefreshError", "Report", "TableDiff", "compare", "download",
           "format_report", "load", "main", "promote", "require_bundlable", "snapshot_dir",
           "yaml_path"]
