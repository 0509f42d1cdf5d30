"""Source unodc_glotip: UNODC trafficking-in-persons data (GLOTIP), with censored counts.

Row numbers cite the one sheet ("data_glotip_1") of
assets/snapshots/unodc_glotip/data_glotip.xlsx as a spreadsheet shows them (A2 = release
stamp, header = row 3). The workbook is read once per module; bad input is made from a
trimmed copy (WorkbookCopy, from the CTS tests).
"""

import math

import pandas as pd

from paccto_data.acquire import records
from paccto_data.countries import lac_iso3
from paccto_data.quality import suites
from paccto_data.sources import unodc_glotip as glotip
from paccto_data.sources._unodc import read_long
from tests import sources
from tests.sources import catalogue_entries, used_units

SOURCE_ID = "unodc_glotip"
FACT_SUITE = suites.suite_path("core.fact_indicator")
FILE = "data_glotip.xlsx"
SHEET = "data_glotip_1"
WHERE = f"{FILE}, sheet {SHEET!r}"
VICTIMS = "human_trafficking_victims_detected"
HEADER = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
          "Sex", "Age", "Year", "Unit of measurement", "txtVALUE", "Source"]


def rows_of(table, iso3, year, indicator_id=VICTIMS, **labels):
    return sources.rows_of(table, iso3, year, indicator_id, **labels)


def one(table, iso3, year, indicator_id=VICTIMS, **labels):
    return sources.one(table, iso3, year, indicator_id, **labels)


def test_row_account(tidy):
    # 46,556 data rows (rows 4-46559). Dropped: the UNODC regional codes CAR, CAS, EEU, MCA,
    # MCN, SAF, SAM (956 rows) and "Aruba/Curacao" (row 2672) as aggregates; Sark, with no
    # code and no ISO3 (26 rows); 162 areas outside LAC; 10 LAC rows whose citizenship or
    # repatriation label is empty or "0"; 303 LAC rows that repeat a key as unsummed parts.
    assert tidy.rows_read == 46556
    assert len(tidy.table) == 7583
    assert dict(tidy.dropped) == {"aggregate": 957, "no_iso3_code": 26, "not_lac": 37677,
                                  "unlabelled_category": 10, "unsummed_parts": 303,
                                  "missing_value": 0}


def test_detected_victims_in_argentina_by_sex_and_age(tidy):
    t = tidy.table
    # rows 1189-1192: ARG, Detected trafficking victims, Total, Total, 2019:
    # Female 0 to 17 years 70, Female 18 years or over 671, Male 0 to 17 31, Male 18+ 807
    assert one(t, "ARG", 2019, sex="female", age="0 to 17 years")["value"] == 70.0
    assert one(t, "ARG", 2019, sex="female", age="18 years or over")["value"] == 671.0
    assert one(t, "ARG", 2019, sex="male", age="0 to 17 years")["value"] == 31.0
    assert one(t, "ARG", 2019, sex="male", age="18 years or over")["value"] == 807.0
    # rows 37910-37911: Female / Total 741, Male / Total 838 (the by-sex block)
    assert one(t, "ARG", 2019, sex="female")["value"] == 741.0
    assert one(t, "ARG", 2019, sex="male")["value"] == 838.0
    # row 1197: Total / Total "1,590" (thousands separator in the text value)
    row = one(t, "ARG", 2019)
    assert (row["value"], row["unit"]) == (1590.0, "victims") and pd.isna(row["flag"])
    # row 1225: by form of exploitation, Forced labour, Total, Total, 934
    assert one(t, "ARG", 2019, dimension="by form of exploitation",
               category="Forced labour")["value"] == 934.0


def test_a_censored_count_stays_censored(tidy):
    t = tidy.table
    # row 1193: ARG, victims, Other, 0 to 17 years, 2019, "<5": value NULL, flag "<5"
    row = one(t, "ARG", 2019, sex="other", age="0 to 17 years")
    assert math.isnan(row["value"]) and row["flag"] == "<5"
    # row 1198: Unknown / Unknown "<5"
    row = one(t, "ARG", 2019, sex="unknown", age="unknown")
    assert math.isnan(row["value"]) and row["flag"] == "<5"
    censored = t["flag"] == "<5"
    assert censored.sum() == 3664
    assert t.loc[censored, "value"].isna().all() and t.loc[~censored, "value"].notna().all()
    assert t.loc[~censored, "value"].min() == 5.0  # never a 0-4 that should have been "<5"


def test_citizenship_is_kept_as_the_file_writes_it(tidy):
    t = tidy.table
    # rows 1199, 1207, 1209: ARG, victims by citizenship, 2019: Argentina "1,094",
    # Paraguay 134, "R.Dominicana" 53
    by_citizenship = {"dimension": "by citizenship"}
    assert one(t, "ARG", 2019, category="Argentina", **by_citizenship)["value"] == 1094.0
    assert one(t, "ARG", 2019, category="Paraguay", **by_citizenship)["value"] == 134.0
    assert one(t, "ARG", 2019, category="R.Dominicana", **by_citizenship)["value"] == 53.0
    # row 4910: BOL, victims by citizenship, 2017, "TOTAL" 397 -> the breakdown's total
    assert one(t, "BOL", 2017, **by_citizenship)["value"] == 397.0
    # row 15484: GTM, by country of repatriation, 2017, "TOTAL POR AÑO" 5
    assert one(t, "GTM", 2017, dimension="by country of repatriation")["value"] == 5.0
    # row 1183: ARG, by country of repatriation, 2018, category "0": dropped, counted
    assert rows_of(t, "ARG", 2018, dimension="by country of repatriation",
                   category="0").empty


def test_unsummed_parts_are_dropped(tidy):
    t = tidy.table
    # rows 38374-38375: BOL, victims, Female, Total, 2017: 62 and 43, the two age groups
    # (rows 4891 and 4890) repeated instead of added: no row is "female, all ages".
    assert rows_of(t, "BOL", 2017, sex="female").empty
    assert one(t, "BOL", 2017, sex="female", age="18 years or over")["value"] == 62.0
    assert one(t, "BOL", 2017, sex="female", age="0 to 17 years")["value"] == 43.0
    # rows 37912-37913: ARG, Other, Total, 2019: "<5" and 11: dropped
    assert rows_of(t, "ARG", 2019, sex="other").empty
    # rows 42644-42648: ARG, Other forms of exploitation, Total/Total, 2019: <5, <5, 16, <5, 96
    other_forms = {"dimension": "by form of exploitation",
                   "category": "Other forms of exploitation"}
    assert rows_of(t, "ARG", 2019, **other_forms).empty
    # row 42637: Female, 18 years or over, 74 is not repeated: kept
    assert one(t, "ARG", 2019, sex="female", age="18 years or over", **other_forms)["value"] == 74.0


def test_the_release_stamp_is_the_catalogue_vintage(long):
    assert (long.sheet, long.header_row, long.stamp) == (SHEET, 3, "2023-05-30")
    assert records.source("unodc_glotip").vintage == long.stamp


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit", "flag", "sex",
                               "age", "category", "dimension",
                               "source_file", "source_locator"]
    assert sorted(t["indicator_id"].unique()) == glotip.indicator_ids() == [
        "human_trafficking_offences", "human_trafficking_persons_convicted",
        "human_trafficking_persons_in_formal_contact", "human_trafficking_persons_prosecuted",
        VICTIMS]
    assert set(t["iso3"]) <= lac_iso3() and t["iso3"].nunique() == 36
    assert (t["year"].min(), t["year"].max()) == (2003, 2021)
    assert set(t["sex"]) == {"total", "female", "male", "other", "unknown"}
    assert set(t["age"]) == {"total", "0 to 17 years", "18 years or over", "unknown"}
    assert set(t["dimension"]) == {"total", "by form of exploitation", "by citizenship",
                                   "by country of repatriation"}
    assert set(t["flag"].dropna()) == {"<5"}
    assert not t.duplicated(["iso3", "year", "indicator_id", "sex", "age", "category",
                             "dimension"]).any()
    assert not t["category"].isin(["", "0", "Total", "TOTAL", "TOTAL POR AÑO"]).any()


def test_every_indicator_is_this_sources_alone(tidy):
    # Units, titles and descriptions of every source's indicators: tests/test_sources.py.
    entries = catalogue_entries()
    assert {entries[i]["sources"] == ["unodc_glotip"] for i in used_units(tidy.table)} == {True}


def test_catalogue_record():
    source = records.source("unodc_glotip")
    assert source.redistribution == "open" and "attribution" in source.licence["name"]
    assert "30 May 2023" in source.citation
    assert source.coverage == {"first_year": 2003, "last_year": 2021}


def test_the_fact_suite_accepts_censored_rows_and_only_those(tidy):
    # The expectations of core.fact_indicator's suite that concern the flag (the rest
    # speak of other sources' indicators and of the warehouse's dimension tables).
    suite = suites.load_suite_file(FACT_SUITE)
    suite = suite | {"expectations": [
        e for e in suite["expectations"]
        if "flag" in (e["kwargs"].get("column"), *str(e["kwargs"].get("row_condition")).split())]}
    assert [(e["type"], e["kwargs"]["column"]) for e in suite["expectations"]] == [
        ("expect_column_values_to_not_be_null", "value"),
        ("expect_column_values_to_be_null", "value"),
        ("expect_column_distinct_values_to_contain_set", "flag")]
    fact = tidy.table.assign(source_id="unodc_glotip")
    outcome = sources.run_suite(fact, suite)
    assert outcome.passed, suites.summary(outcome)
    censored = fact.index[fact["flag"] == "<5"][0]
    counted = fact.index[fact["flag"].isna()][0]
    broken = fact.copy()
    broken.loc[censored, "value"] = 5.0     # a "<5" read as 5
    broken.loc[counted, "value"] = None     # a count lost without a flag
    failed = {(o.type, o.unexpected_count) for o in sources.run_suite(broken, suite).failures}
    assert failed == {("expect_column_values_to_be_null", 1),
                      ("expect_column_values_to_not_be_null", 1)}
    # No censored row at all: the presence check fails instead of passing on no rows.
    uncensored = fact[fact["flag"].isna()]
    assert [o.type for o in sources.run_suite(uncensored, suite).failures] == [
        "expect_column_distinct_values_to_contain_set"]


# --- broken copies -------------------------------------------------------------------------

KEEP = {1, 2, 3, *range(14, 31), *range(1180, 1241), 2672, *range(4886, 4922),
        *range(5996, 6001), *range(15480, 15491), *range(37755, 37761), *range(37905, 37926),
        *range(38370, 38381), *range(42630, 42650)}


def test_the_trimmed_copy_reads_through_the_real_tidy_function(broken):
    result = glotip.tidy_glotip(broken())
    t = result.table
    assert one(t, "ARG", 2019)["value"] == 1590.0
    assert one(t, "ARG", 2019, sex="other", age="0 to 17 years")["flag"] == "<5"
    assert result.dropped["aggregate"] == 6      # Aruba/Curacao (2672), CAR (5996-6000)
    assert result.dropped["no_iso3_code"] == 6   # Sark, rows 37755-37760
    assert result.dropped["unlabelled_category"] == 1  # row 1183


def test_renamed_column(broken, error_of):
    error = error_of(broken({"L3": "VALUE"}))
    assert (error.sheet, error.row, error.column) == (SHEET, 3, "txtVALUE")
    assert str(error).startswith(f"{WHERE}, row 3, column 'txtVALUE': column 'txtVALUE' is "
                                 "missing")


def test_a_moved_header_still_parses(broken):
    files = broken(rows={3: ["Trafficking in persons"], 5: HEADER})
    long = read_long(files["data"], glotip.VALUE_COLUMN)
    assert (long.header_row, long.stamp) == (5, "2023-05-30")
    assert one(glotip.tidy_from(long).table, "ARG", 2019, sex="male")["value"] == 838.0


def test_unknown_country(broken, error_of):
    error = error_of(broken({"A1197": "ARX"}))
    assert (error.row, error.column, error.value) == (1197, "Iso3_code", "ARX")
    assert str(error).startswith(f"{WHERE}, row 1197, column 'Iso3_code': cannot resolve")


def test_a_value_that_is_neither_a_count_nor_censored(broken, error_of):
    error = error_of(broken({"L1193": "<3"}))
    assert str(error) == (f"{WHERE}, row 1193, column 'txtVALUE': not a number (value '<3'); "
                          "expected a number or one of ['', '..']")


def test_unknown_sex(broken, error_of):
    error = error_of(broken({"H1190": "Females"}))
    assert (error.row, error.column, error.value) == (1190, "Sex", "Females")


def test_duplicate_key(broken, error_of):
    # Row 1191 (Male, 0 to 17, 31) relabelled Female repeats row 1189 (Female, 0 to 17, 70);
    # that is not one of the file's known repeats: it fails.
    error = error_of(broken({"H1191": "Female"}))
    assert (error.row, error.value) == (1191, ("ARG", 2019, VICTIMS, "female", "0 to 17 years",
                                               "total", "total"))
    assert "duplicate of row 1189" in str(error)


def test_a_known_repeat_is_dropped_as_unsummed_parts(broken):
    # Row 37911 (ARG, Male, age Total, 2019, 838) relabelled Female shares its key with row
    # 37910 (Female, 741): a repeat of the by-sex block, so both go as unsummed parts.
    result = glotip.tidy_glotip(broken({"H37911": "Female"}))
    assert rows_of(result.table, "ARG", 2019, sex="female").empty
    assert result.dropped["unsummed_parts"] == glotip.tidy_glotip(broken()).dropped[
        "unsummed_parts"] + 2


def test_negative_count_is_caught_by_the_suite(broken):
    table = glotip.tidy_glotip(broken({"L1190": "-671"})).table
    check = next(o for o in sources.run_suite(table, "staging.unodc_glotip").outcomes
                 if o.type == "expect_column_values_to_be_between"
                 and o.kwargs["column"] == "value")
    assert not check.success and check.unexpected_count == 1
    assert check.sample[0]["value"] == -671.0
