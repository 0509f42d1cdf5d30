"""The register validator: every row of assets/activities/activities.csv checked strictly,
every problem explained in the terms of the programme staff who edit it (the register row,
the activity, the column, the value and what is allowed). The controlled vocabularies are in
assets/activities/vocabularies.yaml; countries go through the one country resolver and must
be written as ISO3 codes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from paccto_data.activities.vocabulary import vocabularies
from paccto_data.countries import classify_country
from paccto_data.errors import SourceDataError, UnknownCountryError
from paccto_data.settings import ASSETS_DIR
from paccto_data.sources._common import read_csv_table, require_columns

SOURCE_ID = "paccto_activities"  # the register's record: assets/sources/paccto_activities.yaml
REGISTER_PATH = ASSETS_DIR / "activities" / "activities.csv"  # the copy staff edit
TEMPLATE_PATH = ASSETS_DIR / "activities" / "template.csv"

COLUMNS = ["activity_id", "title", "start_date", "end_date", "phase", "line_of_action",
           "component", "crime_areas", "countries", "host_country", "partners", "format",
           "source_url", "source_date", "language_of_source"]
REQUIRED = ("activity_id", "title", "start_date", "phase", "line_of_action", "component",
            "crime_areas", "format", "source_url", "language_of_source")
DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


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


def split_list(text: str) -> list[str]:
    """The items of a ";"-separated cell (none for an empty cell)."""
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
            for area in split_list(record["crime_areas"]):
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
        for code in split_list(record["countries"]):
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


def register_vintage(raw: pd.DataFrame) -> str:
    """The publication date of the newest page the register cites."""
    dates = [d for d in raw["source_date"] if d]
    return max(dates) if dates else max(raw["start_date"])
