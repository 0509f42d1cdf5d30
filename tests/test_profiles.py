"""The country profiles (countries/<ISO3>.html and .es.html; paccto_data/site/profiles.py and
profiles.yaml), built from the published packages' own files: one per country and area of
Latin America and the Caribbean, gaps said plainly, nothing from a source that may not be
republished, and a catalogue check that finds a broken link on a profile."""

import shutil

import pytest

from paccto_data.settings import Settings
from paccto_data.site import SiteError
from paccto_data.site.catalogue import check_catalogue, write_catalogue
from paccto_data.site.packages import packages_in
from paccto_data.site.profiles import build_profiles, load_profile_charts, number

PUBLISHED = Settings.from_env().publish_dir


@pytest.fixture(scope="module")
def packages():
    assert (PUBLISHED / "catalog.json").is_file(), "no catalogue published (make run)"
    return {p.name: p for p in packages_in(PUBLISHED)}


@pytest.fixture(scope="module")
def profiles(packages):
    return {p.iso3: p for p in build_profiles(packages)}


def test_a_profile_for_each_of_the_52_countries_and_areas(profiles):
    assert len(profiles) == 52
    assert {"JAM", "BRA", "MEX", "BVT", "SGS", "BES"} <= set(profiles)
    for profile in profiles.values():
        assert [s.id for s in profile.sections] == [
            "homicide", "governance", "corruption_offences", "seizures", "trafficking", "arms"]
        for lang in ("en", "es"):
            assert (PUBLISHED / profile.path(lang)).is_file()


def test_gaps_are_said_plainly(profiles):
    jamaica = profiles["JAM"]
    assert "No UNODC homicide rate figure after 2023 (the package has figures up to 2024)." \
        in jamaica.gaps("en")
    assert "No persons convicted of trafficking in persons figure for Jamaica." \
        in jamaica.gaps("en")
    assert ("Ninguna cifra de tasa de homicidios de UNODC después de 2023 (el paquete tiene "
            "cifras hasta 2024).") in jamaica.gaps("es")
    homicide = next(s for s in jamaica.sections if s.id == "homicide")
    assert homicide.svg is not None and homicide.series[0].last_value == pytest.approx(49.3,
                                                                                        abs=0.1)
    # an uninhabited island has no figure at all: one sentence per chart, no chart drawn
    bouvet = profiles["BVT"]
    assert all(s.svg is None for s in bouvet.sections)
    assert bouvet.gaps("en")[0] == ("No figure on the homicide rate for Bouvet Island in the "
                                    "package lac-homicide.")
    assert len(bouvet.gaps("en")) == 6


def test_activities_come_from_the_register_with_their_public_page(profiles):
    dominican = profiles["DOM"]
    assert dominican.activities and all(
        a["activity_id"].startswith("ACT-") and a["source_url"].startswith("http")
        and a["role"] in ("host", "participant") for a in dominican.activities)
    dates = [a["date"] for a in dominican.activities]
    assert dates == sorted(dates, reverse=True)
    assert profiles["JAM"].activities == []


def test_nothing_from_a_source_that_may_not_be_republished():
    pages = sorted((PUBLISHED / "countries").glob("*.html"))
    assert len(pages) == 104
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for word in ("ti_cpi", "Transparency International", "Corruption Perceptions",
                     "cpi_score"):
            assert word not in text, (page.name, word)


def test_the_published_profiles_are_what_the_code_writes_from_the_published_files(tmp_path):
    """Rebuilt from the published packages, the profiles and the catalogue pages are the
    committed bytes (the same data give the same pages)."""
    copy = tmp_path / "release"
    shutil.copytree(PUBLISHED, copy)
    shutil.rmtree(copy / "countries")
    write_catalogue(copy)
    for page in [*sorted((PUBLISHED / "countries").iterdir()), PUBLISHED / "index.html",
                 PUBLISHED / "index.es.html", PUBLISHED / "catalog.json"]:
        relative = page.relative_to(PUBLISHED)
        assert (copy / relative).read_bytes() == page.read_bytes(), relative
    assert check_catalogue(copy) == []


def test_the_catalogue_check_finds_a_broken_link_or_a_missing_profile(tmp_path):
    copy = tmp_path / "release"
    shutil.copytree(PUBLISHED, copy)
    page = copy / "countries" / "JAM.html"
    html = page.read_text(encoding="utf-8")
    assert 'href="../lac-homicide/README.md"' in html
    page.write_text(html.replace('href="../lac-homicide/README.md"',
                                 'href="../lac-homicide/READ.md"')
                    .replace('href="../index.html#lac-trafficking"',
                             'href="../index.html#no-such-package"'), encoding="utf-8")
    (copy / "countries" / "BRA.es.html").unlink()
    problems = check_catalogue(copy)
    assert "countries/BRA.es.html: missing" in problems
    assert any(p.startswith("countries/JAM.html: <a href='../lac-homicide/READ.md'>")
               for p in problems), problems
    assert any("#no-such-package" in p and p.startswith("countries/JAM.html")
               for p in problems), problems


def test_a_wrong_declaration_stops_the_build_naming_the_chart(tmp_path, packages):
    spec = tmp_path / "profiles.yaml"
    spec.write_text("""
- id: broken
  package: lac-homicide
  kind: line
  source: nobody
  en: {title: "T {country}", subject: s, note: n}
  es: {title: "T {country}", subject: s, note: n}
  sql: SELECT no_such_column FROM homicide_rate
""", encoding="utf-8")
    with pytest.raises(SiteError, match="profile chart broken"):
        build_profiles(packages, load_profile_charts(spec))
    spec.write_text(spec.read_text(encoding="utf-8").replace("  es: {title: \"T {country}\", "
                                                             "subject: s, note: n}\n", ""),
                    encoding="utf-8")
    with pytest.raises(SiteError, match="subject has no text in es"):
        load_profile_charts(spec)


def test_numbers_as_the_pages_show_them():
    assert number(1264.0, "en") == "1,264" and number(1264.0, "es") == "1.264"
    assert number(49.2995, "en") == "49.3" and number(49.2995, "es") == "49,3"
    assert number(-0.1149, "en") == "-0.11" and number(0.0, "es") == "0"


def test_profile_charts_are_declared_as_data():
    charts = load_profile_charts()
    assert [c.spec.id for c in charts] == ["homicide", "governance", "corruption_offences",
                                           "seizures", "trafficking", "arms"]
    assert all(c.spec.kind == "line" and c.subject["en"] and c.subject["es"] for c in charts)
