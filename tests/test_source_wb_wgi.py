"""Source wb_wgi: the Worldwide Governance Indicators workbook (2024 update, long layout).

Row numbers cite sheet "Sheet1" of assets/snapshots/wb_wgi/wgidataset.xlsx as a spreadsheet
shows them (header = row 1). The workbook is read once per module.
"""

import pytest

from paccto_data.acquire import records
from paccto_data.countries import lac_iso3
from paccto_data.errors import SourceDataError
from paccto_data.sources import wb_wgi
from paccto_data.sources._common import read_sheet
from paccto_data.sources.wb_wgi import tidy_wgi
from tests.sources import assert_no_expectation_passes, catalogue_entries, used_units

SOURCE_ID = "wb_wgi"
FILE = "wgidataset.xlsx"
WHERE = f"{FILE}, sheet 'Sheet1'"


def values(table, iso3, year, dimension):
    rows = table[(table["iso3"] == iso3) & (table["year"] == year)
                 & table["indicator_id"].str.startswith(f"wgi_{dimension}_")]
    return dict(zip(rows["indicator_id"], rows["value"]))


def test_row_account(tidy):
    # 32,100 workbook rows x 4 values (estimate, stddev, nsource, pctrank). Dropped: ANT
    # (Netherlands Antilles, dissolved) 150 rows, KSV and TWN (not M49 areas) 300 rows,
    # 174 economies outside LAC 4,275 rows; 169 LAC rows hold ".." in all four.
    assert tidy.rows_read == 32100 * 4
    assert len(tidy.table) == 23324 == (6000 - 169) * 4
    assert dict(tidy.dropped) == {"dissolved": 600, "not_an_m49_area": 1200,
                                  "not_lac": 102600, "missing_value": 676}


def test_values_cited_from_the_workbook(tidy):
    t = tidy.table
    # row 29738: URYcc2022, URY, Uruguay, 2022, cc, 1.610502004623413, 0.16605088114738464, 10,
    # 91.98113250732422
    assert values(t, "URY", 2022, "cc") == {
        "wgi_cc_estimate": 1.610502004623413, "wgi_cc_stderr": 0.16605088114738464,
        "wgi_cc_nsources": 10.0, "wgi_cc_pctrank": 91.98113250732422}
    # row 30943: MEXcc2023 (SOURCE.md: estimate -1.0206, stddev 0.1632, nsource 11, pctrank 17.45)
    assert values(t, "MEX", 2023, "cc") == {
        "wgi_cc_estimate": -1.0205787420272827, "wgi_cc_stderr": 0.16319257020950317,
        "wgi_cc_nsources": 11.0, "wgi_cc_pctrank": 17.452829360961914}
    # row 31553: JAMrl2023
    assert values(t, "JAM", 2023, "rl")["wgi_rl_estimate"] == -0.17451657354831696
    # row 8: AIAcc1996 holds ".." in every column: no values, and counted as missing.
    assert values(t, "AIA", 1996, "cc") == {}


def test_each_value_names_its_cell(tidy):
    t = tidy.table.set_index(["iso3", "year", "indicator_id"])
    # row 29738: URYcc2022; F is the estimate column, G the standard error
    assert tuple(t.loc[("URY", 2022, "wgi_cc_estimate"), ["source_file", "source_locator"]]) \
        == ("wgidataset.xlsx", "Sheet1!F29738")
    assert t.loc[("URY", 2022, "wgi_cc_stderr"), "source_locator"] == "Sheet1!G29738"
    assert t.loc[("MEX", 2023, "wgi_cc_pctrank"), "source_locator"].endswith("30943")


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "indicator_id", "value", "unit",
                               "source_file", "source_locator"]
    assert sorted(t["indicator_id"].unique()) == sorted(wb_wgi.indicator_ids())
    assert len(wb_wgi.indicator_ids()) == 24
    assert not t["indicator_id"].str.contains("pctranklower|pctrankupper").any()
    assert set(t["year"]) == {1996, 1998, 2000, *range(2002, 2024)}
    assert not t.duplicated(["iso3", "year", "indicator_id"]).any()
    assert t["value"].notna().all()
    # 40 LAC codes, territories included (SOURCE.md).
    assert sorted(t["iso3"].unique()) == [
        "ABW", "AIA", "ARG", "ATG", "BHS", "BLZ", "BOL", "BRA", "BRB", "CHL", "COL", "CRI",
        "CUB", "CYM", "DMA", "DOM", "ECU", "GRD", "GTM", "GUF", "GUY", "HND", "HTI", "JAM",
        "KNA", "LCA", "MEX", "MTQ", "NIC", "PAN", "PER", "PRI", "PRY", "SLV", "SUR", "TTO",
        "URY", "VCT", "VEN", "VIR"]
    assert set(t["iso3"]) <= lac_iso3()


def test_world_bank_codes_do_not_leak(tidy):
    codes = set(tidy.table["iso3"])
    # Non-ISO World Bank codes resolve (ROM -> ROU, ZAR -> COD, …) to areas outside LAC, or
    # are not M49 areas (KSV, TWN) or dissolved (ANT): none of them, nor their ISO3, is kept.
    assert not codes & {"ADO", "ANT", "KSV", "ROM", "TMP", "TWN", "WBG", "ZAR",
                        "AND", "ROU", "TLS", "PSE", "COD"}


def test_every_indicator_is_this_sources_alone(tidy):
    # Units, titles and descriptions of every source's indicators: tests/test_sources.py.
    entries = catalogue_entries()
    assert {entries[i]["sources"] == ["wb_wgi"] for i in used_units(tidy.table)} == {True}


def test_catalogue_record():
    source = records.source("wb_wgi")
    assert "Kaufmann" in source.citation and "Kraay" in source.citation
    assert source.licence["spdx"] == "CC-BY-4.0" and source.redistribution == "open"
    assert source.coverage == {"first_year": 1996, "last_year": 2023}


# --- the generic sheet reader -----------------------------------------------------------

def test_read_sheet_finds_the_header(broken):
    # The copy holds the header and rows 29600-30999 only: row numbers survive the gap.
    path = broken()["data"]
    sheet = read_sheet(path, ["code", "estimate"])
    assert (sheet.name, sheet.header_row) == ("Sheet1", 1)
    assert len(sheet.frame) == 1400
    assert sheet.frame["file_row"].iloc[[0, -1]].tolist() == [29600, 30999]
    row = sheet.frame[sheet.frame["file_row"] == 30943].iloc[0]
    assert (row["codeindyr"], row["estimate"]) == ("MEXcc2023", -1.0205787420272827)


def test_read_sheet_finds_a_header_below_a_title(broken):
    # Row 1 becomes a title, row 2 stays empty and the header moves to row 3.
    files = broken(rows={1: ["Worldwide Governance Indicators"], 3: [
        "codeindyr", "code", "countryname", "year", "indicator", "estimate", "stddev",
        "nsource", "pctrank", "pctranklower", "pctrankupper"]})
    sheet = read_sheet(files["data"], ["code", "estimate"])
    assert sheet.header_row == 3
    assert sheet.frame["file_row"].iloc[0] == 29600
    result = tidy_wgi(files)
    assert values(result.table, "MEX", 2023, "cc")["wgi_cc_estimate"] == -1.0205787420272827


def test_read_sheet_names_a_missing_header_column(broken):
    with pytest.raises(SourceDataError) as caught:
        read_sheet(broken()["data"], ["code", "estimate", "governance"], header_within=5)
    error = caught.value
    assert (error.sheet, error.row, error.column) == ("Sheet1", 1, "governance")


def test_read_sheet_without_a_header(broken):
    with pytest.raises(SourceDataError, match=r"no header row in the first 5 rows"):
        read_sheet(broken()["data"], ["governance"], header_within=5)


def test_read_sheet_names_a_missing_sheet(broken):
    with pytest.raises(SourceDataError, match=r"no sheet 'Data'.*one of the sheets \['Sheet1'\]"):
        read_sheet(broken()["data"], ["code"], sheet="Data")


def test_read_sheet_rejects_a_non_workbook(tmp_path):
    path = tmp_path / FILE
    path.write_text("code,estimate\nMEX,1\n")
    with pytest.raises(SourceDataError, match=rf"^{FILE}: cannot read the workbook"):
        read_sheet(path, ["code"])


# --- broken copies (`broken`: the KEEP rows of the workbook, edited) -----------------------

KEEP = {1, *range(29600, 31000)}  # URY cc 2022, MEX cc 2022 and 2023, ".." rows, ANT, ROM…


def test_the_trimmed_copy_still_reads(broken):
    result = tidy_wgi(broken())
    assert values(result.table, "MEX", 2023, "cc")["wgi_cc_estimate"] == -1.0205787420272827
    assert values(result.table, "URY", 2022, "cc")["wgi_cc_pctrank"] == 91.98113250732422


def test_renamed_column(broken, error_of):
    error = error_of(broken({"F1": "estimates"}))
    assert (error.sheet, error.row, error.column) == ("Sheet1", 1, "estimate")
    assert str(error).startswith(f"{WHERE}, row 1, column 'estimate': column 'estimate' is missing")


def test_not_a_number(broken, error_of):
    error = error_of(broken({"F30943": "abc"}))
    assert str(error) == (f"{WHERE}, row 30943, column 'estimate': not a number "
                          "(value 'abc'); expected a number or one of ['..']")


def test_empty_cell_is_not_a_missing_marker(broken, error_of):
    error = error_of(broken({"G30943": ""}))
    assert (error.row, error.column, error.value) == (30943, "stddev", "")


def test_unknown_country(broken, error_of):
    error = error_of(broken({"B30943": "Atlantis"}))
    assert (error.file.endswith(FILE), error.sheet, error.row, error.column, error.value) == (
        True, "Sheet1", 30943, "code", "Atlantis")
    assert "cannot resolve country 'Atlantis'" in str(error)


def test_unknown_dimension(broken, error_of):
    error = error_of(broken({"E30943": "xx"}))
    assert (error.row, error.column, error.value) == (30943, "indicator", "xx")


def test_fractional_year(broken, error_of):
    error = error_of(broken({"D30943": 2023.5}))
    assert (error.row, error.column, error.value) == (30943, "year", 2023.5)


def test_duplicated_row(broken, error_of):
    # MEX cc 2022 (row 29659) relabelled 2023 repeats MEX cc 2023 (row 30943).
    error = error_of(broken({"D29659": 2023}))
    assert (error.row, error.column, error.value) == (
        30943, "iso3, year, indicator", ("MEX", 2023, "cc"))
    assert f"{WHERE}, row 30943" in str(error) and "duplicate of row 29659" in str(error)


# --- the suite (that it passes on the real data: tests/test_sources.py) -------------------

def test_suite_catches_an_estimate_out_of_range(broken, run_suite):
    outcome = run_suite(tidy_wgi(broken({"F30943": 3.5})).table)
    ranges = [o for o in outcome.failures if o.kwargs.get("row_condition")]
    assert [o.sample for o in ranges] == [[{"value": 3.5, "iso3": "MEX", "year": 2023,
                                            "indicator_id": "wgi_cc_estimate"}]]


def test_every_expectation_can_fail(tidy, run_suite):
    units = dict(wb_wgi.MEASURES.values())
    assert_no_expectation_passes(
        run_suite, tidy.table.head(30), ["iso3", "year", "indicator_id", "value", "unit"],
        [{"iso3": "FRA", "year": 2000}, {"indicator_id": "wgi_xx_estimate", "year": 2001},
         {"unit": "percent", "year": 2002}, {"year": 1989},
         *[{"indicator_id": f"wgi_cc_{suffix}", "value": wrong, "year": 2003,
            "unit": units[suffix]}
           for suffix, wrong in [("estimate", 3.0), ("pctrank", 101.0), ("stderr", 0.0),
                                 ("nsources", 0.5)]]])
