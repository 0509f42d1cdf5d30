"""Source unodc_drug_seizures: World Drug Report 2024 annex table 7.1, drug seizures 2018–2022.

Row numbers cite sheet "Export" of
assets/snapshots/unodc_drug_seizures/7.1_Drug_seizures_2018-2022.xlsx as a spreadsheet shows
them (row 1 = the title "Drug seizures, 2018-2022", row 2 = the header). The workbook is read
once per module.
"""

import re

import pandas as pd
import pytest

from paccto_data.acquire import records
from paccto_data.countries import lac_iso3, resolver
from paccto_data.sources import staging_tables, unodc_drug_seizures
from paccto_data.sources._common import read_sheet
from paccto_data.sources.unodc_drug_seizures import DRUG_GROUPS, drug_label, tidy_seizures
from tests import sources

SOURCE_ID = "unodc_drug_seizures"
FILE = "7.1_Drug_seizures_2018-2022.xlsx"
WHERE = f"{FILE}, sheet 'Export'"
KEY = ["iso3", "year", "drug_group", "drug_subgroup", "drug", "entry"]
COCAINE_TOTAL = ("Cocaine (total of the above, including if unspecified/undistinguished, but "
                 "excluding coca leaf and coca bush)")
PASTE = "Coca paste/refined cocaine base (intermediate products) (please specify)"
SMOKABLE = ("Other smokable forms of cocaine (consumer products such as basuco, merla, paco, "
            "pasta base, etc.) (please specify)")
ECSTASY = "“Ecstasy”-type substances"
ECSTASY_TOTAL = ('Total "ecstasy"-type substances (including the above, all other substances of '
                 'this type and any unspecified/undistinguished quantities of substances of '
                 'this type)')
ATS = "Amphetamine-type stimulants (excluding “ecstasy”)"


def rows(table, iso3, year, **where):
    mask = (table["iso3"] == iso3) & (table["year"] == year)
    for column, value in where.items():
        mask &= table[column] == value
    return table[mask]


def kilograms(table, iso3, year, drug, **where):
    return rows(table, iso3, year, drug=drug, **where)["kilograms"].tolist()


def cocaine(table, iso3, year):
    """(sum of the cocaine rows that are not totals, the cocaine total rows) for a country-year:
    the sub-group "Cocaine" (salts, base/paste, crack, other smokable, non-specified), never
    coca leaf or coca bush, never a total added to its components."""
    c = rows(table, iso3, year, drug_group="Cocaine-type", drug_subgroup="Cocaine")
    return c.loc[~c["is_total"], "kilograms"].sum(), c.loc[c["is_total"], "kilograms"].tolist()


def test_row_account(tidy):
    # 11,013 data rows (rows 3-11015). Dropped: TWN (rows 3770-3789) is not an M49 area;
    # 9,752 rows of 127 areas outside LAC; 9 LAC rows with an empty Kilograms cell (rows 957,
    # 1052, 1053, 1169, 2503, 2731, 2734, 2844, 2853).
    assert tidy.rows_read == 11013
    assert len(tidy.table) == 1232 == 1241 - 9
    assert dict(tidy.dropped) == {"not_an_m49_area": 20, "not_lac": 9752, "missing_value": 9}


def test_colombia_2022(tidy):
    t = tidy.table
    # rows 2604-2607: COL 2022, Cocaine-type.
    assert kilograms(t, "COL", 2022, PASTE) == [106728.45]                 # row 2604
    assert kilograms(t, "COL", 2022, "Cocaine hydrochloride") == [659133.85]  # row 2605
    assert kilograms(t, "COL", 2022, SMOKABLE) == [1456.47]                # row 2606
    assert kilograms(t, "COL", 2022, "Coca leaf") == [676210.73]           # row 2607
    components, totals = cocaine(t, "COL", 2022)
    assert totals == [] and components == pytest.approx(106728.45 + 659133.85 + 1456.47)
    # rows 2611 (acetone) and 2614 (sulphuric acid) are precursors, not drugs.
    acetone = rows(t, "COL", 2022, drug="Acetone").iloc[0]
    assert (acetone["kilograms"], acetone["is_precursor"], acetone["drug_group"]) == (
        877996.030104, True, "Precursors")
    assert kilograms(t, "COL", 2022, "Sulphuric acid") == [249182.315724]


def test_ecuador_2021(tidy):
    t = tidy.table
    # rows 2678-2679: ECU 2021 reports paste/base and hydrochloride, no total, no coca leaf.
    assert kilograms(t, "ECU", 2021, PASTE) == [3129.64328]
    assert kilograms(t, "ECU", 2021, "Cocaine hydrochloride") == [173531.16004]
    assert rows(t, "ECU", 2021, drug_group="Cocaine-type")["drug"].tolist() == [
        PASTE, "Cocaine hydrochloride"]
    assert rows(t, "ECU", 2021, drug_group="Cocaine-type")["drug_label"].tolist() == [
        "Coca paste/refined cocaine base (intermediate products)", "Cocaine hydrochloride"]


def test_other_values_cited_from_the_workbook(tidy):
    t = tidy.table
    # row 2726: the largest LAC quantity, cannabis plants, Paraguay 2022.
    assert kilograms(t, "PRY", 2022, "Cannabis plants") == [6040621.0]
    assert t["kilograms"].max() == 6040621.0
    # row 2638: acetone, Colombia 2020.
    assert kilograms(t, "COL", 2020, "Acetone") == [3235476.4296288]
    # row 2731: PRY 2022 coca paste has an empty Kilograms cell: dropped, not zero.
    assert kilograms(t, "PRY", 2022, PASTE) == []


def test_a_total_is_marked_and_never_added_to_its_components(tidy):
    t = tidy.table
    # rows 2161-2164: ARG 2022 reports a cocaine total (row 2161, 13,674.96565 kg), other
    # smokable forms (row 2162, 3.6504 kg: one of "the above" the total includes), coca leaf
    # (row 2163) and other coca-type drugs (row 2164).
    total = rows(t, "ARG", 2022, drug=COCAINE_TOTAL).iloc[0]
    assert (total["kilograms"], total["is_total"], total["drug_label"]) == (
        13674.96565, True, "Cocaine (total)")
    components, totals = cocaine(t, "ARG", 2022)
    assert totals == [13674.96565] and components == pytest.approx(3.6504)
    # Adding every cocaine row would count the 3.6504 kg twice (and coca leaf as cocaine).
    c = rows(t, "ARG", 2022, drug_group="Cocaine-type")
    assert c["kilograms"].sum() == pytest.approx(13674.96565 + 3.6504 + 131808.4569 + 0.54)
    assert c.loc[c["is_total"], "drug"].tolist() == [COCAINE_TOTAL]


def test_totals_against_their_components_where_the_file_allows(tidy):
    """Seven LAC country-year-groups hold a total and rows it says it includes. Five totals
    are at least the sum of those rows; two are smaller (the publisher's numbers, kept as
    they are): a "total" in this file is a label, not a checked sum."""
    t = tidy.table
    found = {}
    for (iso3, year, group), g in t.groupby(["iso3", "year", "drug_group"]):
        if group == "Cocaine-type":
            g = g[g["drug_subgroup"] == "Cocaine"]  # the cocaine total excludes coca leaf/bush
        if g["is_total"].any() and (~g["is_total"]).any():
            found[(iso3, year, group)] = (g.loc[g["is_total"], "kilograms"].sum(),
                                          g.loc[~g["is_total"], "kilograms"].sum())
    at_least = {k for k, (total, parts) in found.items() if total >= parts}
    assert at_least == {
        ("ARG", 2021, "Cocaine-type"),  # rows 2227 (6,257.30649) >= 2228 (1.11465)
        ("ARG", 2022, "Cocaine-type"),  # rows 2161 (13,674.96565) >= 2162 (3.6504)
        ("CHL", 2018, ECSTASY),         # rows 2577 (71) >= 2576 (MDA, 0)
        ("SUR", 2021, "Cocaine-type"),  # rows 2811 (2,138.68018) >= 2812 (66.252)
        ("URY", 2021, ATS),             # rows 2831 (1.732) >= 2830 (methamphetamine, 0.009)
    }
    smaller = {k: found[k] for k in set(found) - at_least}
    assert smaller == {
        ("SUR", 2021, ECSTASY): pytest.approx((0.09267, 0.09485)),  # row 2808 < row 2807 (MDMA)
        ("URY", 2021, "Hallucinogens"): pytest.approx((0.0124, 0.01658)),  # 2841 < 2840 (LSD)
    }


def test_cocaine_sums_never_double_count(tidy):
    t = tidy.table
    coc = t[(t["drug_group"] == "Cocaine-type") & (t["drug_subgroup"] == "Cocaine")]
    for (iso3, year), g in coc.groupby(["iso3", "year"]):
        parts = g[~g["is_total"]]
        # No row that is (or is labelled) a total is ever among the components …
        assert not parts["drug"].str.contains("total", case=False).any(), (iso3, year)
        assert not parts["drug_label"].str.contains("total", case=False).any(), (iso3, year)
        # … and a country-year has at most one cocaine total.
        assert g["is_total"].sum() <= 1, (iso3, year)
    components, totals = cocaine(t, "SUR", 2021)  # rows 2811 (total) and 2812
    assert (components, totals) == (pytest.approx(66.252), [pytest.approx(2138.68018)])
    # 8 LAC cocaine totals: JAM 2020, TTO 2020 and 2022, PAN 2022, ARG 2021 and 2022,
    # GUY 2020, SUR 2021.
    flagged = coc[coc["is_total"]]
    assert sorted(zip(flagged["iso3"], flagged["year"])) == [
        ("ARG", 2021), ("ARG", 2022), ("GUY", 2020), ("JAM", 2020), ("PAN", 2022),
        ("SUR", 2021), ("TTO", 2020), ("TTO", 2022)]
    # Coca leaf and coca bush are never part of cocaine.
    assert set(t.loc[t["drug_subgroup"] == "Coca-type", "drug"]) == {"Coca leaf", "Coca bush"}


def test_repeated_rows_are_kept_as_numbered_entries(tidy):
    t = tidy.table
    # rows 2389-2393: ARG 2018 "Cannabis herb (marijuana)" five times, nothing to tell the
    # rows apart: entries 1-5 in sheet order, none merged or dropped.
    herb = rows(t, "ARG", 2018, drug="Cannabis herb (marijuana)")
    assert herb["entry"].tolist() == [1, 2, 3, 4, 5]
    assert herb["kilograms"].tolist() == [256205.0, 200.0, 0.0, 1.0, 5.0]
    # rows 2148-2160: ARG 2022 "Other types of cannabis", 13 entries (the most in LAC).
    other = rows(t, "ARG", 2022, drug="Other types of cannabis")
    assert other["entry"].tolist() == list(range(1, 14))
    assert other["kilograms"].iloc[2] == 3741.100866  # row 2150
    assert t["entry"].max() == 13
    # rows 2380-2381: ARG 2018 has two "total ecstasy" rows (6 and 19 kg).
    assert kilograms(t, "ARG", 2018, ECSTASY_TOTAL) == [6.0, 19.0]
    # 231 kept rows are a second or later entry; the key with entry is unique.
    assert int((t["entry"] > 1).sum()) == 231
    assert not t.duplicated(KEY).any()


def test_shape(tidy):
    t = tidy.table
    assert list(t.columns) == ["iso3", "year", "drug_group", "drug_subgroup", "drug", "entry",
                               "drug_label", "kilograms", "is_total", "is_precursor",
                               "source_file", "source_locator"]
    assert t.notna().all().all()
    assert set(t["year"]) == {2018, 2019, 2020, 2021, 2022}
    assert sorted(t["iso3"].unique()) == [
        "ABW", "ARG", "ATG", "BHS", "BLZ", "BOL", "BRA", "BRB", "CHL", "COL", "CRI", "DOM",
        "ECU", "GTM", "GUY", "HND", "HTI", "JAM", "MEX", "NIC", "PAN", "PER", "PRY", "SLV",
        "SUR", "TTO", "URY", "VEN"]  # SOURCE.md: 28 LAC areas
    assert set(t["iso3"]) <= lac_iso3()
    assert set(t["drug_group"]) <= set(DRUG_GROUPS)
    assert t["is_precursor"].sum() == 38 and t["is_total"].sum() == 70
    assert (t["is_precursor"] == (t["drug_group"] == "Precursors")).all()
    assert not (t["is_precursor"] & t["is_total"]).any()
    assert (t["kilograms"] >= 0).all()
    assert unodc_drug_seizures.TABLES == {"unodc_drug_seizures": tidy_seizures}
    assert not hasattr(unodc_drug_seizures, "FEEDS")  # not an indicator: its own fact
    assert staging_tables()["unodc_drug_seizures"].feeds is None


def test_every_drug_name_in_the_file_gets_a_clean_label(files):
    frame = read_sheet(files["data"], ["DrugGroup", "DrugSubGroup", "DrugName"],
                       sheet="Export").frame
    names = frame[["DrugGroup", "DrugSubGroup", "DrugName"]].drop_duplicates()
    assert (len(names), names["DrugName"].nunique()) == (180, 162)
    labels = [drug_label(n) for n in names["DrugName"]]
    for label in labels:
        assert label and len(label) <= 80, label
        assert not re.search(r"please specify|including the above|\u00a0|[“”]", label), label
    # Two names of one (group, sub-group) never share a label.
    named = names.assign(label=labels)
    assert not named.duplicated(["DrugGroup", "DrugSubGroup", "label"]).any()
    assert drug_label("4-Fluoromethamphetamine\u00a0(4-FMA)") == "4-Fluoromethamphetamine (4-FMA)"
    assert drug_label(SMOKABLE) == \
        "Other smokable forms of cocaine (basuco, merla, paco, pasta base, etc.)"
    assert drug_label(ECSTASY_TOTAL, True) == 'Total "ecstasy"-type substances'
    assert drug_label("Cannabis-type", True) == "Cannabis-type (total)"
    assert drug_label("“Yaba”") == '"Yaba"'


def test_labels_lose_footnote_marks():
    assert drug_label("Heroin*") == "Heroin"
    assert drug_label("Cocaine hydrochloride²") == "Cocaine hydrochloride"
    assert drug_label("Opium [a]") == "Opium"
    assert drug_label("Cannabis resin (hashish) *†") == "Cannabis resin (hashish)"
    assert drug_label("JWH-018") == "JWH-018"  # a trailing number is part of the name


def test_catalogue_record():
    source = records.source("unodc_drug_seizures")
    assert source.redistribution == "open" and "UNODC" in source.licence["name"]
    assert "World Drug Report 2024" in source.citation
    assert source.coverage == {"first_year": 2018, "last_year": 2022}
    assert [f.name for f in source.files] == [FILE]


# --- broken copies (`broken`: the KEEP rows of the workbook, edited) -----------------------

# The title, the header and rows 2150-2879 (ARG 2022 … URY 2018: COL, ECU, the ARG and SUR
# totals, PRY's empty paste cell) plus 3763-3797 (MAC, TWN, IDN): each keeps its row number.
KEEP = {1, 2, *range(2150, 2880), *range(3763, 3798)}


def test_the_trimmed_copy_still_reads(broken):
    result = tidy_seizures(broken())
    assert kilograms(result.table, "COL", 2022, "Cocaine hydrochloride") == [659133.85]
    assert kilograms(result.table, "ECU", 2021, "Cocaine hydrochloride") == [173531.16004]
    assert result.rows_read == 730 + 35
    assert dict(result.dropped) == {"not_an_m49_area": 20, "not_lac": 15, "missing_value": 5}


def test_renamed_column(broken, error_of):
    error = error_of(broken({"H2": "Kilogram"}))
    assert (error.sheet, error.row, error.column) == ("Export", 2, "Kilograms")
    assert str(error).startswith(f"{WHERE}, row 2, column 'Kilograms': column 'Kilograms' is "
                                 "missing")


def test_header_moved_within_reach_still_reads(broken):
    # Rows 3-19 are empty in the trimmed copy: a header on row 19 is still found.
    result = tidy_seizures(broken(moves={2: 19}))
    assert kilograms(result.table, "COL", 2022, "Cocaine hydrochloride") == [659133.85]


def test_header_moved_beyond_what_the_parser_recognises(broken, error_of):
    # read_sheet looks for the header in the first 20 rows; on row 25 it is not found.
    error = error_of(broken(moves={2: 25}))
    assert (error.sheet, error.row) == ("Export", None)
    assert str(error).startswith(f"{WHERE}: no header row in the first 20 rows")


def test_unknown_country(broken, error_of):
    error = error_of(broken({"I2605": "XXX"}))
    assert (error.file.endswith(FILE), error.sheet, error.row, error.column, error.value) == (
        True, "Export", 2605, "msCode", "XXX")
    assert "cannot resolve country 'XXX'" in str(error)


def test_country_name_disagreeing_with_its_code(broken, error_of):
    error = error_of(broken({"C2605": "Ecuador"}))
    assert (error.row, error.column, error.value) == (2605, "Country", "Ecuador")
    assert "the country name resolves to ECU, msCode to COL" in str(error)


def test_not_a_number(broken, error_of):
    error = error_of(broken({"H2605": "abc"}))
    assert str(error) == (f"{WHERE}, row 2605, column 'Kilograms': not a number "
                          "(value 'abc'); expected a number or one of ['']")


def test_fractional_year(broken, error_of):
    error = error_of(broken({"G2605": 2022.5}))
    assert (error.row, error.column, error.value) == (2605, "Reference year", 2022.5)


def test_unknown_drug_group(broken, error_of):
    error = error_of(broken({"D2605": "Cocaine"}))
    assert (error.row, error.column, error.value) == (2605, "DrugGroup", "Cocaine")
    assert "unknown drug group" in str(error)


def test_empty_drug_name(broken, error_of):
    error = error_of(broken({"F2605": ""}))
    assert (error.row, error.column) == (2605, "DrugName")


def test_a_repeated_row_becomes_entry_2(broken):
    # Row 2606 (COL 2022, other smokable forms) relabelled as row 2605's drug: the file then
    # holds that key twice; both rows are kept, numbered 1 and 2, not merged.
    result = tidy_seizures(broken({"F2606": "Cocaine hydrochloride"}))
    hcl = rows(result.table, "COL", 2022, drug="Cocaine hydrochloride")
    assert hcl[["entry", "kilograms"]].values.tolist() == [[1, 659133.85], [2, 1456.47]]


# --- the suites --------------------------------------------------------------------------

M49 = {"staging__un_m49__iso3": sorted(resolver().iso3)}


def run_suite(frame, name="staging.unodc_drug_seizures", parameters=M49):
    return sources.run_suite(frame, name, parameters)


def test_core_suite_passes_on_the_real_data(tidy):
    # The staging suite passes on the real data: tests/test_sources.py.
    fact = tidy.table.assign(source_id="unodc_drug_seizures")
    parameters = {"core__dim_country__iso3": sorted(resolver().iso3),
                  "core__dim_source__source_id": sorted(records.sources()),
                  "core__dim_source_file__file_name": sorted(
                      f.name for s in records.sources().values() for f in s.files)}
    sources.assert_suite_passes(fact, "core.fact_drug_seizure", parameters)


def test_suite_catches_negative_kilograms(broken):
    outcome = run_suite(tidy_seizures(broken({"H2605": -5})).table)
    failures = {o.type: o for o in outcome.failures}
    # The trimmed copy is also too small for the row-count and country-count checks.
    assert set(failures) == {"expect_column_values_to_be_between",
                             "expect_table_row_count_to_be_between",
                             "expect_column_unique_value_count_to_be_between"}
    kilograms_check = failures["expect_column_values_to_be_between"]
    assert (kilograms_check.kwargs["column"], kilograms_check.sample) == (
        "kilograms", [{"kilograms": -5.0, "iso3": "COL", "year": 2022,
                       "drug_group": "Cocaine-type", "drug_subgroup": "Cocaine",
                       "drug": "Cocaine hydrochloride", "entry": 1}])


def test_suite_catches_a_duplicate_key(tidy):
    frame = pd.concat([tidy.table, tidy.table.iloc[[0]]], ignore_index=True)
    failures = run_suite(frame).failures
    # the key repeats, and so does the workbook cell the row names
    assert [(o.type, o.kwargs["column_list"]) for o in failures] == [
        ("expect_compound_columns_to_be_unique", KEY),
        ("expect_compound_columns_to_be_unique", ["source_file", "source_locator"])]


def test_every_expectation_can_fail(tidy):
    good = tidy.table.head(40)
    row = good.iloc[[0]]
    bad = [row,  # a duplicate key
           *[row.assign(**{c: None}) for c in good.columns],
           row.assign(iso3="FRA", entry=2), row.assign(iso3="ZZZ", entry=3),
           row.assign(year=2017, entry=4), row.assign(kilograms=-1.0, entry=5),
           row.assign(entry=21), row.assign(drug_group="Cocaine", entry=6),
           row.assign(drug_group="Precursors", is_precursor=False, entry=7),
           row.assign(is_precursor=True, entry=8),
           row.assign(drug="Total cocaine", is_total=False, entry=9),
           row.assign(drug_subgroup="Reported total cocaine", is_total=False, entry=10),
           row.assign(is_total=True, drug_label="Cannabis", entry=11),
           row.assign(drug_group="Precursors", is_precursor=True, is_total=True,
                      drug_label="Total precursors", entry=12),
           row.assign(source_locator="somewhere", entry=13)]
    wrong = run_suite(pd.concat([good, *bad], ignore_index=True).assign(extra=1))
    # The presence checks need a frame without cocaine, precursors or totals.
    plain = good[(good["drug_group"] != "Cocaine-type") & ~good["is_total"]
                 & ~good["is_precursor"]]
    empty = run_suite(plain)
    assert wrong.could_not_run is None and empty.could_not_run is None
    passing_both = [a.describe() for a, b in zip(wrong.outcomes, empty.outcomes)
                    if a.success and b.success]
    assert passing_both == []
