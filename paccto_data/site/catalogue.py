"""The catalogue of a release: what `published/` holds, for people and for harvesters.

`write_catalogue(root)` reads the packages already in a release folder (each
`<root>/<name>/datapackage.json` and its files) and writes beside them:

- `catalog.json`: every package with its version, licences, sources, size, coverage
  (countries and years) and files (bytes, sha256), the charts, the reports (e.g. the
  data-quality report in `quality/`) and the sources the platform does not republish;
- `catalog.jsonld`: the same as a DCAT-AP catalogue (dcat:Catalog, one dcat:Dataset per
  package, one dcat:Distribution per file with media type, byte size, sha256 checksum,
  licence; temporal and spatial coverage; titles and descriptions in English and Spanish);
- `index.html` and `index.es.html`: a static page in English and in Spanish that a researcher
  opens from disk without internet (inline CSS, no scripts, no remote `src`): every package
  with its description, licence, coverage, citation and relative download links, and the
  charts;
- `charts/*.svg` (and `*.es.svg`): drawn on every build with paccto_data/site/charts.py from the
  published files themselves, so a chart shows exactly what can be downloaded.

Everything is derived from the files in the folder and from the source catalogue
(assets/sources/), never from the clock: the same packages give the same bytes.
`check_catalogue(root)` is what a release checks before it is swapped in: the files parse,
every chart listed exists and is an SVG with a title, and every link and image of both pages
resolves to a file of the release (no remote `src`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb

from paccto_data.publication.package import PackageReport, build_package
from paccto_data.publication.release import release_folder
from paccto_data.publication.spec import PackageSpec
from paccto_data.site import SiteError
from paccto_data.site.chart_specs import CHARTS_DIR, Chart, draw_charts
from paccto_data.site.dcat import catalogue_record, dcat_record
from paccto_data.site.packages import Package, packages_in, reports_in
from paccto_data.site.strings import LANGUAGES, PAGES, strings

CATALOGUE_FILES = ("catalog.json", "catalog.jsonld", "index.html", "index.es.html")
# --- the pages ------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;
margin:0;color:#222;background:#fafafa;line-height:1.45}
header,main,footer{max-width:980px;margin:0 auto;padding:0 18px}
header{padding-top:18px}
h1{font-size:1.7em;margin:.4em 0}
h2{font-size:1.35em;margin:1.4em 0 .4em;border-bottom:2px solid #0072B2;padding-bottom:.15em}
h3{font-size:1.15em;margin:0 0 .3em}
.lang{float:right;margin-top:.6em}
.package{background:#fff;border:1px solid #ddd;border-radius:6px;padding:14px 18px;margin:14px 0}
.version{font-size:.75em;color:#555;font-weight:normal;margin-left:.4em}
dl{display:grid;grid-template-columns:9em 1fr;gap:.25em .8em;margin:.6em 0}
dt{font-weight:bold;color:#444}
dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.92em}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{background:#fff;border:1px solid #ddd;border-radius:6px;margin:14px 0;padding:10px}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#444;margin-top:.4em}
nav ul{columns:2;padding-left:1.2em}
code{background:#f0f0f0;padding:0 .2em}
footer{color:#666;font-size:.85em;padding-bottom:24px}
"""


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} B"


def _coverage_text(coverage: dict, lang: str) -> str:
    t = strings(lang)
    parts = []
    if coverage["countries"]:
        parts.append(f"{coverage['countries']} {t['countries']}")
    if coverage["first_year"] is not None:
        parts.append(f"{coverage['first_year']}–{coverage['last_year']}")
    rows = f"{coverage['rows']:,}" if lang == "en" else f"{coverage['rows']:,}".replace(",", ".")
    parts.append(f"{rows} {t['rows_in']} {coverage['tables']} {t['tables']}")
    return "; ".join(parts)


def _licences_html(licences: list[dict]) -> str:
    return "; ".join(f'<a href="{escape(lic["path"])}">{escape(lic["title"])}</a>'
                     + (f" ({escape(lic['name'])})" if lic.get("name") else "")
                     for lic in licences)


def _citation(package: Package) -> str:
    cff = package.citation
    authors = ", ".join(a.get("name", "") for a in cff.get("authors", []))
    year = package.descriptor["created"][:4]
    return (f"{escape(authors)} ({year}). <em>{escape(cff['title'])}</em>, version "
            f"{escape(str(cff['version']))} [data package]. {escape(cff.get('url', ''))}")


def page(lang: str, packages: list[Package], chart_list: list[Chart], reports: list[dict],
         withheld: list[dict]) -> str:
    t = strings(lang)
    other_lang = "es" if lang == "en" else "en"
    other = PAGES[other_lang]
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(t['title'])}</title>",
        f'<link rel="alternate" hreflang="{other_lang}" href="{other}">',
        f"<style>{CSS.strip()}</style>",
        "</head>",
        "<body>",
        "<header>",
        f'<p class="lang"><a href="{other}" hreflang="{other_lang}" lang="{other_lang}">'
        f'{t["other_language"]}</a></p>',
        f"<h1>{escape(t['title'])}</h1>",
        f"<p>{escape(t['intro'])} {escape(t['offline'])}</p>",
        "<nav><ul>",
    ]
    for p in packages:
        out.append(f'<li><a href="#{p.name}">{escape(p.title(lang))}</a> '
                   f'<span class="version">v{escape(p.descriptor["version"])}</span></li>')
    if chart_list:
        out.append(f'<li><a href="#charts">{t["charts"]}</a></li>')
    for report in reports:
        out.append(f'<li><a href="{escape(report["path"])}">'
                   f'{escape(report["title_es" if lang == "es" else "title"])}</a></li>')
    out += ["</ul></nav>", "</header>", "<main>", f'<h2 id="packages">{t["packages"]}</h2>']
    for p in packages:
        d = p.descriptor
        sources = "; ".join(f'<a href="{escape(s["path"])}">{escape(s["title"])}</a> '
                            f'({escape(s["publisher"])}, {escape(s["version"])})'
                            for s in d["sources"])
        out += [
            f'<section class="package" id="{p.name}">',
            f'<h3>{escape(p.title(lang))}<span class="version">{t["version"]} '
            f'{escape(d["version"])}</span></h3>',
            f"<p>{escape(p.description(lang))}</p>",
            "<dl>",
            f"<dt>{t['coverage']}</dt><dd>{escape(_coverage_text(p.coverage, lang))}</dd>",
            f"<dt>{t['licence']}</dt><dd>{_licences_html(d['licenses'])}</dd>",
            f"<dt>{t['sources']}</dt><dd>{sources}</dd>",
            f"<dt>{t['cite']}</dt><dd>{_citation(p)}</dd>",
            "</dl>",
            f'<table><thead><tr><th>{t["file"]}</th><th>{t["table"]}</th>'
            f'<th class="n">{t["rows"]}</th><th class="n">{t["size"]}</th></tr></thead>'
            "<tbody>",
        ]
        for f in p.files:
            if f["resource"] is None:
                continue
            rows = f"{f['rows']:,}" if lang == "en" else f"{f['rows']:,}".replace(",", ".")
            out.append(f'<tr><td><a href="{escape(f["path"])}" download>'
                       f'{escape(Path(f["path"]).name)}</a></td>'
                       f'<td>{escape(f["title_es" if lang == "es" else "title"])}</td>'
                       f'<td class="n">{rows}</td>'
                       f'<td class="n">{human_size(f["bytes"])}</td></tr>')
        docs = " · ".join(f'<a href="{escape(f["path"])}">{escape(Path(f["path"]).name)}</a>'
                          for f in p.files if f["resource"] is None)
        out += ["</tbody></table>", f"<p>{t['docs']}: {docs}</p>", "</section>"]
    if chart_list:
        out.append(f'<h2 id="charts">{t["charts"]}</h2>')
        for number_, c in enumerate(chart_list, 1):
            size = _svg_size(c.svg[lang])
            out += [
                f'<figure id="{c.id}">',
                f'<img src="{c.path(lang)}" width="{size[0]}" height="{size[1]}" '
                f'alt="{escape(c.title[lang])}">',
                f"<figcaption>{t['figure']} {number_}. {escape(c.title[lang])}. "
                f"{escape(c.caption[lang])} {t['built_from']} "
                f'<a href="#{c.package}">{escape(c.package)}</a>.</figcaption>',
                "</figure>",
            ]
    if reports:
        out.append(f'<h2 id="reports">{t["reports"]}</h2><ul>')
        for report in reports:
            out.append(f'<li><a href="{escape(report["path"])}">'
                       f'{escape(report["title_es" if lang == "es" else "title"])}</a></li>')
        out.append("</ul>")
    if withheld:
        out += [f'<h2 id="not-published">{t["not_published"]}</h2>',
                f"<p>{escape(t['not_published_text'])}</p>", "<ul>"]
        for s in withheld:
            files = ", ".join(f'<a href="{escape(u)}">{t["download_from"]}</a>'
                              for u in s["files"])
            out.append(f'<li><a href="{escape(s["homepage"])}">{escape(s["title"])}</a> '
                       f'({escape(s["publisher"])}; {t["licence_of"]} '
                       f'<a href="{escape(s["licence_url"] or "")}">{escape(s["licence"] or "")}'
                       f"</a>): {files}</li>")
        out.append("</ul>")
    out += [
        f'<h2 id="versions">{t["versions"]}</h2>',
        f"<p>{t['versions_text']} <code>{escape(t['versions_tag'])}</code>"
        f"{t['versions_after_tag']}</p>",
        f'<h2 id="machine">{t["machine"]}</h2>',
        f'<p>{escape(t["machine_text"])} <a href="catalog.json">catalog.json</a> · '
        '<a href="catalog.jsonld">catalog.jsonld</a></p>',
        "</main>",
        "<footer><p>EL PAcCTO 2.0 open-data platform (paccto-data).</p></footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


def _svg_size(svg: str) -> tuple[int, int]:
    match = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg)
    if not match:
        raise SiteError("an SVG chart has no width and height")
    return int(match[1]), int(match[2])


# --- writing and checking -------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def write_catalogue(root: Path) -> dict:
    """Write the catalogue files and charts of the release in `root`; returns catalog.json's
    record."""
    packages = packages_in(root)
    if not packages:
        raise SiteError(f"{root}: no package to catalogue")
    chart_list = draw_charts({p.name: p for p in packages})
    reports = reports_in(root)
    if (root / CHARTS_DIR).exists():
        import shutil

        shutil.rmtree(root / CHARTS_DIR)
    for c in chart_list:
        for lang in LANGUAGES:
            _write(root / c.path(lang), c.svg[lang])
    record = catalogue_record(packages, chart_list, reports)
    _write(root / "catalog.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    _write(root / "catalog.jsonld",
           json.dumps(dcat_record(packages), indent=2, ensure_ascii=False) + "\n")
    withheld = record["not_published"]
    for lang in LANGUAGES:
        _write(root / PAGES[lang], page(lang, packages, chart_list, reports, withheld))
    return record


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append((tag, name, value))


def page_links(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def check_catalogue(root: Path) -> list[str]:
    """What is wrong with the catalogue of the release in `root` (empty: nothing)."""
    import xml.etree.ElementTree as ET

    problems = []
    for name in CATALOGUE_FILES:
        if not (root / name).is_file():
            problems.append(f"{name}: missing")
    if problems:
        return problems
    record = json.loads((root / "catalog.json").read_text(encoding="utf-8"))
    json.loads((root / "catalog.jsonld").read_text(encoding="utf-8"))
    listed = {p["name"] for p in record["packages"]}
    present = {p.parent.name for p in root.glob("*/datapackage.json")}
    if listed != present:
        problems.append(f"catalog.json lists packages {sorted(listed)}, the release holds "
                        f"{sorted(present)}")
    for package in record["packages"]:
        for f in package["files"]:
            path = root / f["path"]
            if not path.is_file() or path.stat().st_size != f["bytes"]:
                problems.append(f"catalog.json: {f['path']} is missing or not "
                                f"{f['bytes']} bytes")
    for chart in record["charts"]:
        for key in ("path", "path_es"):
            path = root / chart[key]
            try:
                svg = ET.parse(path).getroot()
            except (OSError, ET.ParseError) as exc:
                problems.append(f"{chart[key]}: not a readable SVG ({exc})")
                continue
            if svg.tag != "{http://www.w3.org/2000/svg}svg" or \
                    svg.find("{http://www.w3.org/2000/svg}title") is None:
                problems.append(f"{chart[key]}: not an SVG with a <title>")
    for name in PAGES.values():
        links = page_links(root / name)
        for tag, attribute, value in links.links:
            parts = urlsplit(value)
            if attribute == "src" and (parts.scheme or value.startswith("//")):
                problems.append(f"{name}: <{tag} src={value!r}> is not a file of the release")
                continue
            if parts.scheme in ("http", "https", "mailto"):
                continue  # licence texts, publishers' pages: links, never loaded by the page
            if parts.scheme:
                problems.append(f"{name}: <{tag} {attribute}={value!r}>: unexpected scheme")
                continue
            if not parts.path:  # "#anchor"
                if parts.fragment and parts.fragment not in links.ids:
                    problems.append(f"{name}: link to #{parts.fragment}, which is not on the "
                                    "page")
                continue
            target = (root / unquote(parts.path)).resolve()
            if not target.is_relative_to(root.resolve()) or not target.is_file():
                problems.append(f"{name}: <{tag} {attribute}={value!r}> does not resolve to "
                                "a file of the release")
    return problems


# --- building and releasing in one call (the Dagster assets do it in steps) -----------------


def publish(conn: duckdb.DuckDBPyConnection, specs: Iterable[PackageSpec],
            publish_dir: Path, catalogue: bool = True) -> list[PackageReport]:
    """Build every package straight from the build database, versioned against what
    `publish_dir` holds, write the catalogue and release them
    together. (The Dagster assets do the same in steps: paccto_data/defs/publication.py.)"""
    specs = list(specs)

    def fill(tmp: Path) -> list[PackageReport]:
        reports = [build_package(conn, s, tmp / s.name, previous=publish_dir / s.name)
                   for s in specs]
        if catalogue:
            write_catalogue(tmp)
        return reports

    return release_folder(publish_dir, fill, check_catalogue if catalogue else None)
