"""The EL PAcCTO programme activity register (assets/activities/activities.csv).

Programme staff edit the register by hand, so every row is validated strictly and every
problem is explained in their terms: the register row, the activity, the column, the value
and what is allowed. The controlled vocabularies are in assets/activities/vocabularies.yaml;
countries go through the one country resolver and must be written as ISO3 codes.

The build reads the accepted copy of the register (the snapshot of source
`paccto_activities`, sha256-verified like every source). From the command line:

    python -m paccto_data.sources.paccto_activities check    # list every problem in the register
    python -m paccto_data.sources.paccto_activities accept   # check, then make it the snapshot

`accept` copies the register byte for byte to assets/snapshots/paccto_activities/ and writes
its sha256, size, vintage and retrieval date into assets/sources/paccto_activities.yaml.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import yaml

from paccto_data.countries import classify_country
from paccto_data.errors import SourceDataError, UnknownCountryError
from paccto_data.settings import ASSETS_DIR, INDICATORS_PATH, SNAPSHOTS_DIR, SOURCES_DIR
from paccto_data.sources import Tidy
from paccto_data.sources._common import read_csv_table, require_columns
from paccto_data.yamlschema import check_against

SOURCE_ID = "paccto_activities"
ACTIVITIES_DIR = ASSETS_DIR / "activities"
REGISTER_PATH = ACTIVITIES_DIR / "activities.csv"
TEMPLATE_PATH = ACTIVITIES_DIR / "template.csv"
VOCABULARIES_PATH = ACTIVITIES_DIR / "vocabularies.yaml"
MAPPING_PATH = ACTIVITIES_DIR / "crime_area_indicators.yaml"
# Codes and indicator ids reach SQL: both files are checked against these schemas first.
VOCABULARIES_SCHEMA = ACTIVITIES_DIR / "vocabularies.schema.json"
MAPPING_SCHEMA = ACTIVITIES_DIR / "crime_area_indicators.schema.json"
SNAPSHOT_PATH = SNAPSHOTS_DIR / SOURCE_ID / "activities.csv"
RECORD_PATH = SOURCES_DIR / f"{SOURCE_ID}.yaml"

COLUMNS = ["activity_id", "title", "start_date", "end_date", "phase", "line_of_action",
           "component", "crime_areas", "countries", "host_country", "partners", "format",
           "source_url", "source_date", "language_of_source"]
REQUIRED = ("activity_id", "title", "start_date", "phase", "line_of_action", "component",
            "crime_areas", "format", "source_url", "language_of_source")
DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
ISO3 = re.compile(r"^[A-Z]{3}$")


# --- vocabularies and the crime-area mapping (reviewed YAML in assets/activities/) --------

@dataclass(frozen=True)
class Vocabularies:
    activity_id: re.Pattern
    phases: dict[int, tuple[dt.date, dt.date]]  # phase -> (first day, last day)
    codes: dict[str, dict]  # vocabulary -> {code: {name_en, name_es}}

    def allowed(self, vocabulary: str) -> str:
        return ", ".join(str(c) for c in self.codes[vocabulary])


@cache
def vocabularies(path: Path = VOCABULARIES_PATH) -> Vocabularies:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    check_against(data, VOCABULARIES_SCHEMA, path)
    phases = {int(p): (dt.date.fromisoformat(v["from"]), dt.date.fromisoformat(v["to"]))
              for p, v in data["phases"].items()}
    codes = {name: {(int(k) if name in ("line_of_action", "phases") else str(k)): v
                    for k, v in data[name].items()}
             for name in ("phases", "line_of_action", "component", "format", "crime_area",
                          "language_of_source")}
    for name, entries in codes.items():
        for code, entry in entries.items():
            if not entry.get("name_en") or not entry.get("name_es"):
                raise ValueError(f"{path}: {name} {code!r} needs name_en and name_es")
    return Vocabularies(re.compile(data["activity_id_pattern"]), phases, codes)


# Column-name words for the lines of action in the marts (n_line_1_dialogue, …).
LINE_COLUMNS = {1: "dialogue", 2: "capacity_building", 3: "operational_cooperation"}


def activity_count_columns() -> str:
    """The activity counts the marts share (marts.country_year by country and year,
    marts.programme_coverage by country), one SELECT item per line, generated from the
    vocabularies so a new crime area gets its column everywhere at once."""
    voc = vocabularies()
    items = ["count(*) AS n_activities",
             "count(*) FILTER (WHERE role = 'host') AS n_activities_hosted"]
    items += [f"count(*) FILTER (WHERE phase = {p}) AS n_activities_phase_{p}"
              for p in sorted(voc.phases)]
    items += [f"count(*) FILTER (WHERE line_of_action = {line}) AS "
              f"n_line_{line}_{LINE_COLUMNS[line]}" for line in sorted(voc.codes["line_of_action"])]
    items += [f"count(*) FILTER (WHERE list_contains(crime_areas, '{area}')) AS n_{area}"
              for area in voc.codes["crime_area"]]
    return ",\n        ".join(items)


def vocabulary_frame() -> pd.DataFrame:
    """(vocabulary, code, name_en, name_es) for every controlled code of the register; the
    reference frame `activity_vocabularies` of the warehouse models."""
    rows = [(name, str(code), entry["name_en"], entry["name_es"])
            for name, entries in vocabularies().codes.items() for code, entry in entries.items()]
    return pd.DataFrame(rows, columns=["vocabulary", "code", "name_en", "name_es"])


def _indicator_sources() -> dict[str, list[str]]:
    entries = yaml.safe_load(INDICATORS_PATH.read_text(encoding="utf-8"))["indicators"]
    return {e["id"]: list(e["sources"]) for e in entries}


def _mapped(entries, where: str, known: dict[str, list[str]]) -> list[tuple[str, str]]:
    pairs = []
    for entry in entries or []:
        indicator, source = entry.get("id"), entry.get("source")
        if indicator not in known:
            raise ValueError(f"{MAPPING_PATH}: {where}: indicator {indicator!r} is not in "
                             "assets/indicators.yaml")
        if source not in known[indicator]:
            raise ValueError(f"{MAPPING_PATH}: {where}: {indicator} is not published by source "
                             f"{source!r} (assets/indicators.yaml lists {known[indicator]})")
        pairs.append((indicator, source))
    return pairs


def crime_area_indicator_frame() -> pd.DataFrame:
    """(crime_area, indicator_id, source_id) from assets/activities/crime_area_indicators.yaml:
    the reference frame `crime_area_indicators`. Every crime area of the vocabulary must be
    listed (with `indicators: []` when none describes it yet), every indicator must exist in
    assets/indicators.yaml with that source."""
    data = yaml.safe_load(MAPPING_PATH.read_text(encoding="utf-8"))
    check_against(data, MAPPING_SCHEMA, MAPPING_PATH)
    areas = data["crime_areas"]
    vocabulary = set(vocabularies().codes["crime_area"])
    if set(areas) != vocabulary:
        raise ValueError(f"{MAPPING_PATH}: crime areas {sorted(vocabulary - set(areas))} are "
                         f"missing and {sorted(set(areas) - vocabulary)} are not in "
                         "vocabularies.yaml")
    known = _indicator_sources()
    rows = [(area, indicator, source) for area, entry in areas.items()
            for indicator, source in _mapped(entry.get("indicators"), area, known)]
    frame = pd.DataFrame(rows, columns=["crime_area", "indicator_id", "source_id"])
    if frame.duplicated(["crime_area", "indicator_id"]).any():
        raise ValueError(f"{MAPPING_PATH}: an indicator is listed twice under one crime area")
    return frame


def headline_indicator_frame() -> pd.DataFrame:
    """(indicator_id, source_id) of the headline indicators: the frame `headline_indicators`."""
    data = yaml.safe_load(MAPPING_PATH.read_text(encoding="utf-8"))
    check_against(data, MAPPING_SCHEMA, MAPPING_PATH)
    pairs = _mapped(data["headline"], "headline", _indicator_sources())
    return pd.DataFrame(pairs, columns=["indicator_id", "source_id"])


# --- validation ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One thing wrong in the register, in the terms of the person who edits it."""

    row: int  # the line of activities.csv (the header is line 1)
    activity_id: str
    column: str
    value: str
    problem: str
    allowed: str

    def __str__(self) -> str:
        return (f"row {self.row} ({self.activity_id or 'no activity_id'}), column "
                f"{self.column}: {self.problem} (value {self.value!r}); allowed: {self.allowed}")


class RegisterError(SourceDataError):
    """The register has problems: the first is in the message's first line, every one in
    `problems` and in the following lines."""

    def __init__(self, file: Path, problems: list[Problem]):
        first = problems[0]
        super().__init__(file, f"activity {first.activity_id or '(no activity_id)'}: "
                         f"{first.problem}", row=first.row, column=first.column,
                         value=first.value, expected=first.allowed)
        self.problems = problems
        self.activity_id = first.activity_id
        if len(problems) > 1:
            more = "\n".join(f"  - {p}" for p in problems[1:])
            self.args = (f"{self.args[0]}\n{len(problems) - 1} more problem(s) in the "
                         f"register:\n{more}",)


@dataclass(frozen=True)
class ParsedDate:
    first_day: dt.date
    precision: str  # "day" or "month"

    @property
    def period_key(self) -> tuple:
        return (self.first_day.year, self.first_day.month, self.first_day.day)


DATE_ALLOWED = "a date written YYYY-MM-DD, or YYYY-MM when the page gives only the month " \
               "(e.g. 2024-03-15 or 2024-03)"


def parse_date(text: str) -> ParsedDate | None:
    match = DATE.match(text)
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return ParsedDate(dt.date(int(year), int(month), int(day or 1)),
                          "day" if day else "month")
    except ValueError:
        return None


def _list(text: str) -> list[str]:
    return text.split(";") if text else []


class _Row:
    """Collects the problems of one register row."""

    def __init__(self, record: dict, problems: list[Problem]):
        self.record, self.problems = record, problems
        self.line = int(record["file_row"])
        self.activity_id = record["activity_id"]

    def fail(self, column: str, problem: str, allowed: str, value: str | None = None) -> None:
        self.problems.append(Problem(self.line, self.activity_id, column,
                                     self.record[column] if value is None else value,
                                     problem, allowed))


def _check_country(row: _Row, column: str, code: str) -> bool:
    """A valid ISO3 code of a UN M49 country or area, through the one resolver."""
    allowed = "an ISO 3166-1 alpha-3 code in capitals (e.g. PAN, ESP), as in UN M49"
    try:
        resolution = classify_country(code)
    except UnknownCountryError:
        row.fail(column, "not a country code the resolver knows", allowed, value=code)
        return False
    if resolution.iso3 is None:
        row.fail(column, f"not a UN M49 country or area ({resolution.reason})", allowed,
                 value=code)
        return False
    if resolution.iso3 != code:
        row.fail(column, f"write the ISO3 code {resolution.iso3}", allowed, value=code)
        return False
    return True


def check_register(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Read the register and check every row; returns the raw rows (text, plus `file_row`)
    and the problems found, in register order (none: the register is valid)."""
    raw = read_csv_table(path)
    require_columns(raw, COLUMNS, path)
    extra = [c for c in raw.columns if c not in COLUMNS and c != "file_row"]
    if extra:
        raise SourceDataError(path, f"unknown column {extra[0]!r} in the header", row=1,
                              column=extra[0], expected=f"exactly the columns {COLUMNS} "
                              "(see assets/activities/template.csv)")
    voc = vocabularies()
    first_day = min(a for a, _ in voc.phases.values())
    last_day = max(b for _, b in voc.phases.values())
    window = f"a date from {first_day} to {last_day} (phases in vocabularies.yaml)"
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    for record in raw.to_dict("records"):
        row = _Row(record, problems)
        for column in REQUIRED:
            if record[column] == "":
                row.fail(column, "empty", "a value (this column is required)")
        for column in COLUMNS:
            text = record[column]
            if text != text.strip() or "\n" in text:
                row.fail(column, "spaces or a line break at the start or end", "the value "
                         "without surrounding spaces or line breaks")
        activity_id = record["activity_id"]
        if activity_id:
            if not voc.activity_id.match(activity_id):
                row.fail("activity_id", "not a well-formed activity id",
                         "ACT- followed by four digits (e.g. ACT-0103), the next free number")
            elif activity_id in first_row:
                row.fail("activity_id", f"the same activity_id as row {first_row[activity_id]}",
                         "an id used by no other row")
            else:
                first_row[activity_id] = row.line
        start = end = None
        if record["start_date"]:
            start = parse_date(record["start_date"])
            if start is None:
                row.fail("start_date", "not a date", DATE_ALLOWED)
        if record["end_date"]:
            end = parse_date(record["end_date"])
            if end is None:
                row.fail("end_date", "not a date", DATE_ALLOWED + ", or empty")
        for column, date in (("start_date", start), ("end_date", end)):
            if date and not first_day <= date.first_day <= last_day:
                row.fail(column, "outside the programme's lifetime", window)
        if start and end:
            # Compare at the coarser precision: 2024-03 .. 2024-03-13 is fine.
            n = 2 if "month" in (start.precision, end.precision) else 3
            if end.period_key[:n] < start.period_key[:n]:
                row.fail("end_date", f"before start_date {record['start_date']}",
                         "an end date on or after the start date, or empty")
        phase = record["phase"]
        if phase:
            if phase not in {str(p) for p in voc.phases}:
                row.fail("phase", "not a phase", "1 or 2")
            elif start:
                expected = [p for p, (a, b) in voc.phases.items() if a <= start.first_day <= b]
                if expected and int(phase) != expected[0]:
                    row.fail("phase", f"does not match start_date {record['start_date']}",
                             f"{expected[0]}: phase 2 starts on {voc.phases[2][0]} (a YYYY-MM "
                             "date counts as the 1st of the month), phase 1 is earlier")
        if record["line_of_action"] and record["line_of_action"] not in \
                {str(c) for c in voc.codes["line_of_action"]}:
            row.fail("line_of_action", "not a line of action", "1 (high-level dialogue), "
                     "2 (capacity building) or 3 (operational cooperation)")
        for column, vocabulary in (("component", "component"), ("format", "format"),
                                   ("language_of_source", "language_of_source")):
            if record[column] and record[column] not in voc.codes[vocabulary]:
                row.fail(column, f"not a {column.replace('_', ' ')} of the vocabulary",
                         f"one of {voc.allowed(vocabulary)} (assets/activities/vocabularies.yaml)")
        if record["crime_areas"]:
            seen = set()
            for area in _list(record["crime_areas"]):
                if area in seen:
                    row.fail("crime_areas", "a crime area listed twice", "each crime area "
                             "once", value=area)
                elif area not in voc.codes["crime_area"]:
                    row.fail("crime_areas", "not a crime area of the vocabulary" if area else
                             "an empty item (two ';' in a row, or one at an end)",
                             f"one or more of {voc.allowed('crime_area')}, separated by ';' "
                             "without spaces (assets/activities/vocabularies.yaml)", value=area)
                seen.add(area)
        seen = set()
        for code in _list(record["countries"]):
            if code in seen:
                row.fail("countries", "a country listed twice", "each country once", value=code)
            elif not code:
                row.fail("countries", "an empty item (two ';' in a row, or one at an end)",
                         "ISO3 codes separated by ';' without spaces", value=code)
            else:
                _check_country(row, "countries", code)
            seen.add(code)
        if record["host_country"]:
            _check_country(row, "host_country", record["host_country"])
        url = record["source_url"]
        if url:
            parts = urlsplit(url) if not re.search(r"\s", url) else None
            if parts is None or parts.scheme not in ("http", "https") or "." not in parts.netloc:
                row.fail("source_url", "not a web address", "the http:// or https:// address "
                         "of the public page that reports the activity")
        if record["source_date"]:
            date = parse_date(record["source_date"])
            if date is None or date.precision != "day":
                row.fail("source_date", "not a date", "the page's publication date written "
                         "YYYY-MM-DD, or empty when the page shows none")
    return raw, problems


def read_register(path: Path) -> pd.DataFrame:
    """The valid register as raw text rows (plus `file_row`); any problem raises
    RegisterError listing every problem."""
    raw, problems = check_register(path)
    if problems:
        raise RegisterError(path, problems)
    return raw


# --- tidy tables ---------------------------------------------------------------------------

def _dates(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed = [parse_date(v) if v else None for v in column]
    first_day = pd.to_datetime(pd.Series([p.first_day if p else None for p in parsed],
                                         index=column.index, dtype="object"))
    precision = pd.Series([p.precision if p else None for p in parsed], index=column.index,
                          dtype="object")
    return first_day.astype("datetime64[s]"), precision


def tidy_activities(files) -> Tidy:
    """One row per programme activity of the register, validated: dates as the first day of
    their period with their precision (day or month), phase, line of action, component,
    crime areas (';'-separated codes), format, host country (ISO3), partners, the cited page
    and its date. A malformed row fails naming the row, activity_id, column and value."""
    path = files["register"]
    raw = read_register(path)
    start, start_precision = _dates(raw["start_date"])
    end, end_precision = _dates(raw["end_date"])
    source_date, _ = _dates(raw["source_date"])

    def text(column: str) -> pd.Series:
        return raw[column].where(raw[column] != "", None).astype("object")

    table = pd.DataFrame({
        "activity_id": raw["activity_id"].astype(str),
        "title": raw["title"].astype(str),
        "start_date": start,
        "date_precision": start_precision,
        "end_date": end,
        "end_date_precision": end_precision,
        "start_year": start.dt.year.astype("int32"),
        "phase": raw["phase"].astype("int32"),
        "line_of_action": raw["line_of_action"].astype("int32"),
        "component": raw["component"].astype(str),
        "crime_areas": raw["crime_areas"].astype(str),
        "format": raw["format"].astype(str),
        "host_iso3": text("host_country"),
        "partners": text("partners"),
        "source_url": raw["source_url"].astype(str),
        "source_date": source_date,
        "language_of_source": raw["language_of_source"].astype(str),
        "register_row": raw["file_row"].astype("int32"),
    })
    return Tidy(table.sort_values("activity_id").reset_index(drop=True), rows_read=len(raw))


def tidy_activity_countries(files) -> Tidy:
    """One row per activity and country it names (ISO3), with the country's role: `host`
    (host_country) or `participant` (countries). A host the page does not also list among
    the participating countries is kept all the same (`listed_in_countries` false): it took
    part. rows_read counts country mentions (each code in `countries` plus each host); a host
    also listed in `countries` is one row, its second mention counted as dropped."""
    path = files["register"]
    raw = read_register(path)
    rows, dropped, mentions = [], Counter(), 0
    for record in raw.to_dict("records"):
        listed = _list(record["countries"])
        host = record["host_country"]
        mentions += len(listed) + (1 if host else 0)
        for code in listed:
            rows.append((record["activity_id"], code, "host" if code == host else "participant",
                         True))
        if host and host in listed:
            dropped["host_also_in_countries"] += 1
        elif host:
            rows.append((record["activity_id"], host, "host", False))
    table = pd.DataFrame(rows, columns=["activity_id", "iso3", "role", "listed_in_countries"])
    table = table.sort_values(["activity_id", "iso3"]).reset_index(drop=True)
    return Tidy(table, rows_read=mentions, dropped=dropped)


TABLES = {
    "paccto_activities": tidy_activities,
    "paccto_activity_countries": tidy_activity_countries,
}


# --- the command line: check the register, accept it as the snapshot ------------------------

def register_vintage(raw: pd.DataFrame) -> str:
    """The publication date of the newest page the register cites."""
    dates = [d for d in raw["source_date"] if d]
    return max(dates) if dates else max(raw["start_date"])


def accept(register: Path = REGISTER_PATH, snapshot: Path = SNAPSHOT_PATH,
           record_path: Path = RECORD_PATH, today: dt.date | None = None) -> str:
    """Check the register; if valid, copy it byte for byte over the snapshot and record its
    sha256, bytes, vintage and retrieval date in the source YAML. Returns what was done."""
    import hashlib
    import shutil

    raw = read_register(register)
    data = register.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    text = record_path.read_text(encoding="utf-8")
    if snapshot.exists() and snapshot.read_bytes() == data and digest in text:
        return f"{register.name}: {len(raw)} activities, already the accepted snapshot"
    shutil.copyfile(register, snapshot)
    today = today or dt.date.today()
    replacements = [
        (r"(?m)^(    sha256: )[0-9a-f]{64}$", rf"\g<1>{digest}"),
        (r"(?m)^(    bytes: )\d+$", rf"\g<1>{len(data)}"),
        (r'(?m)^(vintage: )"[^"]*"$', rf'\g<1>"{register_vintage(raw)}"'),
        (r'(?m)^(retrieved: )"[^"]*"$', rf'\g<1>"{today.isoformat()}"'),
    ]
    for pattern, replacement in replacements:
        text, n = re.subn(pattern, replacement, text, count=1)
        if n != 1:
            raise ValueError(f"{record_path}: no line matching {pattern!r} to update")
    years = sorted({d[:4] for d in raw["start_date"]})
    text = re.sub(r"(?m)^coverage: .*$",
                  f"coverage: {{first_year: {years[0]}, last_year: {years[-1]}}}", text, count=1)
    record_path.write_text(text, encoding="utf-8")
    return (f"{register.name}: {len(raw)} activities accepted; snapshot {snapshot} and "
            f"{record_path.name} updated (sha256 {digest})")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "check"
    path = Path(argv[1]) if len(argv) > 1 else REGISTER_PATH
    if command not in ("check", "accept"):
        print(__doc__)
        return 2
    try:
        if command == "check":
            raw, problems = check_register(path)
            if problems:
                print(f"{path}: {len(problems)} problem(s):")
                for problem in problems:
                    print(f"  - {problem}")
                return 1
            print(f"{path}: {len(raw)} activities, no problems")
            return 0
        print(accept(path))
        return 0
    except RegisterError as exc:
        print(f"{path}: {len(exc.problems)} problem(s); nothing was accepted:")
        for problem in exc.problems:
            print(f"  - {problem}")
        return 1
    except SourceDataError as exc:
        print(exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
