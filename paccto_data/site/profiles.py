"""The country profiles: `countries/<ISO3>.html` and `countries/<ISO3>.es.html`, one page per
country or area of Latin America and the Caribbean in each language (pages.py renders them
through templates/country.html).

Everything on a profile comes from the released packages (their Parquet files), like the
catalogue's charts, so nothing a package does not publish can appear (the licence gate holds:
Transparency International's CPI is in no package):

- the charts of profiles.yaml (each chart's SQL runs once on its package for every country;
  chart_specs.py's drawing functions and the one renderer, charts.py, draw each country's);
- the headline figures: each series' latest value and year;
- the gaps, said plainly: a series that stops before the package's last year for it ("No
  UNODC homicide rate figure after 2020 ..."), a series other countries have and this one does
  not, a chart with no figure at all for the country;
- the EL PAcCTO activities that named the country (paccto-activities: id, title, date, role,
  link to the public page that reports it);
- links to the packages, their documents and the files the charts read.

A chart of a package that is not released is left out; a declaration that is wrong (a bad
query, a missing column or translation) stops the build with a SiteError naming the chart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from paccto_data.fileio import read_yaml
from paccto_data.site import SiteError, charts
from paccto_data.site.chart_specs import KINDS, WORDS, ChartSpec, _spec
from paccto_data.site.packages import Package
from paccto_data.site.strings import LANGUAGES, strings

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
PROFILES_DIR = "countries"
ACTIVITIES = "paccto-activities"
OPTIONAL = ("series", "series_es", "unit", "unit_es")


def profile_path(iso3: str, lang: str) -> str:
    """The page of a country, relative to the release: countries/JAM.html, .es.html."""
    return f"{PROFILES_DIR}/{iso3}{'' if lang == 'en' else '.' + lang}.html"


@dataclass(frozen=True)
class ProfileChart:
    spec: ChartSpec
    subject: dict[str, str]  # what the chart measures, for the gap sentences


@dataclass
class SeriesFigure:
    """One series of a chart for one country: its latest value and its gap, if any."""

    label: dict[str, str]
    name: dict[str, str]  # as a gap sentence names it
    unit: dict[str, str]
    last_year: int | None  # the country's last year with a value (None: no value)
    last_value: float | None
    latest_year: int  # the package's last year for this series, any country


@dataclass
class Section:
    """One chart of a profile."""

    id: str
    package: Package
    title: dict[str, str]
    note: dict[str, str]
    subject: dict[str, str]
    svg: dict[str, str] | None  # None: the country has no figure
    series: list[SeriesFigure]
    files: list[str]  # the CSV files the chart reads, relative to the release


@dataclass
class Profile:
    iso3: str
    country: dict  # the row of the countries table
    sections: list[Section] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    activities_package: Package | None = None

    def name(self, lang: str) -> str:
        return self.country["name_es" if lang == "es" else "name_en"]

    def path(self, lang: str) -> str:
        return profile_path(self.iso3, lang)

    def gaps(self, lang: str) -> list[str]:
        t = strings(lang)
        out = []
        for s in self.sections:
            if s.svg is None:
                out.append(t["gap_none"].format(subject=s.subject[lang], country=self.name(lang),
                                                package=s.package.name))
                continue
            for f in s.series:
                if f.last_year is None:
                    out.append(t["gap_missing"].format(series=f.name[lang],
                                                       country=self.name(lang)))
                elif f.last_year < f.latest_year:
                    out.append(t["gap_after"].format(series=f.name[lang], last=f.last_year,
                                                     latest=f.latest_year))
        return out

    def packages(self) -> list[Package]:
        seen = {s.package.name: s.package for s in self.sections}
        if self.activities_package is not None:
            seen.setdefault(self.activities_package.name, self.activities_package)
        return list(seen.values())


# --- reading profiles.yaml ------------------------------------------------------------------


def load_profile_charts(path: Path = PROFILES_FILE) -> list[ProfileChart]:
    entries = read_yaml(path)
    if not isinstance(entries, list):
        raise SiteError(f"{path.name}: expected a list of charts")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise SiteError(f"{path.name}: every chart is a mapping with an id")
        subject = {}
        words = {}
        for lang in LANGUAGES:
            texts = dict(entry.get(lang) or {})
            subject[lang] = texts.pop("subject", None)
            if not isinstance(subject[lang], str) or not subject[lang].strip():
                raise SiteError(f"{path.name}: chart {entry['id']}: subject has no text in "
                                f"{lang}")
            words[lang] = texts
        spec = _spec(entry | words, path.name)
        if spec.kind != "line":
            raise SiteError(f"{path.name}: chart {spec.id}: a profile draws line charts")
        out.append(ProfileChart(spec, subject))
    ids = [c.spec.id for c in out]
    if len(set(ids)) != len(ids):
        raise SiteError(f"{path.name}: chart ids are not unique: {ids}")
    return out


# --- querying -------------------------------------------------------------------------------


def _sources_view(con: duckdb.DuckDBPyConnection) -> None:
    from paccto_data.acquire import records

    rows = []
    for s in records.sources().values():
        short = re.search(r"\(([A-Z][A-Za-z-]*)\)$", s.publisher)
        rows.append((s.id, s.title, s.publisher, short[1] if short else s.publisher))
    con.execute("CREATE TEMP TABLE sources (source_id VARCHAR, title VARCHAR, "
                "publisher VARCHAR, short VARCHAR)")
    if rows:
        con.executemany("INSERT INTO sources VALUES (?, ?, ?, ?)", rows)


def _query(package: Package, sql: str, where: str) -> list[dict]:
    try:
        with package.sql() as con:
            _sources_view(con)
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise SiteError(f"{where}: its SQL failed on package {package.name}: {exc}") from exc


def chart_rows(chart: ProfileChart, package: Package) -> dict[str, list[dict]]:
    """The rows of a profile chart, by country."""
    spec = chart.spec
    where = f"profile chart {spec.id} ({PROFILES_FILE.name})"
    rows = _query(package, spec.sql, where)
    needed = ("iso3", *KINDS[spec.kind][0])
    if rows and (missing := [c for c in needed if c not in rows[0]]):
        raise SiteError(f"{where}: its SQL returns no column {', '.join(missing)}")
    by_country: dict[str, list[dict]] = {}
    for row in rows:
        by_country.setdefault(row["iso3"], []).append(row)
    return by_country


def table_files(package: Package, sql: str) -> list[str]:
    """The CSV files of the package's tables that the SQL names."""
    out = []
    for r in package.descriptor["resources"]:
        if r["format"] == "csv" and re.search(rf'\b{re.escape(r["name"])}\b', sql):
            out.append(f"{package.name}/{r['path']}")
    return out


# --- drawing --------------------------------------------------------------------------------


def _inline(svg: str, chart_id: str) -> str:
    """The SVG inside a page: its ids made unique on the page."""
    return (svg.replace('id="chart-title"', f'id="{chart_id}-title"')
            .replace('id="chart-desc"', f'id="{chart_id}-desc"')
            .replace('aria-labelledby="chart-title chart-desc"',
                     f'aria-labelledby="{chart_id}-title {chart_id}-desc"'))


def section(chart: ProfileChart, package: Package, rows: list[dict],
            latest: dict[str, tuple[dict, int]], country: dict) -> Section:
    spec = chart.spec
    try:
        words = {lang: {key: text.format(country=country[f"name_{lang}"], **(rows[0] if rows
                                                                             else {}))
                        for key, text in spec.words[lang].items()} for lang in LANGUAGES}
    except (KeyError, IndexError, ValueError) as exc:
        raise SiteError(f"profile chart {spec.id} ({PROFILES_FILE.name}): a text names {exc}, "
                        "which is not a column of its SQL") from exc
    figures = []
    for label, (first, year) in latest.items():
        own = [r for r in rows if r["label"] == label and r["y"] is not None]
        last = max(own, key=lambda r: r["x"]) if own else None
        figures.append(SeriesFigure(
            label={"en": first["label"], "es": first["label_es"]},
            name={"en": first.get("series") or first["label"],
                  "es": first.get("series_es") or first["label_es"]},
            unit={"en": first.get("unit") or "", "es": first.get("unit_es") or ""},
            last_year=int(last["x"]) if last else None,
            last_value=float(last["y"]) if last else None, latest_year=year))
    svg = None
    if rows:
        svg = {}
        for lang in LANGUAGES:
            w = words[lang]
            source = strings(lang)["chart_source"].format(
                publishers=spec.source, package=package.name,
                version=package.descriptor["version"])
            text = charts.Text(title=w["title"], source=source, x_label=w.get("x_label", ""),
                               y_label=w.get("y_label", ""), note=w["note"],
                               legend_title=w.get("legend_title", ""))
            svg[lang] = _inline(KINDS[spec.kind][1](rows, lang, text, spec.options), spec.id)
    return Section(spec.id, package, {lang: words[lang]["title"] for lang in LANGUAGES},
                   {lang: words[lang]["note"] for lang in LANGUAGES}, chart.subject, svg,
                   figures, table_files(package, spec.sql))


def lac_countries(packages: dict[str, Package]) -> list[dict]:
    """The countries and areas of Latin America and the Caribbean, from the standard
    `countries` table of the packages (the one with a sub-region and income group)."""
    best: list[dict] = []
    for package in packages.values():
        path = package.tables().get("countries")
        if path is None:
            continue
        fields = {f["name"] for r in package.descriptor["resources"] if r["name"] == "countries"
                  for f in r["schema"]["fields"]}
        if not {"lac_subregion", "income_group", "name_en", "name_es"} <= fields:
            continue
        rows = _query(package, "SELECT * FROM countries WHERE lac_subregion IS NOT NULL "
                      "ORDER BY iso3", "the countries table")
        if len(rows) > len(best):
            best = rows
    return best


def activities_by_country(package: Package) -> dict[str, list[dict]]:
    rows = _query(package, """
        SELECT b.iso3, a.activity_id, a.title, a.start_date, a.date_precision, b.role,
               a.host_iso3, a.source_url
        FROM activity_countries AS b JOIN activities AS a USING (activity_id)
        ORDER BY b.iso3, a.start_date DESC, a.activity_id""", "the activities of a profile")
    out: dict[str, list[dict]] = {}
    for row in rows:
        day = row["start_date"]
        text = "" if day is None else str(day)[:7 if row["date_precision"] == "month" else 10]
        out.setdefault(row["iso3"], []).append(row | {"date": text})
    return out


def build_profiles(packages: dict[str, Package],
                   charts_: list[ProfileChart] | None = None) -> list[Profile]:
    """A profile for every country and area of Latin America and the Caribbean."""
    countries = lac_countries(packages)
    if not countries:
        return []
    profiles = {c["iso3"]: Profile(c["iso3"], c) for c in countries}
    for chart in load_profile_charts() if charts_ is None else charts_:
        package = packages.get(chart.spec.package)
        if package is None:
            continue
        by_country = chart_rows(chart, package)
        latest: dict[str, tuple[dict, int]] = {}
        for rows in by_country.values():
            for row in rows:
                if row["y"] is None:
                    continue
                first, year = latest.get(row["label"], (row, int(row["x"])))
                latest[row["label"]] = (first, max(year, int(row["x"])))
        for iso3, profile in profiles.items():
            profile.sections.append(section(chart, package, by_country.get(iso3, []), latest,
                                            profile.country))
    activities = packages.get(ACTIVITIES)
    if activities is not None:
        listed = activities_by_country(activities)
        for iso3, profile in profiles.items():
            profile.activities = listed.get(iso3, [])
            profile.activities_package = activities
    return list(profiles.values())


def number(value: float, lang: str) -> str:
    """A figure as a page shows it: 1,234 / 49.3 / 0.27 (1.234 / 49,3 / 0,27 in Spanish)."""
    size = abs(value)
    decimals = 0 if size >= 100 or float(value).is_integer() else 1 if size >= 10 else 2
    text = f"{value:,.{decimals}f}"
    if lang == "es":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


__all__ = ["PROFILES_DIR", "Profile", "WORDS", "build_profiles", "number", "profile_path"]
