"""The catalogue of a release: what `published/` holds, for people and for harvesters.

`write_catalogue(root)` reads the packages already in a release folder (each
`<root>/<name>/datapackage.json` and its files: packages.py) and writes beside them:

- `catalog.json` and `catalog.jsonld` (DCAT-AP): dcat.py;
- `index.html` and `index.es.html`: the page in English and in Spanish that a researcher
  opens from disk without internet (inline CSS, no scripts, no remote `src`): pages.py;
- `charts/*.svg` (and `*.es.svg`): the charts of charts.yaml drawn from the published files
  themselves, so a chart shows exactly what can be downloaded: chart_specs.py;
- `countries/<ISO3>.html` (and `.es.html`): a profile of each country and area of Latin
  America and the Caribbean, drawn from the same files: profiles.py, profiles.yaml.

Everything is derived from the files in the folder and from the source catalogue
(assets/sources/), never from the clock: the same packages give the same bytes.
`check_catalogue(root)` is what a release checks before it is swapped in: the files parse,
every chart listed exists and is an SVG with a title, every profile listed exists, and every
link and image of the catalogue pages and of the profiles resolves to a file of the release
(no remote `src`). `publish` builds packages, catalogue and
release in one call (the Dagster assets do the same in steps).
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb

from paccto_data.publication.package import PackageReport, build_package
from paccto_data.publication.release import release_folder
from paccto_data.publication.spec import PackageSpec
from paccto_data.site import SiteError
from paccto_data.site.chart_specs import CHARTS_DIR, draw_charts
from paccto_data.site.dcat import catalogue_record, dcat_record
from paccto_data.site.packages import packages_in, reports_in
from paccto_data.site.pages import catalogue_page, profile_page
from paccto_data.site.profiles import PROFILES_DIR, build_profiles
from paccto_data.site.strings import LANGUAGES, PAGES

CATALOGUE_FILES = ("catalog.json", "catalog.jsonld", *PAGES.values())
SVG = "{http://www.w3.org/2000/svg}"


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
    by_name = {p.name: p for p in packages}
    chart_list = draw_charts(by_name)
    profiles = build_profiles(by_name)
    reports = reports_in(root)
    for folder in (CHARTS_DIR, PROFILES_DIR):
        if (root / folder).exists():
            shutil.rmtree(root / folder)
    for c in chart_list:
        for lang in LANGUAGES:
            _write(root / c.path(lang), c.svg[lang])
    for profile in profiles:
        for lang in LANGUAGES:
            _write(root / profile.path(lang), profile_page(lang, profile))
    record = catalogue_record(packages, chart_list, reports, [
        {"iso3": p.iso3, "name": p.name("en"), "name_es": p.name("es"), "path": p.path("en"),
         "path_es": p.path("es")} for p in profiles])
    _write(root / "catalog.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    _write(root / "catalog.jsonld",
           json.dumps(dcat_record(packages), indent=2, ensure_ascii=False) + "\n")
    withheld = record["not_published"]
    for lang in LANGUAGES:
        _write(root / PAGES[lang],
               catalogue_page(lang, packages, chart_list, reports, withheld, profiles))
    return record


@dataclass
class PageLinks:
    links: list[tuple[str, str, str]]  # (tag, attribute, value), in page order
    ids: set[str]


# The start tags of a page, as an HTML parser reads them: comments and the text of <script>
# and <style> hold no tags; attribute values may be double-, single- or
# not quoted, and carry character references. A regular-expression pass over the text is
# about ten times as fast as html.parser here (3 MB of pages in a release), and
# tests/test_publish.py holds it to html.parser's reading of every page of a release.
_SKIPPED = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<[!?][^>]*>"
                      r"|(<(script|style)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)"
                      r".*?(?:</\2\s*>|\Z)", re.S | re.I)
_START_TAG = re.compile(r"<([a-zA-Z][^\t\n\r\f />\x00]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTRIBUTE = re.compile(r"""((?<=['"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*"""
                        r"""('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?""")


def page_links(path: Path) -> PageLinks:
    """The links (`href`, `src`) and the ids of the page at `path`."""
    text = _SKIPPED.sub(lambda m: m.group(1) or "", path.read_text(encoding="utf-8"))
    links, ids = [], set()
    for tag, attributes in _START_TAG.findall(text):
        if "=" not in attributes:
            continue
        for name, _, value in _ATTRIBUTE.findall(" " + attributes):
            name = name.lower()
            if name not in ("href", "src", "id") or not value:
                continue
            if value[:1] == value[-1:] and value[:1] in ("'", '"') and len(value) > 1:
                value = value[1:-1]
            value = unescape(value)
            if name == "id":
                if value:
                    ids.add(value)
            else:
                links.append((tag.lower(), name, value))
    return PageLinks(links, ids)


def check_catalogue(root: Path) -> list[str]:
    """What is wrong with the catalogue of the release in `root` (empty: nothing)."""
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
            if svg.tag != f"{SVG}svg" or svg.find(f"{SVG}title") is None:
                problems.append(f"{chart[key]}: not an SVG with a <title>")
    pages = list(PAGES.values())
    for profile in record.get("profiles", []):
        for key in ("path", "path_es"):
            if (root / profile[key]).is_file():
                pages.append(profile[key])
            else:
                problems.append(f"{profile[key]}: missing")
    known = _Known(root.resolve())
    for name in pages:
        problems += link_problems(root, name, known)
    return problems


@dataclass
class _Known:
    """What the pages of one release share: its root, resolved; the ids of each page read;
    and each relative link resolved, with whether it is a file of the release (the profiles
    link the same files many times)."""

    root: Path
    ids: dict[Path, set[str]] = field(default_factory=dict)
    targets: dict[tuple[Path, str], tuple[Path, bool]] = field(default_factory=dict)

    def target(self, folder: Path, relative: str) -> tuple[Path, bool]:
        key = (folder, relative)
        if key not in self.targets:
            target = (folder / relative).resolve()
            self.targets[key] = (target, target.is_relative_to(self.root) and target.is_file())
        return self.targets[key]

    def ids_of(self, page: Path) -> set[str]:
        if page not in self.ids:
            self.ids[page] = page_links(page).ids
        return self.ids[page]


def link_problems(root: Path, name: str, known: _Known | None = None) -> list[str]:
    """What is wrong with the links and images of the page `root/name`: a remote `src`, an
    anchor not on the page or on the page linked to, a relative link that is not a file of
    the release. `known` keeps what the pages of the release share (each page is read
    once, each link resolved once)."""
    known = _Known(root.resolve()) if known is None else known
    problems = []
    page = root / name
    links = page_links(page)
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
        target, in_release = known.target(page.parent, unquote(parts.path))
        if not in_release:
            problems.append(f"{name}: <{tag} {attribute}={value!r}> does not resolve to "
                            "a file of the release")
        elif parts.fragment and target.suffix == ".html" and \
                parts.fragment not in known.ids_of(target):
            problems.append(f"{name}: <{tag} {attribute}={value!r}>: no #{parts.fragment} on "
                            "that page")
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
