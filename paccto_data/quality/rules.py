"""Quality rules that warn without blocking, evaluated against the build database.

The rules are declared in `assets/quality_checks.yaml` (one entry, one warn-level asset check
in the Dagster wiring). Three kinds:

- `coverage`: an indicator from a source has a value for at least `min_countries` of a
  country group in the latest complete year (the newest year any of them reports, minus
  `provisional_years`).
- `jumps`: consecutive-year changes of every series (country, indicator, source,
  disaggregation) whose indicator matches one of `indicators` (shell patterns) that exceed
  both `absolute` and `relative`, where relative = |change| / max(|previous|, |value|)
  (0.5: one value is twice the other; symmetric, and defined when one of them is 0).
- `cross_source`: one indicator from two sources on the country-years both cover; a
  disagreement exceeds both `absolute` and `relative` (the same relative measure).

The release gates look only at blocking checks, so these never stop a release; the quality
report lists what they found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import duckdb

from paccto_data.fileio import read_yaml
from paccto_data.settings import ASSETS_DIR
from paccto_data.sources import DISAGGREGATIONS
from paccto_data.yamlschema import check_against

RULES_FILE = ASSETS_DIR / "quality_checks.yaml"
RULES_SCHEMA = ASSETS_DIR / "quality_checks.schema.json"
KINDS = ("coverage", "jumps", "cross_source")
COUNTRY_GROUPS = {  # name in the YAML -> predicate on core.dim_country d
    "programme_partners": "d.is_programme_partner",
    "lac": "d.is_lac",
    "all": "TRUE",
}
LISTED = 50  # findings shown in the Markdown table (all of them are in the JSON)

REQUIRED = {
    "coverage": {"indicator", "source", "countries", "provisional_years", "min_countries"},
    "jumps": {"indicators", "countries", "absolute", "relative"},
    "cross_source": {"indicator", "sources", "countries", "absolute", "relative"},
}


class RuleError(ValueError):
    """assets/quality_checks.yaml states something this module cannot check."""


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    table: str
    why: str
    spec: dict  # the YAML entry as written

    def __getattr__(self, item):  # rule.min_countries, rule.indicators, ...
        try:
            return self.spec[item]
        except KeyError:
            raise AttributeError(item) from None

    @property
    def thresholds(self) -> dict:
        return {k: v for k, v in self.spec.items() if k not in ("name", "kind", "table", "why")}


@dataclass
class WarnResult:
    rule: Rule
    passed: bool
    summary: str
    observed: dict
    findings: list[dict] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # of a finding, in display order

    def metadata(self) -> dict:
        """What an engineer needs to act without a notebook: the rule and why, what was
        observed, and every finding with its country, year and values, as
        name -> (kind, value); the wiring turns the kinds into Dagster metadata."""
        metadata = {
            "rule": ("json", {"kind": self.rule.kind, "table": self.rule.table,
                              **self.rule.thresholds}),
            "why_these_thresholds": ("text", self.rule.why),
            "defined_in": ("path", "assets/quality_checks.yaml"),
            "observed": ("json", self.observed),
            "findings": ("int", len(self.findings)),
        }
        if self.findings:
            metadata["findings_list"] = ("json", self.findings)
            metadata["findings_table"] = ("md", markdown(self.findings, self.columns))
        return metadata


def markdown(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows[:LISTED]:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    if len(rows) > LISTED:
        lines.append(f"\n{len(rows) - LISTED} more in findings_list")
    return "\n".join(lines)


def _cell(value) -> str:
    return "" if value is None else str(value).replace("|", "\\|")


@cache
def load_rules(path=RULES_FILE) -> tuple[Rule, ...]:
    """The rules, checked: a typo in the YAML fails when the definitions load, not later."""
    document = read_yaml(path) or {}
    rules, names = [], set()
    for position, entry in enumerate(document.get("checks") or [], start=1):
        where = f"{path.name}, check {position}"
        if not isinstance(entry, dict):
            raise RuleError(f"{where}: not a mapping")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise RuleError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        missing = sorted(({"name", "table", "why"} | REQUIRED[kind]) - set(entry))
        if missing:
            raise RuleError(f"{where} ({entry.get('name')}): missing {', '.join(missing)}")
        if entry["countries"] not in COUNTRY_GROUPS:
            raise RuleError(f"{where} ({entry['name']}): countries {entry['countries']!r} is "
                            f"not one of {', '.join(COUNTRY_GROUPS)}")
        if kind == "cross_source" and len(entry["sources"]) != 2:
            raise RuleError(f"{where} ({entry['name']}): sources must name exactly two")
        if entry["name"] in names:
            raise RuleError(f"{where}: the name {entry['name']!r} is used twice")
        names.add(entry["name"])
        rules.append(Rule(name=entry["name"], kind=kind, table=entry["table"],
                          why=" ".join(str(entry["why"]).split()), spec=dict(entry)))
    # and the schema, for all that reaches SQL (table, ids, patterns) and every other key
    check_against(document, RULES_SCHEMA, path)
    return tuple(rules)


# --- evaluation: pure functions of the build database ---------------------------------------


def evaluate(conn: duckdb.DuckDBPyConnection, rule: Rule) -> WarnResult:
    return {"coverage": _coverage, "jumps": _jumps, "cross_source": _cross_source}[rule.kind](
        conn, rule)


def _countries(rule: Rule) -> str:
    return COUNTRY_GROUPS[rule.countries]


def _round(value, digits: int = 4):
    return None if value is None else round(float(value), digits)


def _coverage(conn, rule: Rule) -> WarnResult:
    group = _countries(rule)
    rows = conn.execute(f"""
        WITH members AS (
            SELECT iso3, name_en FROM core.dim_country d WHERE {group} AND iso3 IS NOT NULL),
        present AS (
            SELECT DISTINCT f.iso3, f.year FROM {rule.table} f JOIN members USING (iso3)
            WHERE f.indicator_id = ? AND f.source_id = ? AND f.value IS NOT NULL)
        SELECT m.iso3, m.name_en, list(p.year ORDER BY p.year) FILTER (p.year IS NOT NULL)
        FROM members m LEFT JOIN present p USING (iso3)
        GROUP BY ALL ORDER BY m.iso3""", [rule.indicator, rule.source]).fetchall()
    years_by_country = {iso3: (name, years or []) for iso3, name, years in rows}
    reported = [y for _, years in years_by_country.values() for y in years]
    members = len(years_by_country)
    if not reported:
        return WarnResult(rule, False, f"{rule.indicator} from {rule.source}: no value for any "
                          f"of the {members} countries ({rule.countries})",
                          {"countries": members, "covered": 0})
    newest = max(reported)
    year = newest - int(rule.provisional_years)
    missing = [{"iso3": iso3, "country": name, "year": year,
                "latest_year_reported": max(years) if years else None}
               for iso3, (name, years) in years_by_country.items() if year not in years]
    covered = members - len(missing)
    passed = covered >= int(rule.min_countries)
    observed = {"year": year, "newest_year_reported": newest, "covered": covered,
                "countries": members, "min_countries": rule.min_countries,
                "missing": [f"{m['iso3']} {m['country']}" for m in missing]}
    verdict = "" if passed else f", below the minimum of {rule.min_countries}"
    summary = (f"{rule.indicator} from {rule.source} in {year} (latest complete year): "
               f"{covered} of {members} countries ({rule.countries}){verdict}")
    if missing:
        summary += "; missing " + ", ".join(m["iso3"] for m in missing)
    return WarnResult(rule, passed, summary, observed, missing,
                      ["iso3", "country", "year", "latest_year_reported"])


def _pattern_sql(patterns: Sequence[str]) -> str:
    """Shell patterns as a SQL predicate on indicator_id (glob is DuckDB's fnmatch)."""
    return "(" + " OR ".join(f"indicator_id GLOB '{p.replace(chr(39), '')}'"
                             for p in patterns) + ")"


def _jumps(conn, rule: Rule) -> WarnResult:
    group = _countries(rule)
    patterns = list(rule.indicators)
    keys = ", ".join(("iso3", "indicator_id", "source_id", *DISAGGREGATIONS))
    frame = conn.execute(f"""
        WITH series AS (
            SELECT f.iso3, d.name_en, f.indicator_id, f.source_id,
                   {', '.join('f.' + c for c in DISAGGREGATIONS)}, f.year, f.value,
                   lag(f.year) OVER w AS previous_year, lag(f.value) OVER w AS previous
            FROM {rule.table} f JOIN core.dim_country d USING (iso3)
            WHERE {group} AND {_pattern_sql(patterns)} AND f.value IS NOT NULL
            WINDOW w AS (PARTITION BY {', '.join('f.' + k for k in keys.split(', '))}
                         ORDER BY f.year))
        SELECT *, abs(value - previous) AS change,
               abs(value - previous) / greatest(abs(previous), abs(value)) AS relative
        FROM series
        WHERE previous_year = year - 1
          AND abs(value - previous) > ?
          AND abs(value - previous) > ? * greatest(abs(previous), abs(value))
        ORDER BY indicator_id, source_id, iso3, {', '.join(DISAGGREGATIONS)}, year""",
                         [float(rule.absolute), float(rule.relative)]).df()
    compared = conn.execute(f"""
        SELECT count(DISTINCT indicator_id) FROM {rule.table}
        WHERE {_pattern_sql(patterns)}""").fetchone()[0]
    findings = []
    for r in frame.itertuples(index=False):
        finding = {"iso3": r.iso3, "country": r.name_en, "indicator_id": r.indicator_id,
                   "source_id": r.source_id, "year": int(r.year),
                   "previous": _round(r.previous), "value": _round(r.value),
                   "change": _round(r.value - r.previous), "relative": _round(r.relative, 3)}
        breakdown = ", ".join(f"{c}={getattr(r, c)}" for c in DISAGGREGATIONS
                              if getattr(r, c) not in ("total", None))
        finding["disaggregation"] = breakdown or "total"
        findings.append(finding)
    country_years = sorted({(f["iso3"], f["year"]) for f in findings})
    observed = {"indicators_matched": int(compared), "jumps": len(findings),
                "country_years": [f"{iso3} {year}" for iso3, year in country_years]}
    if not compared:
        return WarnResult(rule, False, f"no indicator in {rule.table} matches "
                          f"{', '.join(patterns)}: the check compared nothing", observed)
    summary = (f"{len(findings)} year-on-year jumps beyond |change| > {rule.absolute} and "
               f"relative > {rule.relative} in {', '.join(patterns)} ({rule.countries})")
    if country_years:
        shown = ", ".join(f"{iso3} {year}" for iso3, year in country_years[:12])
        summary += f": {shown}" + (" …" if len(country_years) > 12 else "")
    return WarnResult(rule, not findings, summary, observed, findings,
                      ["iso3", "country", "indicator_id", "source_id", "disaggregation",
                       "year", "previous", "value", "change", "relative"])


def _cross_source(conn, rule: Rule) -> WarnResult:
    group = _countries(rule)
    first, second = rule.sources
    on = ", ".join(("iso3", "year", "indicator_id", *DISAGGREGATIONS))
    frame = conn.execute(f"""
        WITH a AS (SELECT * FROM {rule.table} WHERE indicator_id = ? AND source_id = ?
                   AND value IS NOT NULL),
             b AS (SELECT * FROM {rule.table} WHERE indicator_id = ? AND source_id = ?
                   AND value IS NOT NULL)
        SELECT a.iso3, d.name_en, a.year, {', '.join('a.' + c for c in DISAGGREGATIONS)},
               a.value AS first, b.value AS second,
               abs(a.value - b.value) AS difference,
               abs(a.value - b.value) / nullif(greatest(abs(a.value), abs(b.value)), 0)
                   AS relative
        FROM a JOIN b USING ({on}) JOIN core.dim_country d ON d.iso3 = a.iso3
        WHERE {group}
        ORDER BY a.iso3, a.year, {', '.join('a.' + c for c in DISAGGREGATIONS)}""",
                         [rule.indicator, first, rule.indicator, second]).df()
    bad = frame[(frame.difference > float(rule.absolute))
                & (frame.relative > float(rule.relative))]
    findings = [{"iso3": r.iso3, "country": r.name_en, "year": int(r.year),
                 first: _round(r.first), second: _round(r.second),
                 "difference": _round(r.first - r.second), "relative": _round(r.relative, 3)}
                for r in bad.itertuples(index=False)]
    relative = frame.relative.dropna()
    observed = {"country_years_compared": len(frame), "disagreements": len(findings),
                "median_relative_difference": _round(relative.median(), 4) if len(relative)
                else None,
                "max_relative_difference": _round(relative.max(), 4) if len(relative) else None}
    if frame.empty:
        return WarnResult(rule, False, f"{rule.indicator}: {first} and {second} share no "
                          "country-year: the check compared nothing", observed)
    summary = (f"{rule.indicator}: {first} and {second} disagree on {len(findings)} of "
               f"{len(frame)} country-years (|difference| > {rule.absolute} and relative > "
               f"{rule.relative})")
    if findings:
        summary += ": " + ", ".join(f"{f['iso3']} {f['year']}" for f in findings[:12])
    return WarnResult(rule, not findings, summary, observed, findings,
                      ["iso3", "country", "year", first, second, "difference", "relative"])
