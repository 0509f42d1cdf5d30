"""Source ti_cpi: Transparency International CPI, 2023 and 2022 results workbooks.

Row numbers cite the time-series sheets as a spreadsheet shows them:
"CPI Timeseries 2012 - 2023" of assets/snapshots/ti_cpi/CPI2023_Global_Results__Trends.xlsx
(three title rows, header = row 4) and "CPI Timeseries 2012 - 2022" of
CPI2022_GlobalResultsTrends.xlsx (header = row 3). Each workbook is read once per module.
"""

import pytest

from paccto_data.acquire import records
from paccto_data.countries import classify_country, lac_iso3
from paccto_data.sources import ti_cpi
from paccto_data.sources._common import read_sheet
from paccto_data.sources.ti_cpi import tidy_cpi
from tests.sources import assert_no_expectation_passes, catalogue_entries, used_units
from tests.workbooks import WorkbookCopy

SOURCE_ID = "ti_cpi"
FILE_2023, FILE_2022 = "CPI2023_Global_Results__Trends.xlsx", "CPI2022_GlobalResultsTrends.xlsx"
WHERE_2023 = f"{FILE_2023}, sheet 'CPI Timeseries 2012 - 2023'"
# Both time-series sheets are the second sheet: xl/worksheets/sheet2.xml (xl/workbook.xml).
SHEET_XML = "xl/worksheets/sheet2.xml"
LAC_30 = ["ARG", "BHS", "BOL", "BRA", "BRB", "CHL", "COL", "CRI", "CUB", "DMA", "DOM", "ECU",
          "GRD", "GTM", "GUY", "HND", "HTI", "JAM", "LCA", "MEX", "NIC", "PAN", "PER", "PRY",
          "SLV", "SUR", "TTO", "URY", "VCT", "VEN"]


def values(table, iso3, year):
    rows = table[(table["iso3"] == iso3) & (table["year"] == year)]
    return dict(zip(rows["indicator_id"], rows["value"]))


def flags(table, iso3, year):
    rows = table[(table["iso3"] == iso3) & (table["year"] == year)]
    return set(rows["flag"])


def test_row_account(tidy):
    # Cells: 181 rows x 43 value columns (2023: 12 years of score, sources and standard
    # error, 7 of rank) + 181 x 39 (2022: 11 + 11 + 11 + 6). Kosovo (KSV, row 93 / 92) and
    # Taiwan (TWN, row 163 / 162) are not M49 areas; 149 countries are outside LAC. Of the 30
    # LAC rows, 27 cells are empty in each workbook: 2015 score, sources and standard error of
    # Bahamas (row 14), Barbados (17), Dominica (50), Saint Lucia (141), Saint Vincent (142),
    # and Grenada (row 69) 2012-2015. Every 2022-workbook LAC value is superseded.
    assert tidy.rows_read == 181 * 43 + 181 * 39 == 14842
    assert len(tidy.table) == 30 * 43 - 27 == 1263
    assert dict(tidy.dropped) == {"not_an_m49_area": 2 * 82, "not_lac": 149 * 82,
                                  "missing_value": 27 + 27,
                                  "superseded_by_newer_workbook": 30 * 39 - 27}


def test_values_cited_from_the_2023_workbook(tidy):
    t = tidy.table
    # row 112: Mexico, MEX, AME, CPI score 2023 31, Rank 2023 126, Sources 2023 9,
    # Standard error 2023 1.560548
    assert values(t, "MEX", 2023) == {"cpi_score": 31.0, "cpi_rank": 126.0, "cpi_sources": 9.0,
                                      "cpi_standard_error": 1.560548}
    # row 112: S112 Standard error 2020 stored as 1.3813329999999999; AR112 CPI Score 2012
    # 34, AS112 Sources 2012 9, AT112 Standard error 2012 1.7
    assert values(t, "MEX", 2020)["cpi_standard_error"] == 1.3813329999999999
    assert values(t, "MEX", 2012) == {"cpi_score": 34.0, "cpi_sources": 9.0,
                                      "cpi_standard_error": 1.7}
    # row 178: Uruguay 73, rank 16, 7 sources, standard error (G178) stored as
    # 0.67292609999999997 (the sheet shows 0.672926); 2012 score (AR178) 72
    assert values(t, "URY", 2023) == {"cpi_score": 73.0, "cpi_rank": 16.0, "cpi_sources": 7.0,
                                      "cpi_standard_error": 0.67292609999999997}
    assert values(t, "URY", 2012)["cpi_score"] == 72.0
    # row 181: Venezuela 13, rank 177 (the lowest LAC score)
    assert values(t, "VEN", 2023)["cpi_score"] == 13.0 == t.loc[
        t["indicator_id"] == "cpi_score", "value"].min()
    assert values(t, "VEN", 2023)["cpi_rank"] == 177.0
    # row 69: Grenada has no score before 2016 (empty cells), 53 in 2023
    assert values(t, "GRD", 2015) == {} and values(t, "GRD", 2023)["cpi_score"] == 53.0
    # row 14: Bahamas 2015 empty, 2016 present (2016: no rank column)
    assert values(t, "BHS", 2015) == {}
    assert set(values(t, "BHS", 2016)) == {"cpi_score", "cpi_sources", "cpi_standard_error"}
    assert flags(t, "MEX", 2022) == {"cpi_2023_workbook"}


def test_the_2022_workbook_holds_the_same_values(files, tidy):
    # 2022 workbook row 111: Mexico, MEX, AME, CPI score 2022 31, Rank 2022 126, Sources 2022
    # 9, Standard error 2022 1.623537 -- as the 2023 workbook's row 112, columns H-K.
    sheet = read_sheet(files["cpi_2022"], ["Country / Territory", "ISO3", "CPI score 2022"],
                       sheet="CPI Timeseries 2012 - 2022")
    row = sheet.frame[sheet.frame["file_row"] == 111].iloc[0]
    assert (row["ISO3"], row["CPI score 2022"], row["Rank 2022"], row["Sources 2022"],
            row["Standard error 2022"]) == ("MEX", 31.0, 126.0, 9.0, 1.623537)
    assert values(tidy.table, "MEX", 2022) == {"cpi_score": 31.0, "cpi_rank": 126.0,
                                               "cpi_sources": 9.0,
                                               "cpi_standard_error": 1.623537}


def test_headers_are_found_by_name(files):
    required = ["Country / Territory", "ISO3"]
    new = read_sheet(files["cpi_2023"], [*required, "CPI score 2023"],
                     sheet="CPI Timeseries 2012 - 2023")
    old = read_sheet(files["cpi_2022"], [*required, "CPI score 2022"],
                     sheet="CPI Timeseries 2012 - 2022")
    assert (new.header_row, old.header_row) == (4, 3)
    assert (len(new.frame), len(old.frame)) == (181, 181)
    # 2013 and 2012 headings are spelt "CPI Score"; there is no rank before 2017.
    assert "CPI Score 2012" in new.frame.columns and "Rank 2016" not in new.frame.columns


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit", "flag",
                               "source_file", "source_locator"]
    assert sorted(t["iso3"].unique()) == LAC_30
    assert set(t["iso3"]) <= lac_iso3()
    assert (t["year"].min(), t["year"].max()) == (2012, 2023)
    assert set(t["indicator_id"]) == set(ti_cpi.indicator_ids())
    assert set(t.loc[t["indicator_id"] == "cpi_rank", "year"]) == set(range(2017, 2024))
    assert not t.duplicated(["iso3", "year", "indicator_id"]).any()
    assert t["value"].notna().all()
    assert set(t["flag"]) == {"cpi_2023_workbook"}


def test_ti_spellings_resolve_through_reviewed_overrides():
    # Names met in both time-series sheets (2023 rows 72, 91, 92, 171), checked against the
    # ISO3 code on the same row.
    assert {n: classify_country(n).iso3 for n in
            ["Guinea Bissau", "Korea, North", "Korea, South", "Turkey"]} == {
        "Guinea Bissau": "GNB", "Korea, North": "PRK", "Korea, South": "KOR", "Turkey": "TUR"}
    assert classify_country("Kosovo").reason == classify_country("KSV").reason


def test_units_and_catalogue(tidy):
    # Units, titles and descriptions of every source's indicators: tests/test_sources.py.
    entries = catalogue_entries()
    assert {i: entries[i]["sources"] for i in used_units(tidy.table)} == {
        i: ["ti_cpi"] for i in ti_cpi.indicator_ids()}
    assert (entries["cpi_score"]["valid_min"], entries["cpi_score"]["valid_max"]) == (0, 100)
    source = records.source("ti_cpi")
    assert source.redistribution == "unmodified-only" and not source.is_open
    assert source.licence["spdx"] == "CC-BY-ND-4.0"
    assert [f.id for f in source.files] == list(ti_cpi.EDITIONS) == ["cpi_2023", "cpi_2022"]


# --- broken copies ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def workbooks(files):
    """Each workbook whole (every row of its time-series sheet), ready to be edited."""
    return {file_id: WorkbookCopy(path, sheet_xml=SHEET_XML, file_id=file_id)
            for file_id, path in files.items()}


@pytest.fixture
def broken(files, workbooks, tmp_path):
    """broken(cpi_2023={"D112": "abc"}, cpi_2022={...}) -> files where each named workbook is
    a copy of the bundled one with those cells of its time-series sheet overwritten."""

    def make(**edits):
        result = dict(files)
        for file_id, cells in edits.items():
            result.update(workbooks[file_id].make(tmp_path, cells))
        return result

    return make


def test_the_older_workbook_fills_a_value_the_newer_lacks(broken):
    # 2023 workbook H112 (Mexico, CPI score 2022) emptied; 2022 workbook D111 set to 33.
    result = tidy_cpi(broken(cpi_2023={"H112": ""}, cpi_2022={"D111": 33}))
    t = result.table
    mex = t[(t["iso3"] == "MEX") & (t["year"] == 2022)].set_index("indicator_id")
    assert mex.loc["cpi_score", ["value", "flag"]].tolist() == [33.0, "cpi_2022_workbook"]
    assert mex.loc["cpi_rank", ["value", "flag"]].tolist() == [126.0, "cpi_2023_workbook"]
    assert len(t) == 1263
    assert (result.dropped["missing_value"], result.dropped["superseded_by_newer_workbook"]) \
        == (55, 1142)


def test_the_newer_workbook_wins(broken):
    t = tidy_cpi(broken(cpi_2022={"D111": 99})).table
    assert values(t, "MEX", 2022)["cpi_score"] == 31.0
    assert flags(t, "MEX", 2022) == {"cpi_2023_workbook"}


def test_a_footnote_mark_in_a_name_resolves(broken):
    t = tidy_cpi(broken(cpi_2023={"A112": "Mexico*"})).table
    assert values(t, "MEX", 2023)["cpi_score"] == 31.0


def test_a_name_that_contradicts_its_code(broken, error_of):
    error = error_of(broken(cpi_2023={"A112": "Guatemala"}))
    assert (error.sheet, error.row, error.column, error.value) == (
        "CPI Timeseries 2012 - 2023", 112, "Country / Territory", "Guatemala")
    assert str(error) == (f"{WHERE_2023}, row 112, column 'Country / Territory': the name does "
                          "not match the ISO3 code 'MEX' (value 'Guatemala'); expected a name "
                          "of MEX")


def test_an_unknown_name(broken, error_of):
    error = error_of(broken(cpi_2022={"A111": "Mexiko"}))
    assert (error.sheet, error.row, error.column, error.value) == (
        "CPI Timeseries 2012 - 2022", 111, "Country / Territory", "Mexiko")
    assert error.file.endswith(FILE_2022) and "cannot resolve country 'Mexiko'" in str(error)


def test_an_unknown_code(broken, error_of):
    error = error_of(broken(cpi_2023={"B112": "MEXX"}))
    assert (error.row, error.column, error.value) == (112, "ISO3", "MEXX")


def test_not_a_number(broken, error_of):
    error = error_of(broken(cpi_2023={"E112": "n/a"}))
    assert str(error) == (f"{WHERE_2023}, row 112, column 'Rank 2023': not a number "
                          "(value 'n/a'); expected a number or one of ['']")


def test_renamed_header_column(broken, error_of):
    error = error_of(broken(cpi_2023={"B4": "ISO"}))
    assert (error.sheet, error.row, error.column) == ("CPI Timeseries 2012 - 2023", 4, "ISO3")


def test_a_year_after_the_edition(broken, error_of):
    error = error_of(broken(cpi_2022={"H3": "CPI score 2024"}))
    assert (error.row, error.column, error.value) == (3, "CPI score 2024", 2024)
    assert "a year after the 2022 edition" in str(error)


def test_a_repeated_heading(broken, error_of):
    error = error_of(broken(cpi_2023={"K4": "Sources 2022"}))
    assert (error.row, error.column) == (4, "Sources 2022 (column K)")
    assert "column 'Sources 2022' appears twice in the header" in str(error)


def test_a_country_listed_twice(broken, error_of):
    # Moldova's row 113 relabelled Mexico repeats row 112.
    error = error_of(broken(cpi_2023={"A113": "Mexico", "B113": "MEX"}))
    assert (error.row, error.column, error.value) == (113, "iso3", ("MEX",))
    assert "duplicate of row 112" in str(error)


# --- the suite (that it passes on the real data: tests/test_sources.py) -------------------

def test_suite_catches_a_score_out_of_range(broken, run_suite):
    outcome = run_suite(tidy_cpi(broken(cpi_2023={"D112": 101})).table)
    [failure] = outcome.failures
    assert failure.sample == [{"value": 101.0, "iso3": "MEX", "year": 2023,
                               "indicator_id": "cpi_score"}]


def test_every_expectation_can_fail(tidy, run_suite):
    units = dict(ti_cpi.MEASURES.values())
    assert_no_expectation_passes(
        run_suite, tidy.table.head(30), ["iso3", "year", "indicator_id", "value", "unit", "flag"],
        [{"iso3": "KSV", "year": 2000}, {"indicator_id": "cpi_change", "year": 2001},
         {"unit": "percent", "year": 2002}, {"flag": "owid", "year": 2003}, {"year": 2011},
         *[{"indicator_id": indicator, "value": wrong, "year": 2004, "unit": units[indicator]}
           for indicator, wrong in [("cpi_score", 101.0), ("cpi_rank", 0.5),
                                    ("cpi_sources", 2.0), ("cpi_standard_error", 0.0)]]])
