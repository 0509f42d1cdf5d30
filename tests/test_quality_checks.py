"""Quality checks that warn without blocking (assets/quality_checks.yaml), and the report.

The fixture database holds real rows: the UNODC and World Bank homicide tables as their tidy
functions read them from the bundled snapshots, and the countries of UN M49 with the
programme partners of assets/country_groups.yaml. Line numbers cite
assets/snapshots/unodc_homicide/homicide-rate-unodc.csv (header = line 1) and
assets/snapshots/wb_homicide/API_VC.IHR.PSRC.P5_DS2_en_csv_v2_4355130.csv.
"""

import dataclasses
import re
import shutil

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from paccto_data.acquire import fetch, records
from paccto_data.countries import read_m49
from paccto_data.defs import quality_checks
from paccto_data.quality import report as quality_report
from paccto_data.quality import rules as quality_rules
from paccto_data.quality.rules import RuleError, evaluate, load_rules
from paccto_data.settings import Settings
from paccto_data.site.pages import quality_page, write_quality_page
from paccto_data.sources.unodc_homicide import tidy_homicide
from paccto_data.sources.wb_homicide import TABLES as WB_TABLES
from paccto_data.warehouse import reference

DISAGGREGATIONS = ("sex", "age", "category", "dimension")


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """core.dim_country, core.dim_indicator and core.fact_indicator (homicide_rate from two
    sources), real rows."""
    settings = Settings.from_env()
    unodc = tidy_homicide(fetch.local_files(records.source("unodc_homicide"), settings)).table
    wb = WB_TABLES["wb_homicide"](fetch.local_files(records.source("wb_homicide"), settings)).table
    m49 = read_m49()
    partners = set(reference.country_groups().query("group_id == 'programme_partner'").iso3)
    path = tmp_path_factory.mktemp("quality") / "build.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE SCHEMA core")
    countries = m49.rename(columns={"ISO-alpha3 Code": "iso3", "Country or Area": "name_en"})
    countries["is_lac"] = m49["Sub-region Code"] == "419"
    countries["is_programme_partner"] = countries["iso3"].isin(partners)
    conn.register("countries", countries[["iso3", "name_en", "is_lac", "is_programme_partner"]])
    conn.execute("CREATE TABLE core.dim_country AS SELECT * FROM countries")
    indicators = reference.indicator_catalogue().rename(columns={"id": "indicator_id"})
    conn.register("indicators", indicators[["indicator_id", "title_en", "unit"]])
    conn.execute("CREATE TABLE core.dim_indicator AS SELECT * FROM indicators")
    frames = []
    for source_id, table in (("unodc_homicide", unodc), ("wb_homicide", wb)):
        frame = table[["iso3", "year", "indicator_id", "value", "unit"]].assign(
            source_id=source_id, flag=None, **{d: "total" for d in DISAGGREGATIONS})
        frames.append(frame)
    for number, frame in enumerate(frames):
        conn.register(f"f{number}", frame)
    conn.execute("CREATE TABLE core.fact_indicator AS SELECT * FROM f0 UNION ALL BY NAME "
                 "SELECT * FROM f1")
    assert len(partners) == 31
    yield conn, path
    conn.close()


def rule(name: str, **changes) -> quality_rules.Rule:
    found = next(r for r in load_rules() if r.name == name)
    return dataclasses.replace(found, spec={**found.spec, **changes})


def test_the_rules_name_real_indicators_and_sources():
    rules = load_rules()
    assert len({r.name for r in rules}) == len(rules) >= 3
    assert {r.kind for r in rules} == {"coverage", "jumps", "cross_source"}
    indicators = set(reference.indicator_catalogue()["id"])
    sources = set(records.sources())
    for r in rules:
        assert r.why and r.table == "core.fact_indicator", r.name
        if r.kind == "jumps":
            assert all(any(re.fullmatch(p.replace("*", ".*"), i) for i in indicators)
                       for p in r.indicators), r.name
        else:
            assert r.indicator in indicators, r.name
        for source in ([r.source] if r.kind == "coverage" else r.spec.get("sources", [])):
            assert source in sources, (r.name, source)


def test_unodc_and_world_bank_disagree_on_three_country_years(database):
    conn, _ = database
    result = evaluate(conn, rule("homicide_rate_unodc_vs_world_bank"))
    assert not result.passed
    assert result.observed["country_years_compared"] == 939  # every World Bank LAC row
    assert [(f["iso3"], f["year"]) for f in result.findings] == [
        ("BOL", 2015), ("BOL", 2019), ("CHL", 2015)]
    bolivia = result.findings[1]
    # unodc line 647 "Bolivia,BOL,2019,4.2582774"; World Bank line 34, column "2019":
    # 7.00071970177976 (rounded to 4 decimals in the metadata)
    assert bolivia == {"iso3": "BOL", "country": "Bolivia (Plurinational State of)",
                       "year": 2019, "unodc_homicide": 4.2583, "wb_homicide": 7.0007,
                       "difference": -2.7424, "relative": 0.392}
    assert "BOL 2019" in result.summary
    # The agreement the threshold was chosen from: the median pair differs by 1.4%.
    assert result.observed["median_relative_difference"] == pytest.approx(0.014, abs=0.001)
    # A tolerance above the largest difference (39.2%) passes.
    assert evaluate(conn, rule("homicide_rate_unodc_vs_world_bank", relative=0.4)).passed


def test_homicide_coverage_of_the_partners_in_the_latest_complete_year(database):
    conn, _ = database
    result = evaluate(conn, rule("homicide_rate_coverage"))
    # UNODC's newest partner year is 2023 (21 partners), provisional; 2022 lacks Cuba (last
    # reported 2019) and Peru (2021).
    assert result.passed
    assert result.observed["year"] == 2022 and result.observed["newest_year_reported"] == 2023
    assert (result.observed["covered"], result.observed["countries"]) == (29, 31)
    assert result.findings == [
        {"iso3": "CUB", "country": "Cuba", "year": 2022, "latest_year_reported": 2019},
        {"iso3": "PER", "country": "Peru", "year": 2022, "latest_year_reported": 2021}]
    stricter = evaluate(conn, rule("homicide_rate_coverage", min_countries=30))
    assert not stricter.passed and "below the minimum of 30" in stricter.summary
    newest = evaluate(conn, rule("homicide_rate_coverage", provisional_years=0))
    assert newest.observed["year"] == 2023 and newest.observed["covered"] == 21


def test_homicide_jumps_name_country_year_and_both_values(database):
    conn, _ = database
    result = evaluate(conn, rule("homicide_rate_jumps"))
    assert not result.passed
    haiti = [f for f in result.findings if f["iso3"] == "HTI"]
    # lines 1869-1870: Haiti 2022 18.976658, 2023 41.15181 (UNODC only: the World Bank
    # file ends in 2020)
    assert haiti == [{"iso3": "HTI", "country": "Haiti", "indicator_id": "homicide_rate",
                      "source_id": "unodc_homicide", "year": 2023, "previous": 18.9767,
                      "value": 41.1518, "change": 22.1752, "relative": 0.539,
                      "disaggregation": "total"}]
    assert result.observed["country_years"] == [
        "ATG 2010", "DMA 2002", "DMA 2011", "GUY 1991", "HTI 2023", "KNA 2006", "VCT 1997",
        "VCT 1998", "VCT 2007", "VCT 2008"]
    # Only programme partners: Anguilla and Montserrat (0 -> 11 per 100,000) are not listed.
    assert not {"AIA", "MSR"} & {f["iso3"] for f in result.findings}


def test_a_rule_that_compares_nothing_warns_instead_of_passing(database):
    conn, _ = database
    nothing = evaluate(conn, rule("homicide_rate_jumps", indicators=["no_such_indicator"]))
    assert not nothing.passed and "compared nothing" in nothing.summary
    apart = evaluate(conn, rule("homicide_rate_unodc_vs_world_bank",
                                sources=["unodc_homicide", "un_sdg"]))
    assert not apart.passed and "share no country-year" in apart.summary
    absent = evaluate(conn, rule("homicide_rate_coverage", source="un_sdg"))
    assert not absent.passed and "no value for any" in absent.summary


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "kind": "spread", "table": "core.fact_indicator", "why": "."},
     "kind 'spread' is not one of"),
    ({"name": "x", "kind": "coverage", "table": "core.fact_indicator", "why": ".",
      "indicator": "homicide_rate", "source": "unodc_homicide", "countries": "programme_partners",
      "provisional_years": 1}, "missing min_countries"),
    ({"name": "x", "kind": "cross_source", "table": "core.fact_indicator", "why": ".",
      "indicator": "homicide_rate", "sources": ["unodc_homicide"], "countries": "all",
      "absolute": 1, "relative": 0.1}, "sources must name exactly two"),
    ({"name": "x", "kind": "jumps", "table": "core.fact_indicator", "why": ".",
      "indicators": ["population"], "countries": "europe", "absolute": 1, "relative": 0.1},
     "countries 'europe' is not one of"),
])
def test_a_mistake_in_the_rules_file_fails_when_the_definitions_load(tmp_path, entry, message):
    import yaml

    path = tmp_path / "quality_checks.yaml"
    path.write_text(yaml.safe_dump({"checks": [entry]}))
    with pytest.raises(RuleError, match=message):
        load_rules.__wrapped__(path)


@pytest.mark.parametrize("change, property_", [
    ({"table": "core.fact_indicator f; DROP TABLE core.dim_country; --"}, "table"),
    ({"indicators": ["population' OR 1=1 --"]}, "indicators/0"),
    ({"relative": "0.1"}, "relative"),
    ({"threshold": 3}, "checks/0"),
])
def test_the_rules_file_is_checked_against_its_schema(tmp_path, change, property_):
    import yaml

    from paccto_data.errors import CatalogueError

    entry = {"name": "x", "kind": "jumps", "table": "core.fact_indicator", "why": ".",
             "indicators": ["population"], "countries": "all", "absolute": 1, "relative": 0.1}
    path = tmp_path / "quality_checks.yaml"
    path.write_text(yaml.safe_dump({"checks": [{**entry, **change}]}))
    with pytest.raises(CatalogueError, match="quality_checks.schema.json") as error:
        load_rules.__wrapped__(path)
    assert f"checks/0/{property_}".rstrip("/").replace("checks/0/checks/0", "checks/0") \
        in str(error.value)


def test_a_warn_check_reports_severity_warn_with_everything_needed_to_act(database, tmp_path):
    conn, built = database
    conn.execute("CHECKPOINT")  # the resource opens its own copy: one file, one opener
    path = tmp_path / "build.duckdb"
    shutil.copy(built, path)
    check = quality_checks.warn_check(rule("homicide_rate_unodc_vs_world_bank"))
    spec = next(iter(check.check_specs))
    assert spec.blocking is False and spec.key.name == "homicide_rate_unodc_vs_world_bank"
    # Run as Dagster runs it, against the fixture database.
    asset = dg.AssetSpec(["core", "fact_indicator"])
    result = dg.materialize(
        [asset, check], selection=dg.AssetSelection.checks(check),
        resources={"duckdb": DuckDBResource(database=str(path))}, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.severity == dg.AssetCheckSeverity.WARN and not evaluation.passed
    metadata = evaluation.metadata
    assert metadata["rule"].value["relative"] == 0.15 and "denominator" in \
        metadata["why_these_thresholds"].value
    assert metadata["findings"].value == 3
    assert {"iso3": "BOL", "year": 2019} .items() <= metadata["findings_list"].value[1].items()
    assert "| BOL | Bolivia (Plurinational State of) | 2019 | 4.2583 | 7.0007 |" in \
        metadata["findings_table"].value


def test_the_report_page_is_static_escaped_and_deterministic(database, tmp_path):
    conn, _ = database
    checks = [quality_report.TableResult(
        "staging.unodc_homicide", "great_expectations", "failed",
        "failed: expect_column_values_to_be_between(value) observed None",
        [{"expectation": "expect_column_values_to_be_between(value)",
          "kwargs": {"column": "value", "min_value": 0, "max_value": 250},
          "success": False, "observed_value": None, "failing_rows": 1,
          "sample": [{"iso3": "JAM", "year": 2022, "value": -53.1146}]},
         {"expectation": "expect_column_values_to_match_regex(iso3)",
          "kwargs": {"column": "iso3", "regex": "^<[A-Z]{3}>$"}, "success": True,
          "observed_value": None, "failing_rows": 0, "sample": []}])]
    data = quality_report.ReportData(checks, quality_report.warnings(conn, load_rules()[:1]),
                                     quality_report.coverage(conn), [])
    page = quality_page(data)
    assert page == quality_page(data)
    assert not re.search(r"\bsrc\s*=", page) and "<script" not in page.lower()
    assert "^&lt;[A-Z]{3}&gt;$" in page and "^<[A-Z]" not in page  # escaped
    assert "-53.1146" in page and "min_value=0, max_value=250" in page
    assert '<details id="t-staging-unodc_homicide" open>' in page  # a failure is shown open
    # The coverage grid: Jamaica has UNODC homicide rates 1990-2023 (lines 2173-2206).
    block = next(b for b in data.coverage if b.indicators[0][0] == "homicide_rate"
                 and b.source_id == "unodc_homicide")
    jamaica = next(row for row in block.rows if row[0] == "JAM")
    assert jamaica[2] is True and jamaica[3].startswith(quality_report.PRESENT * 34)
    assert len(jamaica[3]) == block.last_year - block.first_year + 1
    assert f'\n<abbr title="{jamaica[1]}">JAM</abbr>*  {jamaica[3]}\n' in page
    grid = page.split(f'<details id="{block.anchor}">', 1)[1].split("</pre>", 1)[0]
    assert not grid.endswith("\n")  # the last row closes the grid
    # written whole, through a rename
    path = write_quality_page(tmp_path / "quality", data)
    assert path.read_text(encoding="utf-8") == page
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]


def test_the_definitions_hold_one_warn_check_per_rule_and_the_report():
    from paccto_data.definitions import build_definitions

    defs = build_definitions(Settings.from_env())
    specs = [s for c in defs.asset_checks for s in c.check_specs]
    # (the sources' vintage freshness checks warn too, on raw assets: tests/test_automation.py)
    warn = {s.key.name: s for s in specs if not s.blocking and s.asset_key.path[0] != "raw"}
    assert set(warn) == {r.name for r in load_rules()}
    assert all(s.asset_key == dg.AssetKey(["core", "fact_indicator"]) for s in warn.values())
    # blocking: a table's suite, or a package's validation
    blocking = {(s.asset_key.path[0], s.key.name) for s in specs if s.blocking}
    assert blocking == {("staging", "great_expectations"), ("core", "great_expectations"),
                        ("marts", "great_expectations"), ("publication", "package_valid")}
    graph = defs.resolve_asset_graph()
    report = graph.get(dg.AssetKey(["publication", "quality_report"]))
    assert report.group_name == "publication"
    tables = {k for k in graph.get_all_asset_keys() if k.path[0] in ("staging", "core", "marts")}
    packages = {k for k in graph.get_all_asset_keys() if k.path[0] == "publication"
                and k.path[-1] != "quality_report"}
    # After every table, hence after every blocking check of a build; after every package,
    # whose no_silent_loss check it reports.
    assert set(report.parent_keys) == tables | packages
