"""UNODC intentional homicide rate (SDG 16.1.1), from Our World in Data's grapher export."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from paccto_data.countries import lac_iso3
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    indicator_table,
    line_locators,
    read_csv_table,
    require_columns,
    require_unique,
    resolve_countries,
    to_integer,
    to_number,
)

SOURCE_ID = "unodc_homicide"
INDICATOR_ID = "homicide_rate"
UNIT = "victims per 100,000 population"
VALUE_COLUMN = "Homicide rate per 100,000 population"
COLUMNS = ["Entity", "Code", "Year", VALUE_COLUMN]


def tidy_homicide(files) -> Tidy:
    """Intentional homicide victims per 100,000 population for every LAC country and year,
    long: one row per (iso3, year). Countries resolve by their code, or by name where OWID
    gives none; UN/OWID aggregates, sub-national units, areas outside LAC and empty values are
    dropped and counted by reason."""
    path = files["data"]
    raw = read_csv_table(path)
    require_columns(raw, COLUMNS, path)
    dropped = Counter()
    has_code = raw["Code"].str.strip() != ""
    countries = pd.concat([
        resolve_countries(raw[has_code], "Code", path, dropped),
        # No code: "Americas (UN)", "Scotland"… resolve (or are classified) by name.
        resolve_countries(raw[~has_code], "Entity", path, dropped),
    ]).sort_values("file_row")
    outside = ~countries["iso3"].isin(lac_iso3())
    dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    lac = lac.assign(year=to_integer(lac, "Year", path),
                     value=to_number(lac, VALUE_COLUMN, path))
    require_unique(lac, ["iso3", "year"], path)
    missing = lac["value"].isna()
    dropped["missing_value"] += int(missing.sum())
    lac = lac[~missing]
    table = indicator_table(lac, INDICATOR_ID, UNIT, path, line_locators(lac["file_row"]))
    return Tidy(table, rows_read=len(raw), dropped=dropped)


TABLES = {"unodc_homicide": tidy_homicide}
FEEDS = {"unodc_homicide": "fact_indicator"}
