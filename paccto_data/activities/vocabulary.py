"""The register's controlled vocabularies (assets/activities/vocabularies.yaml, reviewed by
hand) and what is generated from them: the reference frame of codes and names, and the
activity-count columns the marts share."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from paccto_data.fileio import read_yaml
from paccto_data.settings import ASSETS_DIR
from paccto_data.yamlschema import check_against

VOCABULARIES_PATH = ASSETS_DIR / "activities" / "vocabularies.yaml"
# Codes reach SQL: the file is checked against this schema first.
VOCABULARIES_SCHEMA = ASSETS_DIR / "activities" / "vocabularies.schema.json"


@dataclass(frozen=True)
class Vocabularies:
    activity_id: re.Pattern
    phases: dict[int, tuple[dt.date, dt.date]]  # phase -> (first day, last day)
    codes: dict[str, dict]  # vocabulary -> {code: {name_en, name_es}}

    def allowed(self, vocabulary: str) -> str:
        return ", ".join(str(c) for c in self.codes[vocabulary])


@cache
def vocabularies(path: Path = VOCABULARIES_PATH) -> Vocabularies:
    data = read_yaml(path)
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
