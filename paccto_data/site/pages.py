"""The HTML pages of a release, rendered through Jinja2 from paccto_data/site/templates/.

- `catalogue_page(lang, ...)`: index.html and index.es.html, every package with its
  description, licence, coverage, citation and relative download links, and the charts;
  its words come from strings.yaml.
- `profile_page(lang, profile)`: countries/<ISO3>.html and .es.html, a country's headline
  figures, charts (inline SVG from the one renderer), gaps, activities and packages
  (profiles.py collects them).
- `quality_page(data)`: quality/index.html, the data-quality report (English only), from the
  data that paccto_data/quality/report.py collects; `write_quality_page` writes it.

Autoescape is on for every template: Jinja's escaping is the one way text reaches a page, so
a title holding `<script>` shows as text. Both pages inline the one stylesheet, style.css,
and load nothing: a researcher opens them from disk without internet. Nothing here reads
the clock: the same data give the same bytes.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from paccto_data.lock import leftovers, owned
from paccto_data.quality.report import ABSENT, PRESENT, SUPPRESSED, CoverageBlock, ReportData
from paccto_data.site import SiteError
from paccto_data.site.chart_specs import Chart
from paccto_data.site.packages import Package
from paccto_data.site.profiles import Profile, number
from paccto_data.site.strings import PAGES, strings

TEMPLATES = Path(__file__).with_name("templates")
STYLESHEET = Path(__file__).with_name("style.css")
OBSERVED_CHARS = 160  # how much of an observed value or sample the quality page shows


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.StrictUndefined,  # a missing string stops the build
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["stylesheet"] = Markup(STYLESHEET.read_text(encoding="utf-8").strip())
    env.filters.update(basename=lambda path: Path(path).name, size=human_size)
    return env


# --- the catalogue page ---------------------------------------------------------------------


def catalogue_page(lang: str, packages: list[Package], charts: list[Chart],
                   reports: list[dict], withheld: list[dict],
                   profiles: list[Profile] | None = None) -> str:
    other = next(code for code in PAGES if code != lang)
    return environment().get_template("catalogue.html").render(
        lang=lang, other=other, pages=PAGES, t=strings(lang), packages=packages,
        charts=charts, reports=reports, withheld=withheld, coverage_text=coverage_text,
        count=count, authors=authors, svg_size=svg_size, profiles=profiles or [])


def profile_page(lang: str, profile: Profile) -> str:
    other = next(code for code in PAGES if code != lang)
    return environment().get_template("country.html").render(
        lang=lang, other=other, pages=PAGES, t=strings(lang), profile=profile,
        c=profile.country, name=profile.name(lang), number=number)


def count(value: int, lang: str) -> str:
    """1,976 in English, 1.976 in Spanish."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "es" else text


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} B"


def coverage_text(coverage: dict, lang: str) -> str:
    """"52 countries and areas; 1990–2026; 1,976 rows in 2 tables"."""
    t = strings(lang)
    parts = []
    if coverage["countries"]:
        parts.append(f"{coverage['countries']} {t['countries']}")
    if coverage["first_year"] is not None:
        parts.append(f"{coverage['first_year']}–{coverage['last_year']}")
    parts.append(f"{count(coverage['rows'], lang)} {t['rows_in']} {coverage['tables']} "
                 f"{t['tables']}")
    return "; ".join(parts)


def authors(citation: dict) -> str:
    return ", ".join(a.get("name", "") for a in citation.get("authors", []))


def svg_size(svg: str) -> tuple[int, int]:
    match = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg)
    if not match:
        raise SiteError("an SVG chart has no width and height")
    return int(match[1]), int(match[2])


# --- the quality page -----------------------------------------------------------------------


def quality_page(data: ReportData) -> str:
    passed = sum(1 for t in data.tables if t.status == "passed")
    return environment().get_template("quality.html").render(
        data=data, passed_tables=passed, failed_tables=len(data.tables) - passed,
        active=sum(1 for w in data.warnings if not w.passed),
        partners=sum(1 for b in data.coverage[:1] for row in b.rows if row[2]),
        present=PRESENT, suppressed=SUPPRESSED, absent=ABSENT, short=short, rule=rule,
        thresholds=thresholds, observed=observed, is_number=is_number, grid_head=grid_head)


def write_quality_page(folder: Path, data: ReportData) -> Path:
    """Write `folder`/index.html through a temporary file and a rename: a reader never sees
    half a page. The temporary name carries the owner's pid; a dead owner's is deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "index.html"
    for leftover in leftovers(path, "tmp"):
        leftover.unlink(missing_ok=True)
    tmp = owned(path, "tmp", hidden=True)
    tmp.write_text(quality_page(data), encoding="utf-8")
    os.replace(tmp, path)
    return path


def short(value: object, limit: int = OBSERVED_CHARS) -> str:
    """A value as text (JSON unless a string), cut to `limit` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def rule(kwargs: dict | None) -> str:
    """An expectation's arguments, but the column(s) it is about."""
    return ", ".join(f"{k}={short(v, 120)}" for k, v in (kwargs or {}).items()
                     if k not in ("column", "column_list", "condition_parser"))


def thresholds(values: dict) -> str:
    """A warn rule's thresholds."""
    return ", ".join(f"{k}={short(v, 80)}" for k, v in values.items())


def observed(row: dict) -> object:
    """What an expectation observed: its value, else its details (e.g. the values missing from
    a distinct set)."""
    value = row.get("observed_value")
    return row["details"] if value is None and row.get("details") else value


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def grid_head(block: CoverageBlock) -> str:
    """The two lines above a coverage grid: the decades, then the last digit of each year."""
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
    return pad + "".join(decades).rstrip() + "\n" + pad + digits
