"""Source paccto_activities: the EL PAcCTO programme activity register.

The build reads the accepted copy of the register (assets/snapshots/paccto_activities/
activities.csv, sha256-verified like every source); `python -m paccto_data.activities accept`
makes the register staff edit (assets/activities/activities.csv) that copy. Every row is
checked by the register validator (paccto_data/activities/register.py): a malformed row fails
naming the row, activity, column and value.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from paccto_data.activities import register
from paccto_data.activities.register import parse_date, read_register, split_list
from paccto_data.sources import Tidy
from paccto_data.sources._common import line_locators, with_provenance

SOURCE_ID = register.SOURCE_ID


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
    and its date; source_file and source_locator (`line N`) name the register line. A
    malformed row fails naming the row, activity_id, column and value."""
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
    })
    table = with_provenance(table, path, line_locators(raw["file_row"]))
    return Tidy(table.sort_values("activity_id").reset_index(drop=True), rows_read=len(raw))


def tidy_activity_countries(files) -> Tidy:
    """One row per activity and country it names (ISO3), with the country's role: `host`
    (host_country) or `participant` (countries). A host the page does not also list among
    the participating countries is kept all the same (`listed_in_countries` false): it took
    part. rows_read counts country mentions (each code in `countries` plus each host); a host
    also listed in `countries` is one row, its second mention counted as dropped.
    source_locator names the register cell that names the country (`line N, column
    countries` or `line N, column host_country`)."""
    path = files["register"]
    raw = read_register(path)
    rows, dropped, mentions = [], Counter(), 0
    for record in raw.to_dict("records"):
        listed = split_list(record["countries"])
        host = record["host_country"]
        mentions += len(listed) + (1 if host else 0)
        for code in listed:
            rows.append((record["activity_id"], code, "host" if code == host else "participant",
                         True, record["file_row"], "countries"))
        if host and host in listed:
            dropped["host_also_in_countries"] += 1
        elif host:
            rows.append((record["activity_id"], host, "host", False, record["file_row"],
                         "host_country"))
    table = pd.DataFrame(rows, columns=["activity_id", "iso3", "role", "listed_in_countries",
                                        "file_row", "column"])
    # the register cell that names the country: its line and column
    table = with_provenance(table, path, line_locators(table.pop("file_row"),
                                                       table.pop("column")))
    table = table.sort_values(["activity_id", "iso3"]).reset_index(drop=True)
    return Tidy(table, rows_read=mentions, dropped=dropped)


TABLES = {
    "paccto_activities": tidy_activities,
    "paccto_activity_countries": tidy_activity_countries,
}
