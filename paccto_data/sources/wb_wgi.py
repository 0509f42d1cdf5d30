"""World Bank Worldwide Governance Indicators (WGI), 2024 update: six dimensions, long layout."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from paccto_data.countries import lac_iso3
from paccto_data.errors import SourceDataError
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    read_sheet,
    require_unique,
    resolve_countries,
    to_integer,
    to_number,
    with_provenance,
)

SOURCE_ID = "wb_wgi"
SHEET = "Sheet1"
DIMENSIONS = ("va", "pv", "ge", "rq", "rl", "cc")
# Workbook column -> (indicator id suffix, unit); the ids are wgi_<dimension>_<suffix>.
MEASURES = {
    "estimate": ("estimate", "standard normal units (about -2.5 to 2.5)"),
    "stddev": ("stderr", "standard normal units"),
    "nsource": ("nsources", "data sources"),
    "pctrank": ("pctrank", "percentile rank (0 to 100)"),
}
MISSING = ("..",)  # the workbook's only missing-value marker


def indicator_ids() -> list[str]:
    return [f"wgi_{d}_{suffix}" for d in DIMENSIONS for suffix, _ in MEASURES.values()]


def tidy_wgi(files) -> Tidy:
    """WGI estimate, standard error, number of sources and percentile rank of the six
    governance dimensions for every LAC economy and year, long: one row per (iso3, year,
    indicator_id). A workbook row holds four values, so rows_read and the drops count values:
    economies that are not M49 areas, economies outside LAC and ".." cells are dropped and
    counted by reason."""
    path = files["data"]
    sheet = read_sheet(path, ["code", "year", "indicator", *MEASURES], sheet=SHEET)
    raw = sheet.frame
    per_row = len(MEASURES)
    unknown = ~raw["indicator"].isin(DIMENSIONS)
    if unknown.any():
        i = unknown.to_numpy().nonzero()[0][0]
        raise SourceDataError(path, "unknown governance dimension", sheet=sheet.name,
                              row=int(raw["file_row"].iloc[i]), column="indicator",
                              value=raw["indicator"].iloc[i], expected=f"one of {list(DIMENSIONS)}")
    rows_dropped = Counter()
    countries = resolve_countries(raw, "code", path, rows_dropped, sheet=sheet.name)
    outside = ~countries["iso3"].isin(lac_iso3())
    rows_dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    lac = lac.assign(year=to_integer(lac, "year", path, sheet=sheet.name))
    require_unique(lac, ["iso3", "year", "indicator"], path, sheet=sheet.name)
    dropped = Counter({reason: n * per_row for reason, n in rows_dropped.items()})
    parts = []
    for column, (suffix, unit) in MEASURES.items():
        value = to_number(lac, column, path, sheet=sheet.name, missing=MISSING)
        dropped["missing_value"] += int(value.isna().sum())
        keep = value.notna()
        part = pd.DataFrame({
            "iso3": lac["iso3"][keep],
            "year": lac["year"][keep].astype("int32"),
            "indicator_id": "wgi_" + lac["indicator"][keep].astype(str) + "_" + suffix,
            "value": value[keep],
            "unit": unit,
        })
        parts.append(with_provenance(part, path, sheet.cells(column, lac["file_row"][keep])))
    table = pd.concat(parts).sort_values(["iso3", "year", "indicator_id"]).reset_index(drop=True)
    return Tidy(table, rows_read=len(raw) * per_row, dropped=dropped)


TABLES = {"wb_wgi": tidy_wgi}
FEEDS = {"wb_wgi": "fact_indicator"}
