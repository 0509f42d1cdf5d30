"""Source un_sdg: UN SDG goal-16 series (2020 release) from the open-numbers DDF copy.

Line numbers cite the bundled files in assets/snapshots/un_sdg/ (header = line 1), found with
`grep -n`; each file is named by its series: ddf--datapoints--<series>--by--….csv.
"""

from paccto_data.acquire import records
from paccto_data.countries import classify_country, lac_iso3
from paccto_data.sources import un_sdg
from paccto_data.sources.un_sdg import tidy_sdg
from tests.sources import (
    assert_no_expectation_passes,
    edited_copy,
    repeat_line,
    replace_line,
)

SOURCE_ID = "un_sdg"


def row(table, indicator, iso3, year, sex="total"):
    rows = table[(table["indicator_id"] == indicator) & (table["iso3"] == iso3)
                 & (table["year"] == year) & (table["sex"] == sex)]
    assert len(rows) == 1, (indicator, iso3, year, sex, rows)
    return rows.iloc[0]["value"], rows.iloc[0]["flag"]


def test_row_account(tidy):
    # Data lines: iu_cor_brib 123, ic_frm_brib 286, vc_prs_unsec 531, vc_ihr_psrc 5,040.
    # aggregate: ic_frm_brib 39 regions/groups (1 World … 753), vc_prs_unsec 12 areas x 3
    # years, vc_ihr_psrc 12 x 58 (female and male, 1990-2018); sub_national: 827-829 United
    # Kingdom parts (9 in vc_prs_unsec, 120 in vc_ihr_psrc) and 369/370 Iraq parts (26);
    # not_an_m49_area: 412 Kosovo (3 + 3 + 22) and 158 Taiwan (3, vc_prs_unsec).
    assert tidy.rows_read == 123 + 286 + 531 + 5040 == 5980
    assert len(tidy.table) == 46 + 59 + 102 + 1209 == 1416
    assert dict(tidy.dropped) == {"aggregate": 39 + 36 + 696, "sub_national": 9 + 146,
                                  "not_an_m49_area": 3 + 6 + 22,
                                  "not_lac": 74 + 188 + 378 + 2967, "missing_value": 0}


def test_values_cited_from_the_files(tidy):
    t = tidy.table
    # iu_cor_brib lines 9-11: 32,notspec,bothsex|female|male,percent,2016,2.4|1.6|3.3
    assert row(t, "bribery_prevalence", "ARG", 2016) == (2.4, "notspec")
    assert row(t, "bribery_prevalence", "ARG", 2016, "female") == (1.6, "notspec")
    assert row(t, "bribery_prevalence", "ARG", 2016, "male") == (3.3, "notspec")
    # iu_cor_brib line 71: 484,notspec,bothsex,percent,2018,14.6
    assert row(t, "bribery_prevalence", "MEX", 2018) == (14.6, "notspec")
    # ic_frm_brib line 172: 484,e,percent,2006,14.0654; line 80: 170,e,percent,2017,6.57099
    assert row(t, "bribery_incidence_firms", "MEX", 2006) == (14.0654, "e")
    assert row(t, "bribery_incidence_firms", "COL", 2017) == (6.57099, "e")
    # vc_prs_unsec line 316: 484,c,percent,2018,34.3; line 73: 76,c,percent,2018,37.1;
    # line 209: 340,c,percent,2005,65.3
    assert row(t, "unsentenced_detainees_share", "MEX", 2018) == (34.3, "c")
    assert row(t, "unsentenced_detainees_share", "BRA", 2018) == (37.1, "c")
    assert row(t, "unsentenced_detainees_share", "HND", 2005) == (65.3, "c")
    # vc_ihr_psrc lines 2929 and 2958: 484,c,female|male,per_100000_pop,2018,5.84654|53.33004
    assert row(t, "homicide_rate", "MEX", 2018, "female") == (5.84654, "c")
    assert row(t, "homicide_rate", "MEX", 2018, "male") == (53.33004, "c")
    # vc_ihr_psrc lines 1584 and 1597: El Salvador 2015, women 17.15812, men 204.45802
    assert row(t, "homicide_rate", "SLV", 2015, "female") == (17.15812, "c")
    assert row(t, "homicide_rate", "SLV", 2015, "male") == (204.45802, "c")


def test_regions_are_not_countries(tidy):
    # ic_frm_brib line 150: 419,e,percent,2018,9.72024 (Latin America and the Caribbean)
    t = tidy.table
    assert classify_country("419").reason == "aggregate"
    assert 9.72024 not in set(t["value"])
    assert {classify_country(c).reason for c in ["1", "722", "513"]} == {"aggregate"}
    assert {classify_country(c).reason for c in ["827", "828", "829", "369", "370"]} == {
        "sub_national"}
    assert classify_country("412").reason == classify_country("158").reason == "not_an_m49_area"


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit", "flag", "sex",
                               "source_file", "source_locator"]
    assert set(t["iso3"]) <= lac_iso3()
    assert (t["year"].min(), t["year"].max()) == (1990, 2018)
    assert not t.duplicated(["iso3", "year", "indicator_id", "sex"]).any()
    counts = t.groupby(["indicator_id", "sex"]).size().to_dict()
    assert counts == {("bribery_incidence_firms", "total"): 59,
                      ("bribery_prevalence", "female"): 4, ("bribery_prevalence", "male"): 4,
                      ("bribery_prevalence", "total"): 38,
                      ("homicide_rate", "female"): 620, ("homicide_rate", "male"): 589,
                      ("unsentenced_detainees_share", "total"): 102}
    # No both-sexes homicide total in this copy: the total stays with unodc_homicide.
    assert set(t.loc[t["indicator_id"] == "homicide_rate", "sex"]) == {"female", "male"}
    assert t.groupby("indicator_id")["iso3"].nunique().to_dict() == {
        "bribery_incidence_firms": 31, "bribery_prevalence": 10, "homicide_rate": 45,
        "unsentenced_detainees_share": 34}
    assert set(t["flag"]) == {"c", "e", "notspec"}


def test_catalogue_record():
    # Units, sources and titles of its indicators: tests/test_sources.py, for every source.
    source = records.source("un_sdg")
    assert source.redistribution == "open"
    assert [f.id for f in source.files] == list(un_sdg.SERIES)


# --- broken copies (edited_copy: one bundled file, its lines edited) -----------------------

PRS = "ddf--datapoints--vc_prs_unsec--by--geo_area--nature--units--year.csv"
BRIB = "ddf--datapoints--iu_cor_brib--by--geo_area--nature--sex--units--year.csv"


def prs_copy(files, tmp_path, edit):
    return edited_copy(files, tmp_path, edit, "vc_prs_unsec")


def test_an_unknown_area_code(files, tmp_path, error_of):
    error = error_of(prs_copy(files, tmp_path, replace_line(316, "484,c,", "999,c,")))
    assert (error.row, error.column, error.value) == (316, "geo_area", "999")
    assert str(error).startswith(f"{PRS}, row 316, column 'geo_area': cannot resolve")


def test_an_unknown_nature_code(files, tmp_path, error_of):
    error = error_of(prs_copy(files, tmp_path, replace_line(316, "484,c,", "484,x,")))
    assert str(error) == (f"{PRS}, row 316, column 'nature': unexpected nature code (value "
                          "'x'); expected one of the nature codes ['c', 'ca', 'e', 'g', 'm', "
                          "'n', 'notspec']")


def test_another_unit(files, tmp_path, error_of):
    error = error_of(prs_copy(files, tmp_path, replace_line(316, ",percent,", ",number,")))
    assert (error.row, error.column, error.value) == (316, "units", "number")


def test_an_unknown_sex_code(files, tmp_path, error_of):
    error = error_of(edited_copy(files, tmp_path, replace_line(71, ",bothsex,", ",notspec,"),
                                 "iu_cor_brib"))
    assert (error.row, error.column, error.value) == (71, "sex", "notspec")
    assert error.file.endswith(BRIB)


def test_an_extra_key_column(files, tmp_path, error_of):
    def add_age(lines):
        return [line + ("," + ("age" if i == 0 else "allage") if line else "")
                for i, line in enumerate(lines)]
    error = error_of(prs_copy(files, tmp_path, add_age))
    assert (error.row, error.column) == (1, "age")


def test_a_renamed_value_column(files, tmp_path, error_of):
    error = error_of(prs_copy(files, tmp_path, replace_line(1, ",vc_prs_unsec", ",vc_prs_unsnt")))
    assert (error.row, error.column) == (1, "vc_prs_unsec")


def test_not_a_number(files, tmp_path, error_of):
    error = error_of(prs_copy(files, tmp_path, replace_line(316, ",34.3", ",n/a")))
    assert (error.row, error.column, error.value) == (316, "vc_prs_unsec", "n/a")


def test_a_fractional_year(files, tmp_path, error_of):
    error = error_of(prs_copy(files, tmp_path, replace_line(316, ",2018,", ",2018.5,")))
    assert (error.row, error.column, error.value) == (316, "year", "2018.5")


def test_a_repeated_row(files, tmp_path, error_of):
    # Line 316 again with another nature code: still the same country, year and sex.
    error = error_of(prs_copy(files, tmp_path,
                              repeat_line(316, lambda line: line.replace(",c,", ",e,"))))
    assert (error.row, error.column, error.value) == (317, "iso3, year, sex", ("MEX", 2018,
                                                                                 "total"))
    assert "duplicate of row 316" in str(error)


def test_an_empty_value_is_counted_not_kept(files, tmp_path):
    result = tidy_sdg(prs_copy(files, tmp_path, replace_line(316, ",34.3", ",")))
    assert result.dropped["missing_value"] == 1
    assert len(result.table) == 1415


# --- the suite (that it passes on the real data: tests/test_sources.py) -------------------

def test_suite_catches_a_share_over_100(files, tmp_path, run_suite):
    result = tidy_sdg(prs_copy(files, tmp_path, replace_line(316, ",34.3", ",134.3")))
    [failure] = run_suite(result.table).failures
    assert failure.sample == [{"value": 134.3, "iso3": "MEX", "year": 2018,
                               "indicator_id": "unsentenced_detainees_share", "sex": "total"}]


def test_every_expectation_can_fail(tidy, run_suite):
    assert_no_expectation_passes(
        run_suite, tidy.table.head(30),
        ["iso3", "year", "indicator_id", "value", "unit", "flag", "sex"],
        [{"iso3": "USA", "year": 2000}, {"indicator_id": "trafficking", "year": 2001},
         {"unit": "number", "year": 2002}, {"sex": "bothsex", "year": 2003},
         {"flag": "C", "year": 2004}, {"year": 1989}, {"value": 101.0, "year": 2005},
         {"indicator_id": "homicide_rate", "unit": "victims per 100,000 population",
          "value": -1.0, "year": 2006}])
