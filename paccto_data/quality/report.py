"""The quality report: one static HTML page (published/quality/index.html), readable offline.

It shows, per table, every expectation of its Great Expectations suite and its outcome, the
warnings of the non-blocking quality checks, and a coverage matrix of indicators x countries
x years. Nothing in it depends on when or in which run it was built (no timestamps, no run
ids), so an unchanged build writes the same bytes.

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
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from duckdb import Error as DuckDBError

from paccto_data.quality.rules import WarnResult, evaluate
from paccto_data.quality.status import latest_check_statuses

PRESENT, SUPPRESSED, ABSENT = "█", "▒", "·"
OBSERVED_CHARS = 160


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
class ReportData:
    tables: list[TableResult]
    warnings: list[WarnResult]  # in the YAML's order
    coverage: list[CoverageBlock]
    sources: list[tuple[str, str, str]]  # source_id, title, vintage
    # Sources whose vintage is older than their cadence plus grace (acquire/cadence.py), as of
    # the newest retrieval date in core.dim_source (not today: the page stays reproducible).
    stale_sources: list = field(default_factory=list)
    freshness_as_of: str = ""

    @property
    def expectations(self) -> int:
        return sum(len(t.expectations) for t in self.tables)

    @property
    def expectations_failed(self) -> int:
        return sum(1 for t in self.tables for e in t.expectations if not e.get("success"))


# --- collecting ------------------------------------------------------------------------------


def check_results(instance, check_keys: Sequence) -> list[TableResult]:
    """The latest evaluation of every blocking check (paccto_data/quality/status.py)."""
    results = []
    for s in latest_check_statuses(instance, check_keys):
        rows = s.metadata.get("results") or []
        results.append(TableResult(s.table, s.check, s.status, s.description,
                                   [dict(r) for r in rows], s.metadata.get("could_not_run")))
    return results


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


def collect(instance, check_keys: Sequence, conn, rules) -> ReportData:
    sources = [(r[0], r[1] or "", r[2] or "") for r in conn.execute(
        "SELECT source_id, title, vintage FROM core.dim_source ORDER BY source_id").fetchall()]
    stale, as_of = stale_sources(conn)
    return ReportData(check_results(instance, check_keys), warnings(conn, rules),
                      coverage(conn), sources, stale, as_of)


# --- rendering -------------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 0 1rem 3rem; color: #1f2328; }
h1 { font-size: 1.6rem; margin-top: 1.5rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #1a7f37; font-weight: 600; }
.failed, .could-not-run, .never-ran { color: #cf222e; font-weight: 600; }
.stale, .not-yet-evaluated, .warning { color: #9a6700; font-weight: 600; }
details { margin: .3rem 0; } summary { cursor: pointer; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
            font-size: 12px; }
pre.grid { line-height: 1.15; margin: .3rem 0 1rem; }
.muted { color: #57606a; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _short(value, limit: int = OBSERVED_CHARS) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _status(status: str) -> str:
    return f'<span class="{status.replace(" ", "-")}">{_e(status)}</span>'


def _rule(kwargs: dict) -> str:
    return ", ".join(f"{k}={_short(v, 120)}" for k, v in (kwargs or {}).items()
                     if k not in ("column", "column_list", "condition_parser"))


def _expectation_rows(result: TableResult) -> list[str]:
    lines = ["<table><tr><th>#</th><th>expectation</th><th>rule</th><th>outcome</th>"
             "<th>observed</th><th>failing rows</th><th>sample of failing rows</th></tr>"]
    for number, row in enumerate(result.expectations, start=1):
        outcome = "passed" if row.get("success") else "failed"
        failing = row.get("failing_rows")
        observed = row.get("observed_value")
        if observed is None and row.get("details"):
            observed = row["details"]  # e.g. the values missing from a distinct set
        lines.append(
            f"<tr><td class=num>{number}</td><td><code>{_e(row.get('expectation', ''))}</code>"
            f"</td><td><code>{_e(_rule(row.get('kwargs')))}</code></td><td>{_status(outcome)}"
            f"</td><td>{_e(_short(observed))}</td>"
            f"<td class=num>{'' if failing is None else _e(failing)}</td>"
            f"<td>{_e(_short(row.get('sample') or '', 300)) if not row.get('success') else ''}"
            "</td></tr>")
    lines.append("</table>")
    return lines


def _findings_table(result) -> list[str]:
    if not result.findings:
        return []
    columns = result.columns
    lines = ["<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in columns) + "</tr>"]
    for finding in result.findings:
        cells = []
        for column in columns:
            value = finding.get(column)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            cells.append(f"<td{' class=num' if numeric else ''}>"
                         f"{'' if value is None else _e(value)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</table>")
    return lines


def _grid(block: CoverageBlock) -> str:
    width = block.last_year - block.first_year + 1
    decades = [" "] * (width + 4)
    for offset in range(width):
        year = block.first_year + offset
        if year % 10 == 0 or offset == 0:
            label = str(year)
            if all(c == " " for c in decades[offset:offset + len(label) + 1]):
                decades[offset:offset + len(label)] = list(label)
    digits = "".join(str((block.first_year + o) % 10) for o in range(width))
    pad = " " * 6
    lines = [pad + "".join(decades).rstrip(), pad + digits]
    for iso3, name, partner, cells in block.rows:
        mark = "*" if partner else " "
        lines.append(f'<abbr title="{_e(name)}">{_e(iso3)}</abbr>{mark}  {cells}')
    return '<pre class="grid">' + "\n".join(lines) + "</pre>"


def render(data: ReportData) -> str:
    failed_tables = [t for t in data.tables if t.status != "passed"]
    active = [w for w in data.warnings if not w.passed]
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>paccto-data: quality report</title>", f"<style>{STYLE}</style>", "</head>",
           "<body>", "<h1>paccto-data: quality report</h1>"]
    out.append(
        f"<p>{len(data.tables)} tables, each with a blocking Great Expectations suite: "
        f"{len(data.tables) - len(failed_tables)} passed, {len(failed_tables)} did not; "
        f"{data.expectations} expectations, {data.expectations_failed} failed. "
        f"{len(data.warnings)} quality checks that warn without blocking: {len(active)} "
        "warning(s).</p>")
    out.append('<p class=muted>Outcomes of the blocking checks are their latest evaluations, '
               "the ones the warehouse and publication releases were gated on; the warnings "
               "are evaluated from the same build database with the rules in "
               "<code>assets/quality_checks.yaml</code>. Suites: <code>expectations/"
               "&lt;schema&gt;.&lt;table&gt;.json</code>.</p>")
    out.append("<ul><li><a href=\"#warnings\">Warnings of the latest build</a></li>"
               "<li><a href=\"#tables\">Expectations per table</a></li>"
               "<li><a href=\"#coverage\">Coverage: indicators x countries x years</a></li>"
               "<li><a href=\"#sources\">Data vintages</a></li></ul>")

    out.append('<h2 id="warnings">Warnings of the latest build</h2>')
    out.append("<table><tr><th>check</th><th>kind</th><th>outcome</th><th>summary</th></tr>")
    for w in data.warnings:
        out.append(f'<tr><td><a href="#w-{_e(w.rule.name)}"><code>{_e(w.rule.name)}</code></a>'
                   f"</td><td>{_e(w.rule.kind)}</td><td>"
                   f"{_status('ok') if w.passed else '<span class=warning>warning</span>'}"
                   f"</td><td>{_e(w.summary)}</td></tr>")
    out.append("</table>")
    for w in data.warnings:
        out.append(f'<h3 id="w-{_e(w.rule.name)}"><code>{_e(w.rule.name)}</code> '
                   f"({_e(w.rule.kind)} on <code>{_e(w.rule.table)}</code>)</h3>")
        thresholds = ", ".join(f"{k}={_short(v, 80)}" for k, v in w.rule.thresholds.items())
        out.append(f"<p><b>Rule:</b> <code>{_e(thresholds)}</code><br><b>Why:</b> "
                   f"{_e(w.rule.why)}<br><b>Outcome:</b> {_e(w.summary)}</p>")
        out.extend(_findings_table(w))

    out.append('<h2 id="tables">Expectations per table</h2>')
    out.append("<table><tr><th>table</th><th>check</th><th>outcome</th><th>expectations</th>"
               "<th>failed</th></tr>")
    for t in data.tables:
        failed = sum(1 for e in t.expectations if not e.get("success"))
        out.append(f'<tr><td><a href="#{t.anchor}"><code>{_e(t.table)}</code></a></td>'
                   f"<td>{_e(t.check)}</td><td>{_status(t.status)}</td>"
                   f"<td class=num>{len(t.expectations)}</td><td class=num>{failed}</td></tr>")
    out.append("</table>")
    for t in data.tables:
        is_open = " open" if t.status != "passed" else ""
        out.append(f'<details id="{t.anchor}"{is_open}><summary><code>{_e(t.table)}</code>: '
                   f"{_status(t.status)}, {len(t.expectations)} expectations "
                   f"(<code>expectations/{_e(t.table)}.json</code>)</summary>")
        if t.status != "passed":
            out.append(f"<p>{_e(t.description)}</p>")
        if t.could_not_run:
            out.append(f"<p><b>Could not run:</b> {_e(t.could_not_run)}</p>")
        if t.expectations:
            out.extend(_expectation_rows(t))
        out.append("</details>")

    out.append('<h2 id="coverage">Coverage: indicators x countries x years</h2>')
    out.append(f"<p>One grid per indicator and source in <code>core.fact_indicator</code>: a "
               f"row per country (ISO3; hover for the name; <code>*</code> marks the 31 "
               f"programme partners, always listed; other LAC countries when they have data), "
               f"a column per year. <code>{PRESENT}</code> a value, <code>{SUPPRESSED}</code> "
               f"only suppressed values (e.g. flag &lt;5), <code>{ABSENT}</code> nothing.</p>")
    partners = sum(1 for b in data.coverage[:1] for row in b.rows if row[2])
    out.append("<table><tr><th>indicators</th><th>source</th><th>years</th>"
               "<th>LAC countries</th><th>partners, any year</th>"
               "<th>partners, newest year</th></tr>")
    for b in data.coverage:
        ids = ", ".join(f"<code>{_e(i)}</code>" for i, _, _ in b.indicators)
        out.append(f'<tr><td><a href="#{_e(b.anchor)}">{ids}</a></td><td>{_e(b.source_id)}'
                   f"</td><td>{b.first_year}-{b.last_year}</td><td class=num>{b.countries}</td>"
                   f"<td class=num>{b.partners_any} of {partners}</td>"
                   f"<td class=num>{b.partners_latest} in {b.last_year}</td></tr>")
    out.append("</table>")
    for b in data.coverage:
        names = "; ".join(f"<code>{_e(i)}</code> {_e(title)} ({_e(unit)})"
                          for i, title, unit in b.indicators)
        out.append(f'<details id="{_e(b.anchor)}"><summary>{names}; from '
                   f"{_e(b.source_id)}, {b.first_year}-{b.last_year}, {b.countries} countries"
                   "</summary>")
        out.append(_grid(b))
        out.append("</details>")

    out.append('<h2 id="sources">Data vintages</h2>')
    out.append("<table><tr><th>source</th><th>title</th><th>vintage</th></tr>")
    for source_id, title, vintage in data.sources:
        out.append(f"<tr><td><code>{_e(source_id)}</code></td><td>{_e(title)}</td>"
                   f"<td>{_e(vintage)}</td></tr>")
    out.append("</table>")
    if data.freshness_as_of:
        stale = "; ".join(f"<code>{_e(s.source_id)}</code> ({_e(s.vintage)}, next vintage due "
                          f"by {s.due.isoformat()})" for s in data.stale_sources) or "none"
        out.append(f"<p>Stale as of {_e(data.freshness_as_of)} (vintage older than the "
                   f"publisher's cadence plus grace, <code>release:</code> in "
                   f"<code>assets/sources/</code>): {stale}.</p>")
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


def write(folder: Path, page: str) -> Path:
    """Write index.html through a temporary file and a rename: a reader never sees half."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "index.html"
    tmp = folder / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path
