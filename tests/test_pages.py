"""paccto_data/site/pages.py and strings.py: the HTML pages through Jinja2 (autoescaped, one
stylesheet) and their English and Spanish strings."""

import dataclasses
import re
from pathlib import Path

import jinja2
import pytest
import yaml

import paccto_data
from paccto_data.quality.report import ReportData
from paccto_data.settings import Settings
from paccto_data.site import SiteError, charts, pages
from paccto_data.site.chart_specs import Chart
from paccto_data.site.packages import read_package
from paccto_data.site.strings import LANGUAGES, by_language, strings

PUBLISHED = Settings.from_env().publish_dir
SCRIPT = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def package():
    return read_package(PUBLISHED, PUBLISHED / "lac-homicide")


def hostile(package):
    """The package with a title, description and source that hold markup."""
    descriptor = package.descriptor | {
        "title": f"Homicide {SCRIPT}", "title_es": f"Homicidios {SCRIPT}",
        "description": "Rates & <b>counts</b>", "description_es": "Rates & <b>counts</b>",
        "sources": [s | {"publisher": 'UNODC "<i>"'} for s in package.descriptor["sources"]]}
    return dataclasses.replace(package, descriptor=descriptor)


def chart(title: str) -> Chart:
    svg = charts.bar_chart([charts.Bar("Chile", 1.0)], charts.Text(title, "Source: test"))
    return Chart("test_chart", "lac-homicide", {"en": title, "es": title},
                 {"en": "Note.", "es": "Nota."}, {"en": svg, "es": svg})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_page_escapes_what_the_packages_say(package, lang):
    page = pages.catalogue_page(lang, [hostile(package)], [chart('A "quoted" <title>')], [], [])
    assert "<script" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "Rates &amp; &lt;b&gt;counts&lt;/b&gt;" in page
    assert 'alt="A &#34;quoted&#34; &lt;title&gt;"' in page  # an attribute stays closed
    assert f'<html lang="{lang}">' in page and '<section class="package" id="lac-homicide">' \
        in page


def test_both_pages_inline_the_one_stylesheet(package):
    css = (Path(pages.__file__).with_name("style.css")).read_text(encoding="utf-8").strip()
    catalogue = pages.catalogue_page("en", [package], [], [], [])
    quality = pages.quality_page(ReportData([], [], [], []))
    for page in (catalogue, quality):
        assert page.count("<style>") == 1 and f"<style>{css}</style>" in page
        assert not re.search(r"<link[^>]+stylesheet|\bsrc\s*=", page)


def test_a_string_missing_from_the_strings_stops_the_page(package, monkeypatch):
    shipped = strings("es")
    monkeypatch.setattr(pages, "strings", lambda lang: {k: v for k, v in shipped.items()
                                                        if k != "licence"})
    with pytest.raises(jinja2.UndefinedError, match="licence"):
        pages.catalogue_page("es", [package], [], [], [])


def test_every_string_has_english_and_spanish():
    en, es = strings("en"), strings("es")
    assert set(en) == set(es) and all(en[k].strip() and es[k].strip() for k in en)
    assert en["title"] == "EL PAcCTO 2.0 open data" and es["title"].startswith("Datos")


@pytest.mark.parametrize("texts, message", [
    ({"en": "Charts"}, r"strings\.yaml: charts: no text in es"),
    ({"en": "Charts", "es": " "}, r"strings\.yaml: charts: no text in es"),
    ({"en": "Charts", "es": "Gráficos", "fr": "Graphiques"}, r"charts: unknown language fr"),
    ("Charts", r"charts: give the text in each of en, es"),
])
def test_a_string_in_english_but_not_in_spanish_is_refused_naming_the_key(tmp_path, texts,
                                                                          message):
    path = tmp_path / "strings.yaml"
    path.write_text(yaml.safe_dump({"title": {"en": "T", "es": "T"}, "charts": texts}),
                    encoding="utf-8")
    with pytest.raises(SiteError, match=message):
        by_language(path)


def test_no_python_module_writes_html():
    """Pages are templates: no module of paccto_data builds HTML or escapes it by hand."""
    tags = re.compile(r"</(html|head|body|p|a|ul|li|table|tr|td|th|h[1-6]|section|figure|"
                      r"details|pre|span|div)>", re.IGNORECASE)
    for path in Path(paccto_data.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not tags.search(text), path
        assert not re.search(r"\bhtml\.escape\b|from html import escape", text), path


def test_the_site_reads_publication_and_quality_and_neither_imports_the_site():
    root = Path(paccto_data.__file__).parent
    for layer in ("publication", "quality"):
        for path in (root / layer).rglob("*.py"):
            imports = re.findall(r"^\s*(?:from|import) (paccto_data\.site\b\S*)",
                                 path.read_text(encoding="utf-8"), re.MULTILINE)
            assert imports == [], path
    for path in root.rglob("*.py"):
        if "defs" not in path.relative_to(root).parts and path.name != "definitions.py":
            assert not re.search(r"^\s*(from|import) paccto_data\.defs\b",
                                 path.read_text(encoding="utf-8"), re.MULTILINE), path
