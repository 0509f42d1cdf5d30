"""Source wb_homicide: World Bank WDI VC.IHR.PSRC.P5 bulk CSV (release of 2022-07-20).

Line numbers cite assets/snapshots/wb_homicide/API_VC.IHR.PSRC.P5_DS2_en_csv_v2_4355130.csv
as an editor shows them (four preamble lines, header = line 5, data lines 6-271), found with
`grep -n`.
"""

from paccto_data.acquire import records
from paccto_data.countries import classify_country, lac_iso3
from paccto_data.sources import wb_homicide
from paccto_data.sources.wb_homicide import tidy_wb_homicide
from tests.sources import (
    assert_no_expectation_passes,
    catalogue_entries,
    edited_copy,
    repeat_line,
    replace_line,
)

SOURCE_ID = "wb_homicide"
FILE = "API_VC.IHR.PSRC.P5_DS2_en_csv_v2_4355130.csv"

# The 49 aggregate codes of the file (each has an empty Region in wb_population's
# Metadata_Country file of 2025-07), listed in assets/country_overrides.yaml.
AGGREGATES = [
    "AFE", "AFW", "ARB", "CEB", "CSS", "EAP", "EAR", "EAS", "ECA", "ECS", "EMU", "EUU", "FCS",
    "HIC", "HPC", "IBD", "IBT", "IDA", "IDB", "IDX", "INX", "LAC", "LCN", "LDC", "LIC", "LMC",
    "LMY", "LTE", "MEA", "MIC", "MNA", "NAC", "OED", "OSS", "PRE", "PSS", "PST", "SAS", "SSA",
    "SSF", "SST", "TEA", "TEC", "TLA", "TMN", "TSA", "TSS", "UMC", "WLD"]


def value(table, iso3, year):
    rows = table[(table["iso3"] == iso3) & (table["year"] == year)]
    assert len(rows) == 1, (iso3, year, rows)
    return rows["value"].iloc[0]


def test_row_account(tidy):
    # 266 data lines x 62 year columns (1960-2021) = 16,492 cells. The lines: 49 World Bank
    # aggregates plus CHI (Channel Islands) -> aggregate; XKX (Kosovo, line 267) ->
    # not_an_m49_area; 173 economies outside LAC; 42 LAC economies, 41 with a value (SOURCE.md:
    # 939 values; Sint Maarten, line 231, has none), so 42 x 62 - 939 = 1,665 empty LAC cells.
    assert tidy.rows_read == 266 * 62 == 16492
    assert len(tidy.table) == 939
    assert dict(tidy.dropped) == {"aggregate": 50 * 62, "not_an_m49_area": 62,
                                  "not_lac": 173 * 62, "missing_value": 42 * 62 - 939}
    assert 50 + 1 + 173 + 42 == 266


def test_every_aggregate_is_classified_as_one():
    assert len(AGGREGATES) == 49
    for code in AGGREGATES:
        assert classify_country(code).reason == "aggregate", code
    assert classify_country("CHI").reason == "aggregate"
    assert classify_country("XKX").reason == "not_an_m49_area"


def test_values_cited_from_the_file(tidy):
    t = tidy.table
    # line 123: "Jamaica","JAM",… 2018 "43.9204280418815", 2019 "45.4502748554495",
    # 2020 "44.9485860444603"
    assert value(t, "JAM", 2020) == 44.9485860444603
    assert value(t, "JAM", 2019) == 45.4502748554495
    # line 160: "Mexico","MEX",… 1995 "17.031900120539", 2020 "28.3706033950892"
    assert value(t, "MEX", 1995) == 17.031900120539
    assert value(t, "MEX", 2020) == 28.3706033950892
    # line 217: "El Salvador","SLV",… 1995 "141.722580491568", the highest LAC rate
    assert value(t, "SLV", 1995) == 141.722580491568 == t["value"].max()
    # line 260: "Venezuela, RB","VEN",… last value 2017 "49.8767450908903"
    assert value(t, "VEN", 2017) == 49.8767450908903
    assert t.loc[t["iso3"] == "VEN", "year"].max() == 2017
    # line 6: "Aruba","ABW",… 1990 "0"
    assert value(t, "ABW", 1990) == 0.0


def test_aggregates_do_not_leak(tidy):
    # line 140: "Latin America & Caribbean","LCN" holds 2012 "23.2", 2014 "22.5", 2015
    # "22.3": an aggregate, not a country.
    t = tidy.table
    assert not t["iso3"].isin(AGGREGATES + ["CHI", "XKX"]).any()
    assert 23.2 not in set(t["value"])


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit",
                               "source_file", "source_locator"]
    assert set(t["indicator_id"]) == {"homicide_rate"}
    assert set(t["unit"]) == {"victims per 100,000 population"}
    assert t["iso3"].nunique() == 41
    assert set(t["iso3"]) <= lac_iso3()
    assert (t["year"].min(), t["year"].max()) == (1990, 2020)
    assert not t.duplicated(["iso3", "year"]).any()
    assert list(t.index) == list(range(len(t)))


def test_unit_and_catalogue():
    # The catalogue entry's unit and sources: tests/test_sources.py, for every source.
    assert catalogue_entries()[wb_homicide.INDICATOR_ID]["unit"] == wb_homicide.UNIT
    source = records.source("wb_homicide")
    assert source.redistribution == "open" and source.licence["spdx"] == "CC-BY-4.0"
    assert source.vintage == "2022-07-20"
    assert source.coverage == {"first_year": 1990, "last_year": 2020}
    assert source.files[0].member == "API_VC.IHR.PSRC.P5_DS2_*.csv"


# --- broken copies (edited_copy: the bundled CSV, its lines edited) ------------------------

def test_an_unlisted_aggregate_fails_naming_its_line(files, tmp_path, error_of):
    # A new World Bank group code, as a newer release might add: never silently dropped.
    error = error_of(edited_copy(files, tmp_path, replace_line(
        140, '"Latin America & Caribbean","LCN"', '"Latin America & Caribbean","LCX"')))
    assert (error.row, error.column, error.value) == (140, "Country Code", "LCX")
    assert str(error).startswith(f"{FILE}, row 140, column 'Country Code': cannot resolve")


def test_not_a_number(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(
        160, '"28.3706033950892"', '"n/a"')))
    assert (error.row, error.column, error.value) == (160, "raw_value", "n/a")
    assert "not a number (value 'n/a')" in str(error)


def test_wrong_indicator(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(
        160, '"VC.IHR.PSRC.P5"', '"SP.POP.TOTL"')))
    assert (error.row, error.column, error.value) == (160, "Indicator Code", "SP.POP.TOTL")


def test_missing_preamble(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, lambda lines: lines[4:]))
    assert 'no "Last Updated Date" in the preamble' in str(error)


def test_renamed_header_column(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(
        5, '"Country Code"', '"Code"')))
    assert (error.row, error.column) == (5, "Country Code")


def test_duplicated_line(files, tmp_path, error_of):
    # line 160 (Mexico) again as 161
    error = error_of(edited_copy(files, tmp_path, repeat_line(160)))
    assert (error.row, error.column) == (161, "iso3, year")
    assert "duplicate of row 160" in str(error)


def test_an_emptied_cell_is_counted_not_kept(files, tmp_path):
    result = tidy_wb_homicide(edited_copy(files, tmp_path, replace_line(
        160, '"28.3706033950892"', '""')))
    assert result.dropped["missing_value"] == 1666
    assert len(result.table) == 938
    assert not ((result.table["iso3"] == "MEX") & (result.table["year"] == 2020)).any()


# --- the suite (that it passes on the real data: tests/test_sources.py) -------------------

def test_suite_catches_a_negative_rate(files, tmp_path, run_suite):
    result = tidy_wb_homicide(edited_copy(files, tmp_path, replace_line(
        160, '"28.3706033950892"', '"-28.3706033950892"')))
    [failure] = run_suite(result.table).failures
    assert failure.describe() == "expect_column_values_to_be_between(value)"
    assert failure.sample == [{"value": -28.3706033950892, "iso3": "MEX", "year": 2020,
                               "indicator_id": "homicide_rate"}]


def test_every_expectation_can_fail(tidy, run_suite):
    assert_no_expectation_passes(
        run_suite, tidy.table.head(20), ["iso3", "year", "indicator_id", "value", "unit"],
        [{"iso3": "LCN", "year": 2001}, {"indicator_id": "population", "year": 2002},
         {"unit": "percent", "year": 2003}, {"year": 2021}, {"value": 300.0, "year": 2004}])
