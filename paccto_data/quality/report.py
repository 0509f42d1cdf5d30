"""The data of the quality report (published/quality/index.html, rendered from it by
paccto_data/site/pages.py): per table, every expectation of its Great Expectations suite and
its outcome; the warnings of the non-blocking quality checks; and a coverage matrix of
indicators x countries x years. Nothing in it depends on when or in which run it was built
(no timestamps, no run ids), so an unchanged build gives the same data.

Where the outcomes come from:
- Blocking suites: the latest evaluation of each check in the Dagster instance (what the
  release gate read), not a second validation: the report asset depends on every table, so
  Dagster runs it only after every blocking check of the run has passed, and re-running ~450
  expectations would double the build's validation time (bench/validation.py) to produce the
  same figures.
- Warn checks: re-evaluated here from the build database with the same function and rules
  (assets/quality_checks.yaml). Non-blocking checks give Dagster no reason to order them
  before the report, and their evaluation is cheap (well under a second each) and
  deterministic, so the report states exactly what those checks state.
- Rows dropped from a published package: the latest evaluation of each package's
  `no_silent_loss` check (evaluated with the package build, which compares it with the
  published version; the report asset depends on the packages, so it runs after them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from duckdb import Error as DuckDBError

from paccto_data.quality.rules import WarnResult, evaluate
from paccto_data.quality.status import latest_check_statuses

PRESENT, SUPPRESSED, ABSENT = "█", "▒", "·"  # a coverage cell: a value, only suppressed, none


@dataclass
class TableResult:
    table: str
    check: str
    status: str  # passed | failed | could not run | never ran | stale | not yet evaluated
    description: str
    expectations: list[dict] = field(default_factory=list)
    could_not_run: str | None = None

    @property
    def anchor(self) -> str:
        return "t-" + self.table.replace(".", "-")

    @property
    def failed(self) -> int:
        """Expectations that did not pass."""
        return sum(1 for e in self.expectations if not e.get("success"))


@dataclass
class CoverageBlock:
    """One grid: indicators of one source whose country x year coverage is identical (the
    four series of a WGI dimension, the count and rate of a CTS offence) share it."""

    indicators: list[tuple[str, str, str]]  # indicator_id, title, unit
    source_id: str
    first_year: int
    last_year: int
    rows: list[tuple[str, str, bool, str]]  # iso3, name, is partner, cells
    partners_latest: int  # partners with a value in last_year
    partners_any: int  # partners with a value in any year
    countries: int  # LAC countries with a value in any year

    @property
    def anchor(self) -> str:
        return f"c-{self.indicators[0][0]}-{self.source_id}"


@dataclass
class PackageRemoval:
    """A package whose latest build drops rows that its published version holds."""

    package: str  # the asset's name, e.g. lac_homicide
    version: str
    published_version: str
    tables: list[dict]  # versions.Removal.as_dict(): table, key, count, rows (key, reason), note

    @property
    def count(self) -> int:
        return sum(t["count"] for t in self.tables)


@dataclass
class ReportData:
    tables: list[TableResult]
    warnings: list[WarnResult]  # in the YAML's order
    coverage: list[CoverageBlock]
    sources: list[tuple[str, str, str]]  # source_id, title, vintage
    # Sources whose vintage is older than their cadence plus grace (acquire/cadence.py), as of
    # the newest retrieval date in core.dim_source (not today: the page stays reproducible).
    stale_sources: list = field(default_factory=list)
    freshness_as_of: str = ""
    removals: list[PackageRemoval] = field(default_factory=list)

    @property
    def expectations(self) -> int:
        return sum(len(t.expectations) for t in self.tables)

    @property
    def expectations_failed(self) -> int:
        return sum(t.failed for t in self.tables)


# --- collecting ------------------------------------------------------------------------------


def check_results(instance, check_keys: Sequence) -> list[TableResult]:
    """The latest evaluation of every blocking check (paccto_data/quality/status.py)."""
    results = []
    for s in latest_check_statuses(instance, check_keys):
        rows = s.metadata.get("results") or []
        results.append(TableResult(s.table, s.check, s.status, s.description,
                                   [dict(r) for r in rows], s.metadata.get("could_not_run")))
    return results


def removals(instance, check_keys: Sequence) -> list[PackageRemoval]:
    """The packages whose latest `no_silent_loss` evaluation found dropped rows."""
    out = []
    for s in latest_check_statuses(instance, check_keys):
        if s.passed or not s.metadata.get("removed"):
            continue
        out.append(PackageRemoval(s.table.split(".")[-1], str(s.metadata.get("version", "")),
                                  str(s.metadata.get("published_version", "")),
                                  [dict(t) for t in s.metadata["removed"]]))
    return out


def warnings(conn, rules) -> list:
    results = []
    for rule in rules:
        try:
            results.append(evaluate(conn, rule))
        except DuckDBError as exc:
            results.append(WarnResult(rule, False, f"check could not run: {exc}", {}))
    return results


def coverage(conn) -> list[CoverageBlock]:
    """Per indicator and source, which LAC countries have a value in which year: the
    programme partners always (a partner without data shows as an empty row), other LAC
    countries when they have data."""
    cells = conn.execute("""
        SELECT f.indicator_id, f.source_id, f.iso3, f.year,
               bool_or(f.value IS NOT NULL) AS has_value
        FROM core.fact_indicator f JOIN core.dim_country d USING (iso3)
        WHERE d.is_lac
        GROUP BY ALL""").fetchall()
    countries = conn.execute("""
        SELECT iso3, name_en, is_programme_partner FROM core.dim_country
        WHERE is_lac AND iso3 IS NOT NULL ORDER BY NOT is_programme_partner, iso3""").fetchall()
    titles = {r[0]: (r[1] or r[0], r[2] or "") for r in conn.execute(
        "SELECT indicator_id, title_en, unit FROM core.dim_indicator").fetchall()}
    series: dict[tuple[str, str], dict[str, dict[int, bool]]] = {}
    for indicator, source, iso3, year, has_value in cells:
        series.setdefault((indicator, source), {}).setdefault(iso3, {})[int(year)] = has_value
    blocks: dict[tuple, CoverageBlock] = {}
    for (indicator, source), by_country in sorted(series.items()):
        years = sorted({y for cells_ in by_country.values() for y in cells_})
        first, last = years[0], years[-1]
        rows = []
        for iso3, name, partner in countries:
            present = by_country.get(iso3, {})
            if not partner and not present:
                continue
            line = "".join(
                (PRESENT if present[y] else SUPPRESSED) if y in present else ABSENT
                for y in range(first, last + 1))
            rows.append((iso3, name, bool(partner), line))
        title, unit = titles.get(indicator, (indicator, ""))
        shape = (source, first, last, tuple(rows))
        if shape in blocks:
            blocks[shape].indicators.append((indicator, title, unit))
            continue
        partners = [iso3 for iso3, _, partner in countries if partner]
        blocks[shape] = CoverageBlock(
            [(indicator, title, unit)], source, first, last, rows,
            partners_latest=sum(1 for iso3 in partners if by_country.get(iso3, {}).get(last)),
            partners_any=sum(1 for iso3 in partners if any(by_country.get(iso3, {}).values())),
            countries=len(by_country))
    return list(blocks.values())


def stale_sources(conn) -> tuple[list, str]:
    """Sources stale by their vintage, as of the newest retrieval date of the catalogue."""
    from datetime import date

    from paccto_data.acquire import cadence, records

    as_of = conn.execute("SELECT max(retrieved) FROM core.dim_source").fetchone()[0]
    if not as_of:
        return [], ""
    day = date.fromisoformat(str(as_of)[:10])
    known = records.sources()
    ids = [r[0] for r in conn.execute(
        "SELECT source_id FROM core.dim_source ORDER BY 1").fetchall()]
    states = [cadence.freshness(known[i], day) for i in ids if i in known]
    return [s for s in states if s.stale], day.isoformat()


def collect(instance, check_keys: Sequence, conn, rules,
            removal_keys: Sequence = ()) -> ReportData:
    sources = [(r[0], r[1] or "", r[2] or "") for r in conn.execute(
        "SELECT source_id, title, vintage FROM core.dim_source ORDER BY source_id").fetchall()]
    stale, as_of = stale_sources(conn)
    return ReportData(check_results(instance, check_keys), warnings(conn, rules),
                      coverage(conn), sources, stale, as_of,
                      removals(instance, removal_keys) if removal_keys else [])
