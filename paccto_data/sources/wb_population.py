"""World Bank WDI population (SP.POP.TOTL) and its country metadata (region, income group)."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from paccto_data.countries import lac_iso3
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    line_locators,
    read_csv_frame,
    read_wb_bulk_csv,
    require_columns,
    resolve_countries,
    to_number,
    with_provenance,
)

SOURCE_ID = "wb_population"
INDICATOR_CODE = "SP.POP.TOTL"


def read_country_metadata(path) -> pd.DataFrame:
    meta = read_csv_frame(path, dtype=str, keep_default_na=False)
    require_columns(meta, ["Country Code", "Region", "IncomeGroup", "TableName"], path)
    # SpecialNotes holds quoted multi-line text, so a pandas row is not a file line: name
    # rows by their position among the records (header = record 1).
    return meta.assign(file_row=range(2, 2 + len(meta)))


def tidy_countries(files) -> Tidy:
    """World Bank economies with their region and income group (aggregates dropped): the
    income-group column of `core.dim_country`."""
    meta = read_country_metadata(files["country_metadata"])
    dropped = Counter()
    economies = meta[meta["Region"] != ""]
    dropped["aggregate"] += len(meta) - len(economies)
    economies = resolve_countries(economies, "Country Code", files["country_metadata"], dropped)
    table = pd.DataFrame({
        "iso3": economies["iso3"],
        "wb_code": economies["Country Code"],
        "wb_name": economies["TableName"],
        "wb_region": economies["Region"].str.strip(),
        "income_group": economies["IncomeGroup"].replace({"": None}),
    }).reset_index(drop=True)
    return Tidy(table, rows_read=len(meta), dropped=dropped)


def tidy_population(files) -> Tidy:
    """Population, total (persons) for every LAC economy and year, long: one row per
    (iso3, year). Aggregates, economies outside LAC and empty cells are dropped and counted."""
    path = files["data"]
    long, _ = read_wb_bulk_csv(path, INDICATOR_CODE)
    meta = read_country_metadata(files["country_metadata"])
    aggregates = set(meta.loc[meta["Region"] == "", "Country Code"])
    dropped = Counter()
    is_aggregate = long["Country Code"].isin(aggregates)
    dropped["aggregate"] += int(is_aggregate.sum())
    countries = long[~is_aggregate]
    countries = resolve_countries(countries, "Country Code", path, dropped)
    outside = ~countries["iso3"].isin(lac_iso3())
    dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    value = to_number(lac, "raw_value", path)
    dropped["missing_value"] += int(value.isna().sum())
    lac = lac.assign(value=value)[value.notna()]
    table = pd.DataFrame({
        "iso3": lac["iso3"],
        "year": lac["year"].astype("int32"),
        "indicator_id": "population",
        "value": lac["value"],
        "unit": "persons",
    })
    table = with_provenance(table, path, line_locators(lac["file_row"], lac["year"]))
    table = table.sort_values(["iso3", "year"]).reset_index(drop=True)
    return Tidy(table, rows_read=len(long), dropped=dropped)


TABLES = {"wb_population": tidy_population, "wb_population_countries": tidy_countries}
FEEDS = {"wb_population": "fact_indicator"}
