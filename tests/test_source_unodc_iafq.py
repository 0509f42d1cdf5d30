"""Source unodc_iafq: UNODC Illicit Arms Flows Questionnaire (firearms trafficking).

Row numbers cite the one sheet ("data_iafq_firearms_trafficking") of
assets/snapshots/unodc_iafq/data_iafq_firearms_trafficking.xlsx as a spreadsheet shows them
(A2 = release stamp, header = row 3). The workbook is read once per module; bad input is made
from a trimmed copy (WorkbookCopy, from the CTS tests).
"""

import pandas as pd

from paccto_data.acquire import records
from paccto_data.countries import lac_iso3
from paccto_data.sources import unodc_iafq as iafq
from paccto_data.sources._unodc import read_long
from tests import sources
from tests.sources import catalogue_entries, used_units

SOURCE_ID = "unodc_iafq"
FILE = "data_iafq_firearms_trafficking.xlsx"
SHEET = "data_iafq_firearms_trafficking"
WHERE = f"{FILE}, sheet {SHEET!r}"
HEADER = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
          "Sex", "Age", "Year", "Unit of measurement", "VALUE", "Source"]


def rows_of(table, iso3, year, indicator_id="arms_seized", **labels):
    return sources.rows_of(table, iso3, year, indicator_id, **labels)


def one(table, iso3, year, indicator_id="arms_seized", **labels):
    return sources.one(table, iso3, year, indicator_id, **labels)


def test_row_account(tidy):
    # 15,468 data rows (rows 4-15471), every code ISO3. Dropped: 89 countries outside LAC;
    # LAC keys the file repeats (170 rows): 37 identical copies, 96 rows in groups that
    # disagree. No empty value.
    assert tidy.rows_read == 15468
    assert len(tidy.table) == 4178
    assert dict(tidy.dropped) == {"not_lac": 11157, "unlabelled_category": 0,
                                  "conflicting_repeated_key": 96, "repeated_row": 37,
                                  "missing_value": 0}


def test_firearms_seized_in_colombia(tidy):
    t = tidy.table
    # row 665: COL, Colombia, Arms seized, Total, Total, na, na, 2021, Counts, 18338, IAFQ/PP
    row = one(t, "COL", 2021)
    assert (row["value"], row["unit"], row["flag"]) == (18338.0, "arms", "IAFQ/PP")
    # row 676: by type, pistol, 6107 (IAFQ/PP); row 678: "rifle (Inlcuding Carbine)" 628
    assert one(t, "COL", 2021, dimension="by type", category="pistol")["value"] == 6107.0
    assert one(t, "COL", 2021, dimension="by type",
               category="rifle (Including Carbine)")["value"] == 628.0
    # row 672: by marking, "unknown Status On Marking", 1
    assert one(t, "COL", 2021, dimension="by marking",
               category="unknown status on marking")["value"] == 1.0
    # row 684: by location, national territory, 18338, Source IAFQ: no flag
    row = one(t, "COL", 2021, dimension="by location", category="national territory")
    assert row["value"] == 18338.0 and pd.isna(row["flag"])
    # rows 724, 6886, 6919: 2022 19397, 2018 22314, 2010 44564
    assert [one(t, "COL", y)["value"] for y in (2022, 2018, 2010)] == [19397.0, 22314.0, 44564.0]


def test_ammunition_and_persons_in_colombia(tidy):
    t = tidy.table
    # row 658: Ammunition seized, 2021, 988681
    assert one(t, "COL", 2021, "ammunition_seized")["value"] == 988681.0
    # row 704: Parts and components seized, 2021, 479
    assert one(t, "COL", 2021, "arms_parts_seized")["value"] == 479.0
    # rows 697-699: Individuals arrested/suspected for illicit trafficking in weapons, 2021:
    # Female 722, Male 14608, Total 15330 (Age "Total")
    arrested = "arms_trafficking_persons_arrested"
    assert one(t, "COL", 2021, arrested, sex="female")["value"] == 722.0
    assert one(t, "COL", 2021, arrested, sex="male")["value"] == 14608.0
    assert one(t, "COL", 2021, arrested)["value"] == 15330.0
    # row 700: "Individuals arrested/suspected", by type of offences, "Only for illicit
    # trafficking in arms", 15330: the same measure, with its breakdown in the columns
    assert one(t, "COL", 2021, arrested, dimension="by type of offences",
               category="Only for illicit trafficking in arms")["value"] == 15330.0
    # row 701: prosecuted 0
    assert one(t, "COL", 2021, "arms_trafficking_persons_prosecuted")["value"] == 0.0


def test_repeated_keys(tidy):
    t = tidy.table
    # rows 685 and 696: COL 2021, Arms seized, by location, Total: 18338 and 3978 (the place
    # of seizure's total and the tracing status's): neither is kept.
    assert rows_of(t, "COL", 2021, dimension="by location").query("category == 'total'").empty
    # rows 668 and 670: by condition, "otherwise illicitly manufactured", 7837 and 52
    assert rows_of(t, "COL", 2021, dimension="by condition",
                   category="otherwise illicitly manufactured").empty
    # rows 5069 and 5208: ARG 2016, by location, Total, 23664 twice: one row kept
    assert one(t, "ARG", 2016, dimension="by location")["value"] == 23664.0


def test_the_release_stamp_is_the_catalogue_vintage(long):
    assert (long.sheet, long.header_row, long.stamp) == (SHEET, 3, "2024-08-26")
    assert records.source("unodc_iafq").vintage == long.stamp


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit", "flag", "sex",
                               "age", "category", "dimension",
                               "source_file", "source_locator"]
    assert sorted(t["indicator_id"].unique()) == iafq.indicator_ids()
    assert len(iafq.indicator_ids()) == 10
    assert set(t["iso3"]) <= lac_iso3() and t["iso3"].nunique() == 27
    assert (t["year"].min(), t["year"].max()) == (2004, 2023)
    assert set(t["age"]) == {"total"}
    assert set(t["sex"]) == {"total", "female", "male", "unknown"}
    assert set(t.loc[t["sex"] != "total", "indicator_id"]) == {
        "arms_trafficking_persons_arrested", "arms_trafficking_persons_prosecuted",
        "arms_trafficking_persons_convicted"}
    assert not t["category"].isin(["rifle (Inlcuding Carbine)", "illicit posession",
                                   "unknown Status On Marking"]).any()
    assert t["value"].notna().all()
    assert not t.duplicated(["iso3", "year", "indicator_id", "sex", "age", "category",
                             "dimension"]).any()


def test_every_indicator_is_this_sources_alone(tidy):
    # Units, titles and descriptions of every source's indicators: tests/test_sources.py.
    entries = catalogue_entries()
    assert {entries[i]["sources"] == ["unodc_iafq"] for i in used_units(tidy.table)} == {True}


def test_catalogue_record():
    source = records.source("unodc_iafq")
    assert source.redistribution == "open" and "attribution" in source.licence["name"]
    assert "26 August 2024" in source.citation
    assert source.coverage == {"first_year": 2004, "last_year": 2023}


# --- broken copies -------------------------------------------------------------------------

KEEP = {1, 2, 3, *range(14, 61), *range(180, 231), *range(650, 711), *range(5060, 5076),
        *range(5200, 5211)}


def test_the_trimmed_copy_reads_through_the_real_tidy_function(broken):
    result = iafq.tidy_iafq(broken())
    assert one(result.table, "COL", 2021)["value"] == 18338.0
    # ARG 2021 by location Total: 14625 and 0 (rows 185, 189); COL 2021: rows 685/696 and
    # 668/670: 6 rows in conflict. ARG 2022 (rows 223, 226: 0, 0) and 2016 (5069, 5208):
    # one copy each dropped.
    assert (result.dropped["conflicting_repeated_key"], result.dropped["repeated_row"]) == (6, 2)


def test_renamed_column(broken, error_of):
    error = error_of(broken({"E3": "Indicators"}))
    assert (error.sheet, error.row, error.column) == (SHEET, 3, "Indicator")


def test_a_moved_header_still_parses(broken):
    files = broken(rows={3: [], 10: HEADER})
    long = read_long(files["data"], iafq.VALUE_COLUMN)
    assert long.header_row == 10
    assert one(iafq.tidy_from(long).table, "COL", 2021)["value"] == 18338.0


def test_unknown_country(broken, error_of):
    error = error_of(broken({"A665": "Gran Colombia"}))
    assert (error.row, error.column, error.value) == (665, "Iso3_code", "Gran Colombia")


def test_unit_that_disagrees_with_the_indicator(broken, error_of):
    error = error_of(broken({"K665": "Rate per 100,000 population"}))
    assert str(error) == (f"{WHERE}, row 665, column 'Unit of measurement': the unit does not "
                          "agree with the indicator (value 'Rate per 100,000 population'); "
                          "expected 'Counts' (arms_seized)")


def test_unknown_indicator(broken, error_of):
    error = error_of(broken({"E665": "Arms destroyed"}))
    assert (error.row, error.column, error.value) == (665, "Indicator", "Arms destroyed")


def test_unknown_dimension(broken, error_of):
    error = error_of(broken({"F676": "by calibre"}))
    assert (error.row, error.column, error.value) == (676, "Dimension", "by calibre")


def test_year_not_a_year(broken, error_of):
    error = error_of(broken({"J665": "20x1"}))
    assert (error.row, error.column, error.value) == (665, "Year", "20x1")


def test_duplicate_key(broken, error_of):
    # Row 677 (by type, revolver, 7820) relabelled pistol repeats row 676: not a known repeat.
    error = error_of(broken({"G677": "pistol"}))
    assert (error.row, error.value) == (677, ("COL", 2021, "arms_seized", "total", "total",
                                              "pistol", "by type"))
    assert "duplicate of row 676" in str(error)


def test_negative_count_is_caught_by_the_suite(broken, run_suite):
    table = iafq.tidy_iafq(broken({"L676": -6107})).table
    check = next(o for o in run_suite(table).outcomes
                 if o.type == "expect_column_values_to_be_between"
                 and o.kwargs["column"] == "value")
    assert not check.success and check.unexpected_count == 1
    assert check.sample[0]["value"] == -6107.0
