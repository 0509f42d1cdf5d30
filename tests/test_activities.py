"""Source paccto_activities: the programme activity register (assets/activities/activities.csv).

Row numbers cite the lines of assets/snapshots/paccto_activities/activities.csv (the header is
line 1, ACT-0001 is line 2); the counts are those of assets/activities/SOURCE.md. Bad-input
tests copy the real register to tmp_path, break one cell and check that the error names the
row, the activity, the column and the value, in the terms of the staff who edit it.
"""

import datetime as dt
import hashlib
import os
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from paccto_data import activities
from paccto_data.acquire import fetch, records
from paccto_data.activities import COLUMNS, RegisterError, check_register, mapping
from paccto_data.quality import suites
from paccto_data.settings import ASSETS_DIR, INDICATORS_PATH, Settings
from paccto_data.sources.paccto_activities import tidy_activities, tidy_activity_countries
from paccto_data.warehouse.reference import FRAMES

FILE = "activities.csv"
# The 9 rows whose host is not among their countries (EU venues: Brussels, The Hague).
HOST_NOT_LISTED = {"ACT-0069": "NLD", "ACT-0070": "BEL", "ACT-0079": "BEL", "ACT-0084": "BEL",
                   "ACT-0086": "BEL", "ACT-0088": "BEL", "ACT-0092": "BEL", "ACT-0097": "NLD",
                   "ACT-0101": "BEL"}


@pytest.fixture(scope="module")
def files():
    return fetch.local_files(records.source("paccto_activities"), Settings.from_env())


@pytest.fixture(scope="module")
def table(files):
    return tidy_activities(files)


@pytest.fixture(scope="module")
def bridge(files):
    return tidy_activity_countries(files)


def activity(t, activity_id):
    return t.table.set_index("activity_id").loc[activity_id]


# --- the real register ---------------------------------------------------------------------

def test_row_account(table, bridge):
    assert (table.rows_read, len(table.table), dict(table.dropped)) == (102, 102, {})
    # 447 country mentions: 384 codes in `countries` and 63 hosts, 54 of which are also
    # listed in `countries` (one row each, the second mention counted as dropped).
    assert bridge.rows_read == 447
    assert len(bridge.table) == 393
    assert dict(bridge.dropped) == {"host_also_in_countries": 54}


def test_counts_of_source_md(table, bridge):
    t = table.table
    assert t["phase"].value_counts().to_dict() == {1: 85, 2: 17}
    assert t["start_year"].value_counts().sort_index().to_dict() == {
        2017: 2, 2018: 6, 2019: 8, 2020: 14, 2021: 33, 2022: 19, 2023: 4, 2024: 7, 2025: 8,
        2026: 1}
    assert t["line_of_action"].value_counts().to_dict() == {1: 40, 2: 42, 3: 20}
    assert t["component"].value_counts().to_dict() == {
        "cross-cutting": 29, "police": 29, "justice": 23, "penitentiary": 21}
    assert t["format"].value_counts().to_dict() == {
        "meeting": 38, "workshop": 15, "dialogue": 13, "technical_assistance": 13,
        "agreement": 11, "other": 6, "publication": 5, "operation": 1}
    mentions = Counter(a for areas in t["crime_areas"] for a in areas.split(";"))
    assert mentions == {
        "organised_crime_general": 46, "prison_system": 24, "drug_trafficking": 15,
        "money_laundering": 14, "cybercrime": 13, "human_trafficking": 13,
        "environmental_crime": 12, "arms_trafficking": 8, "asset_recovery": 7, "corruption": 6,
        "cultural_property": 5, "migrant_smuggling": 4, "gender_violence": 2}
    assert t["language_of_source"].value_counts().to_dict() == {"en": 71, "es": 30, "pt": 1}
    # "Rows by country": rows naming the country (countries or host), of which phase 2, host of.
    b = bridge.table.merge(t[["activity_id", "phase"]], on="activity_id")
    by_country = {iso3: (len(rows), int((rows["phase"] == 2).sum()),
                         int((rows["role"] == "host").sum()))
                  for iso3, rows in b.groupby("iso3")}
    assert by_country["CHL"] == (30, 3, 3)
    assert by_country["PAN"] == (28, 3, 9)
    assert by_country["ESP"] == (24, 2, 2)
    assert by_country["BEL"] == (7, 4, 7)
    assert by_country["NIC"] == (1, 0, 0)
    assert by_country["TTO"] == (1, 1, 1)
    assert len(by_country) == 27 and sum(n for n, _, _ in by_country.values()) == 393


def test_values_cited_from_the_register(table):
    # line 2: ACT-0001,First EL PAcCTO regional activity: …,2017-07-10,2017-07-12,1,2,
    # cross-cutting,cybercrime;asset_recovery;organised_crime_general,ARG;BRA;…;ITA,CRI,…,
    # workshop,https://mpf.jusbrasil.com.br/…,,pt
    first = activity(table, "ACT-0001")
    assert (first["start_date"], first["date_precision"]) == (pd.Timestamp("2017-07-10"), "day")
    assert (first["end_date"], first["end_date_precision"]) == (pd.Timestamp("2017-07-12"), "day")
    assert (first["phase"], first["line_of_action"], first["component"]) == (1, 2, "cross-cutting")
    assert first["crime_areas"] == "cybercrime;asset_recovery;organised_crime_general"
    assert (first["host_iso3"], first["format"], first["language_of_source"]) == (
        "CRI", "workshop", "pt")
    assert pd.isna(first["source_date"])
    assert (first["source_file"], first["source_locator"]) == ("activities.csv", "line 2")
    # line 3: ACT-0002 …,2017-10,,1,2,… source date 2017-10-24: a date known to the month.
    second = activity(table, "ACT-0002")
    assert (second["start_date"], second["date_precision"]) == (pd.Timestamp("2017-10-01"), "month")
    assert pd.isna(second["end_date"]) and second["end_date_precision"] is None
    assert second["source_date"] == pd.Timestamp("2017-10-24")
    # line 90: ACT-0089 …,2024-03,2024-03-13,2,1,police,… a month start and a day end.
    summit = activity(table, "ACT-0089")
    assert (summit["start_date"], summit["date_precision"], summit["end_date"],
            summit["end_date_precision"], summit["phase"]) == (
        pd.Timestamp("2024-03-01"), "month", pd.Timestamp("2024-03-13"), "day", 2)
    # line 102: ACT-0101 (2025-11-19, phase 2) has no countries and is hosted in Brussels.
    assert activity(table, "ACT-0101")["host_iso3"] == "BEL"
    # line 87: ACT-0086 2023-11-21 is the first phase-2 row by date.
    t = table.table
    assert t.loc[t["phase"] == 2, "start_date"].min() == pd.Timestamp("2023-11-21")
    assert t.loc[t["phase"] == 1, "start_date"].max() < pd.Timestamp("2023-11-11")


def test_a_host_not_listed_among_the_countries_is_a_participant_too(bridge, table):
    b = bridge.table
    outside = b[~b["listed_in_countries"]]
    assert dict(zip(outside["activity_id"], outside["iso3"])) == HOST_NOT_LISTED
    assert set(outside["role"]) == {"host"}
    # ACT-0069 (line 70): ARG;BOL;CRI;ECU;SLV;PAN;DOM hosted in the Netherlands: 8 rows.
    rows = b[b["activity_id"] == "ACT-0069"]
    assert sorted(rows["iso3"]) == ["ARG", "BOL", "CRI", "DOM", "ECU", "NLD", "PAN", "SLV"]
    assert rows.set_index("iso3")["role"].to_dict()["NLD"] == "host"
    # ACT-0003 (line 4): PRY, hosted by PRY: one row, role host.
    assert b[b["activity_id"] == "ACT-0003"][["iso3", "role"]].values.tolist() == [["PRY", "host"]]
    # 17 rows leave `countries` empty; 4 of them name a host: 13 activities have no country.
    assert len(set(table.table["activity_id"]) - set(b["activity_id"])) == 13


def test_the_register_is_the_accepted_snapshot():
    """Staff edit assets/activities/activities.csv; the build reads the snapshot that
    `python -m paccto_data.activities accept` copies from it."""
    register = activities.REGISTER_PATH.read_bytes()
    source = records.source("paccto_activities")
    spec = source.file("register")
    snapshot = (source.snapshot_dir / spec.name).read_bytes()
    assert register == snapshot, (
        "assets/activities/activities.csv differs from the accepted snapshot: run "
        "`python -m paccto_data.activities accept`")
    assert (hashlib.sha256(snapshot).hexdigest(), len(snapshot)) == (spec.sha256, spec.bytes)


def test_catalogue_record():
    source = records.source("paccto_activities")
    assert source.licence["spdx"] == "CC-BY-4.0" and source.redistribution == "open"
    assert "EL PAcCTO 2.0" in source.publisher
    assert source.vintage == "2026-02-27"  # the newest source_date (ACT-0102, line 103)
    assert source.coverage == {"first_year": 2017, "last_year": 2026}


def test_the_template_is_the_header_and_a_filled_template_passes(tmp_path):
    text = activities.TEMPLATE_PATH.read_text(encoding="utf-8")
    assert text.rstrip("\r\n").split(",") == COLUMNS and text.count("\n") == 1
    path = tmp_path / FILE
    path.write_text(text + "ACT-0103,Regional workshop on firearms tracing (Lima),2025-04-08,"
                    "2025-04-10,2,2,police,arms_trafficking;organised_crime_general,"
                    "PER;COL;ECU;ESP,PER,INTERPOL;Policía Nacional del Perú,workshop,"
                    "https://elpaccto.eu/example,2025-04-11,es\r\n", encoding="utf-8")
    raw, problems = check_register(path)
    assert problems == [] and raw["activity_id"].tolist() == ["ACT-0103"]


def test_the_vocabularies_match_the_register_and_the_suites(table):
    voc = activities.vocabularies()
    t = table.table
    assert set(t["component"]) == set(voc.codes["component"])
    assert set(t["format"]) == set(voc.codes["format"])
    used = {a for areas in t["crime_areas"] for a in areas.split(";")}
    assert used == set(voc.codes["crime_area"])
    suite = suites.load_suite_file(suites.suite_path("staging.paccto_activities"))
    sets = {e["kwargs"]["column"]: set(e["kwargs"]["value_set"]) for e in suite["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set" and "row_condition" not in e["kwargs"]}
    assert sets["component"] == set(voc.codes["component"])
    assert sets["format"] == set(voc.codes["format"])
    assert sets["language_of_source"] == set(voc.codes["language_of_source"])
    [regex] = [e["kwargs"]["regex"] for e in suite["expectations"]
               if e["kwargs"].get("column") == "crime_areas"]
    assert all(code in regex for code in voc.codes["crime_area"])
    frame = FRAMES["activity_vocabularies"]()
    assert set(frame["vocabulary"]) == {"phases", "line_of_action", "component", "format",
                                        "crime_area", "language_of_source"}
    assert frame["name_es"].notna().all()


def test_the_crime_area_mapping_names_indicators_that_exist():
    mapping = FRAMES["crime_area_indicators"]()
    entries = yaml.safe_load(INDICATORS_PATH.read_text(encoding="utf-8"))["indicators"]
    sources = {e["id"]: e["sources"] for e in entries}
    for row in mapping.itertuples():
        assert row.source_id in sources[row.indicator_id], row
    areas = dict(mapping.groupby("crime_area")["indicator_id"].apply(set))
    assert areas["organised_crime_general"] == {"homicide_rate"}
    assert "wgi_cc_estimate" in areas["corruption"] and "wgi_cc_estimate" in areas["money_laundering"]
    assert "wgi_rl_estimate" in areas["prison_system"]
    headline = FRAMES["headline_indicators"]()
    assert headline["indicator_id"].tolist() == [
        "homicide_rate", "wgi_cc_estimate", "wgi_rl_estimate", "cpi_score", "population"]


def test_a_mapping_to_an_unknown_indicator_is_refused(tmp_path, monkeypatch):
    text = activities.MAPPING_PATH.read_text(encoding="utf-8").replace(
        "{id: homicide_rate, source: unodc_homicide}\n    why",
        "{id: homicide_count, source: unodc_homicide}\n    why", 1)
    path = tmp_path / "crime_area_indicators.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(mapping, "MAPPING_PATH", path)
    with pytest.raises(ValueError, match="organised_crime_general: indicator 'homicide_count' "
                                         "is not in assets/indicators.yaml"):
        activities.crime_area_indicator_frame()


# --- malformed rows ------------------------------------------------------------------------

def broken_copy(files, tmp_path, edit):
    """A copy of the register with its lines (CRLF-separated) passed through `edit`."""
    path = tmp_path / FILE
    shutil.copyfile(files["register"], path)
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    path.write_bytes("\r\n".join(edit(lines)).encode("utf-8"))
    return {"register": path}


def set_cell(line, column, value):
    """Set one cell of one register line (by column name), keeping the rest byte for byte."""
    import csv
    import io

    def edit(lines):
        [record] = list(csv.reader(io.StringIO(lines[line - 1])))
        record[COLUMNS.index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(record)
        lines[line - 1] = out.getvalue()
        return lines
    return edit


def error_of(files):
    with pytest.raises(RegisterError) as caught:
        tidy_activities(files)
    # The bridge table reads the same register and fails the same way.
    with pytest.raises(RegisterError) as again:
        tidy_activity_countries(files)
    assert str(again.value) == str(caught.value)
    return caught.value


# (line, column, new value, activity_id, problem, what is allowed)
MALFORMED = [
    (4, "activity_id", "ACT-3", "ACT-3", "not a well-formed activity id", "ACT- followed by four digits"),
    (5, "activity_id", "ACT-0003", "ACT-0003", "the same activity_id as row 4", "an id used by no other row"),
    (4, "title", "", "ACT-0003", "empty", "this column is required"),
    (4, "start_date", "2018-13", "ACT-0003", "not a date", "YYYY-MM-DD, or YYYY-MM"),
    (4, "start_date", "15/02/2018", "ACT-0003", "not a date", "YYYY-MM-DD, or YYYY-MM"),
    (4, "start_date", "2018-02-30", "ACT-0003", "not a date", "YYYY-MM-DD, or YYYY-MM"),
    (4, "start_date", "2015-02", "ACT-0003", "outside the programme's lifetime", "from 2017-01-01 to 2027-12-10"),
    (14, "end_date", "2019-06-10", "ACT-0013", "before start_date 2019-06-18", "on or after the start date"),
    (91, "phase", "1", "ACT-0090", "does not match start_date 2024-03-06", "2: phase 2 starts on 2023-11-11"),
    (4, "phase", "3", "ACT-0003", "not a phase", "1 or 2"),
    (4, "line_of_action", "4", "ACT-0003", "not a line of action", "3 (operational cooperation)"),
    (4, "component", "prison", "ACT-0003", "not a component of the vocabulary", "police, justice, penitentiary, cross-cutting"),
    (4, "crime_areas", "prison_system;drugs", "ACT-0003", "not a crime area of the vocabulary", "separated by ';' without spaces"),
    (4, "crime_areas", "prison_system;", "ACT-0003", "an empty item", "separated by ';' without spaces"),
    (4, "crime_areas", "prison_system;prison_system", "ACT-0003", "a crime area listed twice", "each crime area once"),
    (4, "countries", "PRY;Spain", "ACT-0003", "write the ISO3 code ESP", "ISO 3166-1 alpha-3"),
    (4, "countries", "PRY;XYZ", "ACT-0003", "not a country code the resolver knows", "ISO 3166-1 alpha-3"),
    (4, "countries", "PRY;PRY", "ACT-0003", "a country listed twice", "each country once"),
    (4, "host_country", "TWN", "ACT-0003", "not a UN M49 country or area (not_an_m49_area)", "ISO 3166-1 alpha-3"),
    (4, "format", "seminar", "ACT-0003", "not a format of the vocabulary", "workshop"),
    (4, "source_url", "www.infonegocios.com.py/x", "ACT-0003", "not a web address", "http:// or https://"),
    (4, "source_url", "ftp://infonegocios.com.py/x", "ACT-0003", "not a web address", "http:// or https://"),
    (4, "source_date", "2018-02", "ACT-0003", "not a date", "publication date written YYYY-MM-DD"),
    (4, "language_of_source", "de", "ACT-0003", "not a language of source of the vocabulary", "en, es, pt, fr"),
    (4, "partners", " FIIAPP", "ACT-0003", "spaces or a line break at the start or end", "without surrounding spaces"),
]


@pytest.mark.parametrize("line, column, value, activity_id, problem, allowed", MALFORMED,
                         ids=[f"{c}={v!r}" for _, c, v, *_ in MALFORMED])
def test_a_malformed_row_is_named_in_staff_terms(files, tmp_path, line, column, value,
                                                  activity_id, problem, allowed):
    error = error_of(broken_copy(files, tmp_path, set_cell(line, column, value)))
    assert (error.row, error.column, error.activity_id) == (line, column, activity_id)
    [found] = error.problems
    shown = value.split(";")[-1] if column in ("countries", "crime_areas") else value
    assert found.value == shown
    assert problem in found.problem and allowed in found.allowed
    message = str(error)
    assert message.startswith(f"{FILE}, row {line}, column '{column}': activity {activity_id}: "
                              f"{problem}")
    assert f"(value {shown!r})" in message


def test_every_problem_is_listed_at_once(files, tmp_path):
    def edit(lines):
        for step in (set_cell(4, "line_of_action", "0"), set_cell(91, "phase", "1"),
                     set_cell(91, "countries", "ECU;Italy")):
            lines = step(lines)
        return lines
    error = error_of(broken_copy(files, tmp_path, edit))
    assert [(p.row, p.activity_id, p.column) for p in error.problems] == [
        (4, "ACT-0003", "line_of_action"), (91, "ACT-0090", "phase"), (91, "ACT-0090", "countries")]
    assert "2 more problem(s) in the register:" in str(error)
    assert "row 91 (ACT-0090), column countries: write the ISO3 code ITA (value 'Italy')" in str(error)


def test_a_missing_or_unknown_column_is_named(files, tmp_path):
    error = error_of_header(broken_copy(files, tmp_path, lambda lines: [
        lines[0].replace(",host_country,", ",host,")] + lines[1:]))
    assert (error.row, error.column) == (1, "host_country")
    renamed = broken_copy(files, tmp_path, lambda lines: [lines[0] + ",notes"] + [
        line + "," if line else line for line in lines[1:]])
    error = error_of_header(renamed)
    assert (error.row, error.column) == (1, "notes") and "unknown column" in str(error)


def error_of_header(files):
    from paccto_data.errors import SourceDataError

    with pytest.raises(SourceDataError) as caught:
        tidy_activities(files)
    return caught.value


# --- the command line ------------------------------------------------------------------------

def test_check_lists_the_problems_and_exits_1(files, tmp_path, capsys):
    assert activities.main(["check", str(files["register"])]) == 0
    assert "102 activities, no problems" in capsys.readouterr().out
    broken = broken_copy(files, tmp_path, set_cell(4, "component", "prison"))
    assert activities.main(["check", str(broken["register"])]) == 1
    out = capsys.readouterr().out
    assert "1 problem(s):" in out
    assert "row 4 (ACT-0003), column component: not a component of the vocabulary " \
           "(value 'prison')" in out


def assets_copy(tmp_path):
    """A copy of the project's assets holding the register's source YAML and snapshot."""
    root = tmp_path / "assets"
    (root / "sources").mkdir(parents=True)
    shutil.copy2(ASSETS_DIR / "sources" / "paccto_activities.yaml", root / "sources")
    shutil.copytree(ASSETS_DIR / "snapshots" / "paccto_activities",
                    root / "snapshots" / "paccto_activities")
    return root


def accepted_state(root):
    """The accepted snapshot and the YAML, byte for byte, and every file beside them."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


def register_with_a_new_row(files, tmp_path):
    register = tmp_path / "register" / FILE
    register.parent.mkdir()
    new_row = ("ACT-0103,Regional workshop on firearms tracing (Lima),2027-04-08,,2,2,police,"
               "arms_trafficking,PER;COL,PER,,workshop,https://elpaccto.eu/example,2027-04-11,es")
    register.write_bytes(files["register"].read_bytes() + new_row.encode() + b"\r\n")
    return register


def test_accept_copies_the_register_and_records_it(files, tmp_path):
    root = assets_copy(tmp_path)
    record = root / "sources" / "paccto_activities.yaml"
    old_text = record.read_text(encoding="utf-8")
    register = register_with_a_new_row(files, tmp_path)
    message = activities.accept(register, assets_root=root, today=dt.date(2027, 5, 2))
    assert "103 activities accepted" in message
    snapshot = root / "snapshots" / "paccto_activities" / FILE
    assert snapshot.read_bytes() == register.read_bytes()
    source = records.load_source(record)  # still valid against the schema
    spec = source.file("register")
    assert (spec.sha256, spec.bytes) == (hashlib.sha256(register.read_bytes()).hexdigest(),
                                         register.stat().st_size)
    assert (source.vintage, source.retrieved) == ("2027-04-11", "2027-05-02")
    assert source.coverage == {"first_year": 2017, "last_year": 2027}
    assert source.file("register").taken_from == records.source(
        "paccto_activities").file("register").taken_from
    # edited in place by the one promoter: its comments and every other line are kept
    old_lines, new_lines = old_text.splitlines(), record.read_text(encoding="utf-8").splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert [a.split(":")[0].strip() for a, _ in changed] == [
        "vintage", "retrieved", "coverage", "sha256", "bytes"]
    assert [line for line in new_lines if line.startswith("#")] == [
        line for line in old_lines if line.startswith("#")]
    before = accepted_state(root)
    assert "already the accepted snapshot" in activities.accept(register, assets_root=root)
    assert accepted_state(root) == before


def test_accept_refuses_a_malformed_register_and_changes_nothing(files, tmp_path):
    root = assets_copy(tmp_path)
    broken = broken_copy(files, tmp_path, set_cell(4, "phase", "2"))["register"]
    before = accepted_state(root)
    with pytest.raises(RegisterError, match=r"row 4, column 'phase': activity ACT-0003"):
        activities.accept(broken, assets_root=root)
    assert accepted_state(root) == before


def test_accept_is_atomic_a_failure_while_promoting_changes_nothing(files, tmp_path,
                                                                    monkeypatch):
    """The new snapshot is in place when the YAML's rename fails: it is put back."""
    root = assets_copy(tmp_path)
    record = root / "sources" / "paccto_activities.yaml"
    before = accepted_state(root)
    real_replace = os.replace
    renamed = []

    def replace(src, dst):
        if Path(dst) == record:
            raise OSError("No space left on device")
        renamed.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        activities.accept(register_with_a_new_row(files, tmp_path), assets_root=root,
                          today=dt.date(2027, 5, 2))
    assert FILE in renamed  # the snapshot had been replaced ...
    assert accepted_state(root) == before  # ... and was put back, with no file left behind


def test_accept_on_the_command_line(files, tmp_path, capsys):
    root = assets_copy(tmp_path)
    register = register_with_a_new_row(files, tmp_path)
    assert activities.main(["accept", str(register)], assets_root=root) == 0
    assert "103 activities accepted" in capsys.readouterr().out
    assert activities.main(["publish"]) == 2
    assert "python -m paccto_data.activities check" in capsys.readouterr().out
    broken = broken_copy(files, tmp_path, set_cell(4, "phase", "2"))["register"]
    before = accepted_state(root)
    assert activities.main(["accept", str(broken)], assets_root=root) == 1
    assert "1 problem(s); nothing was accepted:" in capsys.readouterr().out
    assert accepted_state(root) == before


# --- the suites ----------------------------------------------------------------------------

def run_suite(name, frame):
    suite = suites.load_suite_file(suites.suite_path(name))
    return suites.validate(frame, suite, {}, key_columns=suite["meta"]["key_columns"], name=name)


def test_the_staging_suites_pass_on_the_real_register(table, bridge):
    for name, tidy in (("staging.paccto_activities", table),
                       ("staging.paccto_activity_countries", bridge)):
        outcome = run_suite(name, tidy.table)
        assert outcome.passed, suites.summary(outcome)


def test_the_staging_suite_catches_what_slips_past(table):
    """The suite re-checks the tidy table: a phase that contradicts the date, an end before
    the start, an unknown crime area (as a buggy tidy function could produce)."""
    t = table.table.copy()
    t.loc[t["activity_id"] == "ACT-0090", "phase"] = 1
    t.loc[t["activity_id"] == "ACT-0046", "end_date"] = pd.Timestamp("2021-05-29")
    t.loc[t["activity_id"] == "ACT-0003", "crime_areas"] = "prison_system;drugs"
    outcome = run_suite("staging.paccto_activities", t)
    failed = {(o.describe(), tuple(r["activity_id"] for r in o.sample)) for o in outcome.failures}
    assert failed == {
        ("expect_column_values_to_be_in_set(phase)", ("ACT-0090",)),
        ("expect_column_pair_values_a_to_be_greater_than_b", ("ACT-0046",)),
        ("expect_column_values_to_match_regex(crime_areas)", ("ACT-0003",)),
    }
