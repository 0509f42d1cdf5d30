"""Source unodc_cts_corruption: UNODC-CTS police-recorded corruption and economic crime.

Row numbers cite the one sheet ("data_cts_corruption_and_economi") of
assets/snapshots/unodc_cts_corruption/data_cts_corruption_and_economic_crime.xlsx as a
spreadsheet shows them (A2 = release stamp, header = row 3). The workbook is read once per
module; bad input is made by editing the sheet XML of a trimmed copy (`WorkbookCopy`, also
used by the GLOTIP and IAFQ tests).
"""

import pandas as pd

from paccto_data.acquire import records
from paccto_data.countries import lac_iso3
from paccto_data.sources import unodc_cts_corruption as cts
from paccto_data.sources._unodc import HEADER_WITHIN, read_long
from tests.sources import catalogue_entries, used_units

SOURCE_ID = "unodc_cts_corruption"
FILE = "data_cts_corruption_and_economic_crime.xlsx"
SHEET = "data_cts_corruption_and_economi"
WHERE = f"{FILE}, sheet {SHEET!r}"
HEADER = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
          "Sex", "Age", "Year", "Unit of measurement", "VALUE", "Source"]


# --- the real file, read once (the `long` and `tidy` fixtures) -------------------------------

def value_of(table, iso3, year, indicator_id):
    rows = table[(table["iso3"] == iso3) & (table["year"] == year)
                 & (table["indicator_id"] == indicator_id)]
    assert len(rows) == 1, (iso3, year, indicator_id, rows)
    return rows.iloc[0]


def test_row_account(tidy):
    # 22,754 data rows (rows 4-22757). Dropped: GBR_E_W, GBR_NI, GBR_S, IRQ_C (sub-national)
    # 634; XKX (Kosovo) 210; 125 areas outside LAC 16,628; LAC theft, motor-vehicle theft and
    # burglary 2,294. No empty or ".." value in the file.
    assert tidy.rows_read == 22754
    assert len(tidy.table) == 2988
    assert dict(tidy.dropped) == {"sub_national": 634, "not_an_m49_area": 210,
                                  "not_lac": 16628, "out_of_scope_offence": 2294,
                                  "missing_value": 0}


def test_values_cited_from_the_workbook(tidy):
    t = tidy.table
    # row 1052: MEX, Mexico, Offences, by type of offence, Corruption: Bribery, 2019, Counts, 3546
    assert value_of(t, "MEX", 2019, "bribery_offences_count")["value"] == 3546.0
    # row 12429: the same as a rate per 100,000 population
    assert value_of(t, "MEX", 2019, "bribery_offences_rate")["value"] == 2.83486523849311
    # row 969: Mexico, bribery, 2018, Counts, 2512
    assert value_of(t, "MEX", 2018, "bribery_offences_count")["value"] == 2512.0
    # rows 616 and 11993: Mexico, Corruption, 2022: 22051 offences, 17.294342370122 per 100,000
    assert value_of(t, "MEX", 2022, "corruption_offences_count")["value"] == 22051.0
    assert value_of(t, "MEX", 2022, "corruption_offences_rate")["value"] == 17.294342370122
    row = value_of(t, "MEX", 2022, "corruption_offences_count")
    assert (row["unit"], row["sex"], row["age"], row["category"], row["dimension"]) == (
        "offences", "total", "total", "total", "total")
    assert pd.isna(row["flag"])  # Source "CTS": no flag
    # row 242: PAN, Corruption, 2017, Counts, 283, Source "PPR/CTS" -> flag
    row = value_of(t, "PAN", 2017, "corruption_offences_count")
    assert (row["value"], row["flag"]) == (283.0, "PPR/CTS")


def test_the_release_stamp_is_the_catalogue_vintage(long):
    # A2 holds the text "16/05/2024".
    assert (long.sheet, long.header_row, long.stamp) == (SHEET, 3, "2024-05-16")
    assert records.source("unodc_cts_corruption").vintage == long.stamp


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit", "flag", "sex",
                               "age", "category", "dimension",
                               "source_file", "source_locator"]
    assert sorted(t["indicator_id"].unique()) == cts.indicator_ids()
    assert len(cts.indicator_ids()) == 28
    assert {"theft", "burglary"}.isdisjoint("".join(cts.indicator_ids()).split("_"))
    assert set(t["iso3"]) <= lac_iso3() and t["iso3"].nunique() == 31
    assert (t["year"].min(), t["year"].max()) == (2013, 2022)
    for column in ("sex", "age", "category", "dimension"):
        assert set(t[column]) == {"total"}
    assert t["value"].notna().all()
    # Counts and rates come in pairs: every count has its rate and vice versa.
    stem = t["indicator_id"].str.replace(r"_(count|rate)$", "", regex=True)
    pairs = t.assign(stem=stem).groupby(["iso3", "year", "stem"]).size()
    assert set(pairs) == {2}
    assert set(t["flag"].dropna()) == {"CTS/MoI", "CTS/NGO", "MoI", "MoI/CTS", "NGO",
                                       "NGO/CTS", "PPR/CTS"}
    assert not t.duplicated(["iso3", "year", "indicator_id"]).any()


def test_units_are_the_catalogue_units(tidy):
    # Units, titles and descriptions of every source's indicators: tests/test_sources.py.
    entries = catalogue_entries()
    for indicator_id in used_units(tidy.table):
        entry = entries[indicator_id]
        assert entry["sources"] == ["unodc_cts_corruption"] and entry["valid_min"] == 0
        assert entry["unit"] == ("offences" if indicator_id.endswith("_count")
                                 else "offences per 100,000 population")


def test_catalogue_record():
    source = records.source("unodc_cts_corruption")
    assert source.redistribution == "open" and "attribution" in source.licence["name"]
    assert "United Nations Office on Drugs and Crime" in source.citation
    assert "16 May 2024" in source.citation
    assert source.coverage == {"first_year": 2003, "last_year": 2022}
    assert source.file("data").sha256 == (
        "1edd4a187adeebe35eda38b0f9fb78cdf74f41631d49960dbffe555c252e602c")


# --- broken copies (`broken`: the KEEP rows of the workbook, edited) -------------------------

# Preamble and header, then data from row 14 (GBR_S) on: rows 4-13 are free for a moved header.
KEEP = {1, 2, 3, *range(14, 251), *range(960, 976), *range(1040, 1061), *range(12420, 12436),
        *range(14440, 14451)}


def test_the_trimmed_copy_reads_through_the_real_tidy_function(broken):
    result = cts.tidy_cts_corruption(broken())
    t = result.table
    assert value_of(t, "MEX", 2019, "bribery_offences_count")["value"] == 3546.0
    assert value_of(t, "MEX", 2019, "bribery_offences_rate")["value"] == 2.83486523849311
    # GBR_S (row 14…) and XKX (row 31…) are dropped by reason; BRA "bru" (row 14444) is a
    # reviewed typo on a burglary row, dropped as out of scope.
    assert result.dropped["sub_national"] > 0 and result.dropped["not_an_m49_area"] > 0
    assert result.dropped["out_of_scope_offence"] == 5  # BHS, BLZ, BRA, BRB, CHL, 2010


def test_renamed_column(broken, error_of):
    error = error_of(broken({"L3": "VALUES"}))
    assert (error.sheet, error.row, error.column) == (SHEET, 3, "VALUE")
    assert str(error).startswith(f"{WHERE}, row 3, column 'VALUE': column 'VALUE' is missing")


def test_a_moved_header_still_parses(broken):
    # A note in row 3 and the header in row 8: the data keep their rows.
    files = broken(rows={3: ["Note: data revised"], 8: HEADER})
    long = read_long(files["data"], cts.VALUE_COLUMN)
    assert (long.header_row, long.stamp) == (8, "2024-05-16")
    t = cts.tidy_from(long).table
    assert value_of(t, "MEX", 2019, "bribery_offences_count")["value"] == 3546.0


def test_a_header_below_the_rows_searched_fails_clearly(broken, error_of):
    files = broken(rows={3: [], HEADER_WITHIN + 2: HEADER})
    error = error_of(files)
    assert str(error).startswith(f"{WHERE}: no header row in the first {HEADER_WITHIN} rows")


def test_no_release_stamp(broken, error_of):
    error = error_of(broken({"A2": "UNODC"}))
    assert (error.sheet, error.row) == (SHEET, 2)
    assert "no release stamp above the header" in str(error)


def test_unknown_country(broken, error_of):
    error = error_of(broken({"A1052": "ATL"}))
    assert (error.row, error.column, error.value) == (1052, "Iso3_code", "ATL")
    assert str(error).startswith(f"{WHERE}, row 1052, column 'Iso3_code': cannot resolve "
                                 "country 'ATL'")


def test_a_name_that_contradicts_the_code(broken, error_of):
    error = error_of(broken({"B1052": "Peru"}))
    assert (error.row, error.column, error.value) == (1052, "Country", "Peru")
    assert "the name does not match the code MEX" in str(error)


def test_footnote_marks_are_not_part_of_a_name(broken):
    result = cts.tidy_cts_corruption(broken({"B1052": "Mexico*",
                                             "G1052": "Corruption: Bribery [a]"}))
    assert value_of(result.table, "MEX", 2019, "bribery_offences_count")["value"] == 3546.0


def test_unit_that_disagrees_with_the_indicator(broken, error_of):
    error = error_of(broken({"K1052": "Percent"}))
    assert (error.row, error.column, error.value) == (1052, "Unit of measurement", "Percent")
    assert "the unit does not agree with the indicator" in str(error)
    assert "'Counts' (bribery_offences_count) or 'Rate per 100,000 population' " \
           "(bribery_offences_rate)" in str(error)


def test_unknown_offence(broken, error_of):
    error = error_of(broken({"G1052": "Corruption: Embezzlement"}))
    assert (error.row, error.column, error.value) == (1052, "Category", "Corruption: Embezzlement")
    assert "unknown indicator" in str(error)


def test_not_a_number(broken, error_of):
    error = error_of(broken({"L1052": "n/a"}))
    assert str(error) == (f"{WHERE}, row 1052, column 'VALUE': not a number (value 'n/a'); "
                          "expected a number or one of ['', '..']")


def test_missing_value_is_dropped_and_counted(broken):
    result = cts.tidy_cts_corruption(broken({"L1052": ".."}))
    assert result.dropped["missing_value"] == 1
    t = result.table
    assert t[(t["iso3"] == "MEX") & (t["year"] == 2019)
             & (t["indicator_id"] == "bribery_offences_count")].empty


def test_duplicate_key(broken, error_of):
    # Mexico's 2018 bribery count (row 969) relabelled 2019 repeats row 1052.
    error = error_of(broken({"J969": 2019}))
    assert (error.row, error.value) == (1052, ("MEX", 2019, "bribery_offences_count", "total",
                                               "total", "total", "total"))
    assert f"{WHERE}, row 1052" in str(error) and "duplicate of row 969" in str(error)


def test_negative_count_is_caught_by_the_suite(broken, run_suite):
    # The tidy function passes a negative count on; the suite stops it. (The trimmed copy
    # also fails the row-count checks: only the value check is looked at here.)
    counts = 'indicator_id.str.endswith("_count", na=False)'

    def count_check(table):
        outcome = run_suite(table)
        return next(o for o in outcome.outcomes
                    if counts in str(o.kwargs.get("row_condition"))
                    and o.kwargs["column"] == "value")

    assert count_check(cts.tidy_cts_corruption(broken()).table).success
    check = count_check(cts.tidy_cts_corruption(broken({"L1052": -3546})).table)
    assert not check.success and check.unexpected_count == 1
    assert check.sample == [{"value": -3546.0, "iso3": "MEX", "year": 2019,
                             "indicator_id": "bribery_offences_count", "sex": "total",
                             "age": "total", "category": "total", "dimension": "total"}]
