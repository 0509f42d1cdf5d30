"""World Bank WDI intentional homicides per 100,000 people (VC.IHR.PSRC.P5), 2022-07 release.

The same UNODC measure as `unodc_homicide`, as the World Bank redistributes it: a second
series of `homicide_rate` under its own source id. The bulk ZIP's country metadata file was
not kept with this snapshot, so aggregates (regions, income groups, lending groups) are told
from economies by the one resolver: every World Bank aggregate code of the file is listed in
assets/country_overrides.yaml as `aggregate`, and an unlisted code fails naming its row.
"""

from __future__ import annotations

from collections import Counter

from paccto_data.countries import lac_iso3
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    indicator_table,
    line_locators,
    read_wb_bulk_csv,
    require_unique,
    resolve_countries,
    to_number,
)

SOURCE_ID = "wb_homicide"
INDICATOR_CODE = "VC.IHR.PSRC.P5"
INDICATOR_ID = "homicide_rate"
UNIT = "victims per 100,000 population"


def tidy_wb_homicide(files) -> Tidy:
    """Intentional homicides per 100,000 people (World Bank WDI VC.IHR.PSRC.P5, from UNODC)
    for every LAC economy and year, long: one row per (iso3, year). A file row holds one cell
    per year (1960-2021), so rows_read and the drops count cells: World Bank aggregates,
    economies that are not M49 areas, economies outside LAC and empty cells are dropped and
    counted by reason."""
    path = files["data"]
    long, _ = read_wb_bulk_csv(path, INDICATOR_CODE)
    dropped = Counter()
    countries = resolve_countries(long, "Country Code", path, dropped)
    outside = ~countries["iso3"].isin(lac_iso3())
    dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    require_unique(lac, ["iso3", "year"], path)
    value = to_number(lac, "raw_value", path)
    dropped["missing_value"] += int(value.isna().sum())
    lac = lac.assign(value=value)[value.notna()]
    table = indicator_table(lac, INDICATOR_ID, UNIT, path,
                            line_locators(lac["file_row"], lac["year"]))
    return Tidy(table, rows_read=len(long), dropped=dropped)


TABLES = {"wb_homicide": tidy_wb_homicide}
FEEDS = {"wb_homicide": "fact_indicator"}
