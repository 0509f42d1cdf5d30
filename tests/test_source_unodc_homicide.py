"""Source unodc_homicide: UNODC homicide rates from the bundled Our World in Data export.

Line numbers cite assets/snapshots/unodc_homicide/homicide-rate-unodc.csv (header = line 1),
found with `grep -n`.
"""

from paccto_data.acquire import records
from paccto_data.countries import lac_iso3
from paccto_data.sources import unodc_homicide
from paccto_data.sources.unodc_homicide import tidy_homicide
from tests.sources import (
    assert_no_expectation_passes,
    catalogue_entries,
    edited_copy,
    repeat_line,
    replace_line,
)

SOURCE_ID = "unodc_homicide"
FILE = "homicide-rate-unodc.csv"


def value(table, iso3, year):
    rows = table[(table["iso3"] == iso3) & (table["year"] == year)]
    assert len(rows) == 1, (iso3, year, rows)
    return rows["value"].iloc[0]


def test_row_account(tidy):
    # 4,885 data lines; 1,121 LAC rows (SOURCE.md). aggregate: 6 UN_* codes, OWID_WRL and
    # 16 blank-coded "(UN)" regions x 24 years, plus OWID_CIS (4 years); sub_national:
    # England and Wales 31, Northern Ireland 31, Scotland 34, Iraq (Central Iraq) 11,
    # Iraq (Kurdistan Region) 6; not_an_m49_area: Kosovo (OWID_KOS) 14.
    assert tidy.rows_read == 4885
    assert len(tidy.table) == 1121
    assert dict(tidy.dropped) == {"aggregate": 556, "sub_national": 113, "not_an_m49_area": 14,
                                  "not_lac": 3081, "missing_value": 0}


def test_values_cited_from_the_file(tidy):
    t = tidy.table
    assert value(t, "JAM", 2022) == 53.1146      # line 2205: Jamaica,JAM,2022,53.1146
    assert value(t, "JAM", 2023) == 49.299488    # line 2206
    assert value(t, "MEX", 2023) == 24.858995    # line 2740: Mexico,MEX,2023,24.858995
    assert value(t, "HND", 2023) == 31.442432    # line 1901
    assert value(t, "SLV", 1995) == 138.43839    # line 1354: the highest LAC rate
    assert value(t, "ABW", 1990) == 0.0          # line 254: Aruba,ABW,1990,0


def test_each_value_names_its_line(tidy):
    t = tidy.table.set_index(["iso3", "year"])
    assert tuple(t.loc[("JAM", 2022), ["source_file", "source_locator"]]) == (
        "homicide-rate-unodc.csv", "line 2205")
    assert t.loc[("SLV", 1995), "source_locator"] == "line 1354"


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit",
                               "source_file", "source_locator"]
    assert set(t["indicator_id"]) == {"homicide_rate"}
    assert set(t["unit"]) == {"victims per 100,000 population"}
    assert t["iso3"].nunique() == 46
    assert set(t["iso3"]) <= lac_iso3()
    assert (t["year"].min(), t["year"].max()) == (1990, 2024)
    assert not t.duplicated(["iso3", "year"]).any()
    # Series end where SOURCE.md says: Honduras 2023, El Salvador 2022.
    assert t.loc[t["iso3"] == "HND", "year"].max() == 2023
    assert t.loc[t["iso3"] == "SLV", "year"].max() == 2022
    assert list(t.index) == list(range(len(t)))


def test_unit_is_the_catalogue_unit():
    assert catalogue_entries()[unodc_homicide.INDICATOR_ID]["unit"] == unodc_homicide.UNIT


def test_catalogue_record():
    source = records.source("unodc_homicide")
    assert source.redistribution == "open"
    assert source.licence["spdx"] == "CC-BY-4.0"
    assert "Our World in Data" in source.distributor
    assert source.coverage == {"first_year": 1990, "last_year": 2024}


# --- broken copies (edited_copy: the bundled CSV, its lines edited) ------------------------

def test_renamed_column(files, tmp_path, error_of):
    broken = edited_copy(files, tmp_path, replace_line(
        1, '"Homicide rate per 100,000 population"', '"Homicide rate"'))
    error = error_of(broken)
    assert (error.row, error.column) == (1, "Homicide rate per 100,000 population")
    assert str(error).startswith(f"{FILE}, row 1, column 'Homicide rate per 100,000 population'")


def test_not_a_number(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(2205, "53.1146", "n/a")))
    assert (error.row, error.column, error.value) == (
        2205, "Homicide rate per 100,000 population", "n/a")
    assert str(error) == (f"{FILE}, row 2205, column 'Homicide rate per 100,000 population': "
                          "not a number (value 'n/a'); expected a number or one of ['', '..']")


def test_fractional_year(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(2205, ",2022,", ",2022.5,")))
    assert (error.row, error.column, error.value) == (2205, "Year", "2022.5")


def test_duplicated_row(files, tmp_path, error_of):
    # line 2205 again as line 2206
    error = error_of(edited_copy(files, tmp_path, repeat_line(2205)))
    assert (error.row, error.column, error.value) == (2206, "iso3, year", ("JAM", 2022))
    assert "duplicate of row 2205" in str(error)


def test_unknown_country_code(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path,
                                 replace_line(2205, "Jamaica,JAM,", "Atlantis,ATL,")))
    assert (error.row, error.column, error.value) == (2205, "Code", "ATL")
    assert f"{FILE}, row 2205, column 'Code'" in str(error)


def test_unknown_country_name_without_code(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(2205, "Jamaica,JAM,", "Atlantis,,")))
    assert (error.row, error.column, error.value) == (2205, "Entity", "Atlantis")
    assert "cannot resolve country 'Atlantis'" in str(error)


def test_wrong_field_count(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(2205, "53.1146,", "53,1146,")))
    assert error.row == 2205
    assert "6 fields where the header has 5" in str(error)


def test_empty_value_is_counted_not_kept(files, tmp_path):
    result = tidy_homicide(edited_copy(files, tmp_path, replace_line(2205, "53.1146", "")))
    assert result.dropped["missing_value"] == 1
    assert len(result.table) == 1120
    assert not ((result.table["iso3"] == "JAM") & (result.table["year"] == 2022)).any()


# --- the suite (that it passes on the real data: tests/test_sources.py) -------------------

def test_suite_catches_a_negative_rate(files, tmp_path, run_suite):
    result = tidy_homicide(edited_copy(files, tmp_path, replace_line(2205, "53.1146", "-53.1146")))
    outcome = run_suite(result.table)
    [failure] = outcome.failures
    assert failure.describe() == "expect_column_values_to_be_between(value)"
    assert failure.sample == [{"value": -53.1146, "iso3": "JAM", "year": 2022,
                               "indicator_id": "homicide_rate"}]


def test_every_expectation_can_fail(tidy, run_suite):
    assert_no_expectation_passes(
        run_suite, tidy.table.head(20), ["iso3", "year", "indicator_id", "value", "unit"],
        [{"iso3": "FRA", "year": 2000}, {"indicator_id": "homicide_count"},
         {"unit": "percent", "year": 2001}, {"year": 1989}, {"value": -1.0, "year": 2002}])
