"""The join: programme activities set against the indicators, in the released warehouse.

The session's offline build and release (`warehouse_build`) is shared by this module and
tests/test_docs_sql.py. Literal
values cite the bundled source files: assets/snapshots/unodc_homicide/homicide-rate-unodc.csv
(line numbers), assets/snapshots/wb_wgi/wgidataset.xlsx (sheet "Sheet1", row numbers),
assets/snapshots/wb_population/API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv, and the register
assets/snapshots/paccto_activities/activities.csv (line numbers) with its SOURCE.md.
"""

import re

import dagster as dg
import duckdb
import pandas as pd
import pytest

from paccto_data import activities
from paccto_data.settings import ASSETS_DIR
from paccto_data.warehouse.reference import FRAMES, data_dictionary

pytestmark = pytest.mark.e2e

# The 12 EC phase-2 partners with no row in the register (SOURCE.md, "Rows by country").
PARTNERS_WITHOUT_ACTIVITY = ["ATG", "BLZ", "BRB", "DMA", "GRD", "GUY", "HTI", "JAM", "KNA",
                             "LCA", "SUR", "VCT"]


@pytest.fixture(scope="module")
def warehouse(warehouse_build):
    """The released warehouse of the session's build, read only."""
    with duckdb.connect(str(warehouse_build.settings.warehouse), read_only=True) as conn:
        yield conn


def test_the_activity_tables_and_marts_passed_their_blocking_checks(warehouse_build):
    evaluations = [e for e in warehouse_build.result.get_asset_check_evaluations()
                   if e.severity == dg.AssetCheckSeverity.ERROR]  # warn checks may warn
    assert all(e.passed for e in evaluations), [
        (e.asset_key, e.description) for e in evaluations if not e.passed]
    checked = {e.asset_key.to_user_string() for e in evaluations}
    assert {"staging/paccto_activities", "staging/paccto_activity_countries",
            "core/dim_activity", "core/bridge_activity_country", "marts/activity_context",
            "marts/country_year", "marts/region_year", "marts/programme_coverage",
            "marts/data_dictionary"} <= checked


def rows(conn, sql, *params):
    return conn.execute(sql, list(params)).df()


def context(conn, activity_id):
    frame = rows(conn, "SELECT * FROM marts.activity_context WHERE activity_id = ?", activity_id)
    return {(r.iso3, r.indicator_id): r for r in frame.itertuples(index=False)}


# --- marts.activity_context ------------------------------------------------------------------

def test_technical_assistance_to_paraguay(warehouse):
    # Register line 4: ACT-0003, 2018-02, technical assistance to Paraguay on organised crime
    # inside prisons; crime areas prison_system;organised_crime_general; PRY, hosted by PRY.
    ctx = context(warehouse, "ACT-0003")
    homicide = ctx[("PRY", "homicide_rate")]
    # homicide-rate-unodc.csv line 3412: Paraguay,PRY,2017,8.534926; line 3418: …,2023,6.779516
    # (the latest year UNODC reports for Paraguay).
    assert (homicide.start_year, homicide.role, homicide.source_id) == (2018, "host",
                                                                        "unodc_homicide")
    assert (homicide.baseline_year, homicide.baseline_value) == (2017, 8.534926)
    assert (homicide.latest_year, homicide.latest_value) == (2023, 6.779516)
    assert homicide.change == pytest.approx(6.779516 - 8.534926)
    assert homicide.status == "ok" and pd.isna(homicide.reason)
    assert list(homicide.via_crime_areas) == ["organised_crime_general"]
    # wgidataset.xlsx row 23907: PRYrl2017 estimate -0.667961835861206;
    # row 31611: PRYrl2023 estimate -0.5821745991706848.
    rule_of_law = ctx[("PRY", "wgi_rl_estimate")]
    assert (rule_of_law.baseline_year, rule_of_law.baseline_value) == (2017, -0.667961835861206)
    assert (rule_of_law.latest_year, rule_of_law.latest_value) == (2023, -0.5821745991706848)
    assert rule_of_law.change == pytest.approx(0.0857872366905212)
    assert list(rule_of_law.via_crime_areas) == ["prison_system"]


def test_annual_meeting_in_quito(warehouse):
    # Register line 8: ACT-0007, 2018 Annual Programme Meeting (Quito), crime areas
    # corruption;organised_crime_general, ECU, hosted by ECU.
    ctx = context(warehouse, "ACT-0007")
    homicide = ctx[("ECU", "homicide_rate")]
    # homicide-rate-unodc.csv line 1327: Ecuador,ECU,2017,5.7877555; line 1333: …,2023,45.722813
    assert (homicide.baseline_year, homicide.baseline_value) == (2017, 5.7877555)
    assert (homicide.latest_year, homicide.latest_value) == (2023, 45.722813)
    assert homicide.change == pytest.approx(39.9350575)
    # wgidataset.xlsx row 23170: ECUcc2017 -0.6261046528816223; row 30874: ECUcc2023
    # -0.6473374366760254. Corruption maps to control of corruption.
    corruption = ctx[("ECU", "wgi_cc_estimate")]
    assert (corruption.baseline_value, corruption.latest_value) == (
        -0.6261046528816223, -0.6473374366760254)
    assert list(corruption.via_crime_areas) == ["corruption"]
    assert corruption.unit == "standard normal units (about -2.5 to 2.5)"
    # Every indicator mapped to corruption or organised crime has its row, with or without value.
    mapping = FRAMES["crime_area_indicators"]()
    expected = set(mapping.loc[mapping["crime_area"].isin(["corruption", "organised_crime_general"]),
                               "indicator_id"])
    assert {indicator for _, indicator in ctx} == expected
    assert all(r.status in ("ok", "no_value", "no_baseline", "no_value_since_activity")
               and (r.status == "ok") == pd.isna(r.reason) for r in ctx.values())


def test_an_activity_after_the_latest_data_says_so(warehouse):
    # Register line 89: ACT-0088, 2024-02-29, Caribbean ambassadors meet the Commission in
    # Brussels: countries BHS, host BEL (not listed: a participant too). Only BHS is in LAC.
    ctx = context(warehouse, "ACT-0088")
    assert set(ctx) == {("BHS", "homicide_rate")}
    row = ctx[("BHS", "homicide_rate")]
    # homicide-rate-unodc.csv: the Bahamas' latest rate is for 2022 (32.19814).
    assert (row.role, row.baseline_year, row.baseline_value, row.latest_year) == (
        "participant", 2022, 32.19814, 2022)
    assert row.change is None or pd.isna(row.change)
    assert row.status == "no_value_since_activity"
    assert row.reason == ("The latest value (2022) is older than the activity (2024): no change "
                          "to report yet")


def test_an_activity_without_a_lac_country_is_a_row_with_a_reason(warehouse):
    # Register line 87: ACT-0086, 2023-11-21, countries ESP;FRA;ITA;PRT;NLD, host BEL,
    # crime area organised_crime_general.
    ctx = context(warehouse, "ACT-0086")
    assert list(ctx) == [(None, "homicide_rate")]
    row = ctx[(None, "homicide_rate")]
    assert row.status == "no_lac_country"
    assert row.reason == ("The register names no Latin American or Caribbean country for this "
                          "activity (only countries outside LAC)")


def test_an_activity_without_a_mapped_indicator_is_a_row_with_a_reason(warehouse):
    # Register line 67: ACT-0066, Lima workshop against illicit traffic in cultural assets,
    # crime area cultural_property only (no indicator describes it), PER.
    areas = rows(warehouse, "SELECT crime_areas FROM core.dim_activity WHERE activity_id = ?",
                 "ACT-0066")["crime_areas"][0]
    assert list(areas) == ["cultural_property"]
    ctx = context(warehouse, "ACT-0066")
    assert list(ctx) == [("PER", None)]
    assert all(indicator is None for _, indicator in ctx) and ctx
    assert {r.status for r in ctx.values()} == {"no_indicator_mapped"}
    assert next(iter(ctx.values())).reason == (
        "No indicator is mapped to its crime areas (cultural_property) in "
        "assets/activities/crime_area_indicators.yaml")


def test_every_activity_and_lac_country_has_its_rows(warehouse):
    counts = warehouse.execute("""
        SELECT (SELECT count(DISTINCT activity_id) FROM marts.activity_context),
               (SELECT count(*) FROM (SELECT DISTINCT activity_id, iso3 FROM marts.activity_context
                                      WHERE iso3 IS NOT NULL)),
               (SELECT count(*) FROM core.bridge_activity_country WHERE is_lac)
    """).fetchone()
    # 102 activities; 312 (activity, LAC country) pairs: 393 bridge rows less 81 outside LAC.
    assert counts == (102, 312, 312)
    gaps = warehouse.execute("""
        SELECT count(*) FROM marts.activity_context
        WHERE status <> 'ok' AND reason IS NULL OR status = 'ok' AND change IS NULL
    """).fetchone()[0]
    assert gaps == 0


# --- marts.country_year, marts.programme_coverage --------------------------------------------

def test_panama_2021_in_country_year(warehouse):
    row = rows(warehouse, "SELECT * FROM marts.country_year WHERE iso3 = 'PAN' AND year = 2021"
               ).iloc[0]
    # homicide-rate-unodc.csv line 3380: Panama,PAN,2021,12.657048
    assert (row.homicide_rate, row.homicide_rate_source_id) == (12.657048, "unodc_homicide")
    # API_SP.POP.TOTL…csv, Panama, column 2021: 4345405
    assert (row.population, row.population_source_id) == (4345405.0, "wb_population")
    # Register: 8 activities started in 2021 name Panama (3 of them hosted there).
    assert (row.n_activities, row.n_activities_hosted, row.n_activities_phase_1) == (8, 3, 8)
    assert row.n_line_1_dialogue + row.n_line_2_capacity_building \
        + row.n_line_3_operational_cooperation == 8
    frame = rows(warehouse, "SELECT min(year) AS first, max(year) AS last, count(*) AS n, "
                 "count(DISTINCT iso3) AS countries FROM marts.country_year").iloc[0]
    assert (frame["first"], frame["last"], frame["n"], frame["countries"]) == (1990, 2026, 52 * 37, 52)


def test_programme_coverage_matches_source_md(warehouse):
    cov = rows(warehouse, "SELECT * FROM marts.programme_coverage").set_index("iso3")
    assert len(cov) == 52 and cov["is_programme_partner"].sum() == 31
    # SOURCE.md, rows by country: (rows, of which phase 2, host of)
    for iso3, expected in {"CHL": (30, 3, 3), "PAN": (28, 3, 9), "ECU": (26, 1, 8),
                           "PER": (25, 2, 7), "BHS": (1, 1, 0), "TTO": (1, 1, 1),
                           "NIC": (1, 0, 0)}.items():
        row = cov.loc[iso3]
        assert (row.n_activities, row.n_activities_phase_2, row.n_activities_hosted) == expected
    none = cov[cov["is_programme_partner"] & (cov["n_activities"] == 0)]
    assert sorted(none.index) == PARTNERS_WITHOUT_ACTIVITY
    assert none["first_activity_id"].isna().all()
    assert not cov.loc["NIC", "is_programme_partner"]
    # PAN: first ACT-0001 (2017-07-10, line 2), last ACT-0097 (2025-03-07, line 98).
    assert (cov.loc["PAN", "first_activity_id"], cov.loc["PAN", "last_activity_id"]) == (
        "ACT-0001", "ACT-0097")
    assert cov.loc["PAN", "last_activity_date"] == pd.Timestamp("2025-03-07")
    # Latest headline values: Paraguay's homicide rate (2023, line 3418), rule of law (2023).
    assert (cov.loc["PRY", "homicide_rate"], cov.loc["PRY", "homicide_rate_year"]) == (6.779516, 2023)
    assert cov.loc["PRY", "wgi_rl_estimate"] == -0.5821745991706848


def test_crime_area_and_headline_columns_follow_the_yaml(warehouse):
    areas = list(activities.vocabularies().codes["crime_area"])
    headline = FRAMES["headline_indicators"]()["indicator_id"].tolist()
    for table in ("country_year", "programme_coverage"):
        columns = [r[0] for r in warehouse.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
            "AND table_name = ?", [table]).fetchall()]
        missing = [f"n_{a}" for a in areas if f"n_{a}" not in columns]
        assert not missing, (f"marts.{table} has no column for crime areas {missing}: add "
                             f"them to paccto_data/warehouse/sql/marts/{table}.sql")
        missing = [h for h in headline if h not in columns or f"{h}_source_id" not in columns]
        assert not missing, f"marts.{table} lacks headline indicators {missing}"
    # The crime-area counts add up to the crime-area mentions of the LAC country rows.
    total = warehouse.execute("""
        SELECT sum(len(a.crime_areas)) FROM core.bridge_activity_country AS b
        JOIN core.dim_activity AS a USING (activity_id) WHERE b.is_lac""").fetchone()[0]
    summed = warehouse.execute("SELECT " + " + ".join(f"sum(n_{a})" for a in areas)
                               + " FROM marts.programme_coverage").fetchone()[0]
    assert summed == total


# --- marts.region_year -----------------------------------------------------------------------

def test_region_year_is_the_population_weighted_mean_of_the_source_files(warehouse):
    """Recompute LAC's 2020 homicide rate from the two bundled CSVs, without the warehouse."""
    from paccto_data.countries import lac_iso3

    homicide = pd.read_csv(ASSETS_DIR / "snapshots/unodc_homicide/homicide-rate-unodc.csv")
    homicide = homicide[(homicide["Year"] == 2020) & homicide["Code"].isin(lac_iso3())]
    population = pd.read_csv(
        ASSETS_DIR / "snapshots/wb_population/API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv",
        skiprows=4, encoding="latin-1")[["Country Code", "2020"]]
    population = population[population["Country Code"].isin(lac_iso3())].dropna()
    both = homicide.merge(population, left_on="Code", right_on="Country Code")
    rate = both["Homicide rate per 100,000 population"]
    expected = (rate * both["2020"]).sum() / both["2020"].sum()
    coverage = both["2020"].sum() / population["2020"].sum()
    row = rows(warehouse, """SELECT * FROM marts.region_year WHERE region_id = 'lac'
               AND year = 2020 AND indicator_id = 'homicide_rate'
               AND source_id = 'unodc_homicide'""").iloc[0]
    assert row.value == pytest.approx(expected, rel=1e-12)
    assert row.population_coverage == pytest.approx(coverage, rel=1e-12)
    assert (row.countries_weighted, row.status) == (len(both), "ok")
    assert 19 < row.value < 22


def test_region_year_below_the_threshold_is_null_with_a_reason(warehouse):
    below = rows(warehouse, """SELECT * FROM marts.region_year WHERE status = 'below_coverage'
                 AND indicator_id = 'homicide_rate' AND source_id = 'unodc_homicide'
                 AND region_id = 'lac' AND year = 2024""").iloc[0]
    # 2024: UNODC's file holds a homicide rate for one LAC country only.
    assert pd.isna(below.value) and below.countries_weighted == 1
    assert re.fullmatch(r"The 1 reporting country holds \d+\.\d% of the region's population, "
                        r"below the 66\.7% threshold", below.reason)
    assert (below.coverage_threshold, below.population_coverage < 2 / 3) == (pytest.approx(2 / 3), True)


# --- the data dictionary ----------------------------------------------------------------------

def test_the_release_carries_the_dictionary_as_comments(warehouse):
    comment = warehouse.execute("""
        SELECT comment FROM duckdb_columns() WHERE schema_name = 'marts'
        AND table_name = 'activity_context' AND column_name = 'change'""").fetchone()[0]
    assert comment.startswith("latest_value minus baseline_value; only when status is ok. "
                              "Unit: see unit. Caveat: A difference")
    undocumented = warehouse.execute("""
        SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns()
        WHERE schema_name IN ('core', 'marts') AND comment IS NULL""").fetchall()
    assert undocumented == [], "describe them in assets/data_dictionary.yaml"
    tables = warehouse.execute("""SELECT count(*) FROM duckdb_tables()
        WHERE schema_name IN ('core', 'marts') AND comment IS NULL""").fetchone()[0]
    assert tables == 0
    documented = {(r.schema_name, r.table_name, r.column_name)
                  for r in data_dictionary().itertuples() if isinstance(r.column_name, str)}
    released = set(warehouse.execute("""SELECT schema_name, table_name, column_name
        FROM duckdb_columns() WHERE schema_name IN ('core', 'marts')""").fetchall())
    assert documented == released, "assets/data_dictionary.yaml describes columns that do not exist"
    listed = warehouse.execute("SELECT count(*) FROM marts.data_dictionary").fetchone()[0]
    assert listed == len(data_dictionary()) - 7  # all but its own 6 columns and table row

