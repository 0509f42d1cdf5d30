"""UN Global SDG Indicators Database, goal 16 (2020 release), from the open-numbers DDF copy.

One DDF datapoints CSV per series (codes lower-cased): `geo_area` (M49 number, unpadded),
`nature` (how the value was obtained), `sex` where the series is by sex, `units`, `year` and
the value column named after the series. Kept: bribery prevalence (16.5.1) and incidence among
firms (16.5.2), unsentenced detainees (16.3.2) and the homicide rate by sex (16.1.1, which
the other homicide sources do not split by sex).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from paccto_data.countries import lac_iso3
from paccto_data.errors import SourceDataError
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    line_locators,
    read_csv_table,
    require_columns,
    require_unique,
    resolve_countries,
    to_integer,
    to_number,
    with_provenance,
)

SOURCE_ID = "un_sdg"


@dataclass(frozen=True)
class Series:
    code: str  # the DDF value column: the SDG series code, lower-cased
    indicator_id: str
    units: str  # the DDF `units` code every row must carry
    unit: str  # the unit in assets/indicators.yaml
    by_sex: bool


# File id (= the series code) -> what it becomes.
SERIES = {
    "iu_cor_brib": Series("iu_cor_brib", "bribery_prevalence", "percent", "percent of persons",
                          by_sex=True),
    "ic_frm_brib": Series("ic_frm_brib", "bribery_incidence_firms", "percent",
                          "percent of firms", by_sex=False),
    "vc_prs_unsec": Series("vc_prs_unsec", "unsentenced_detainees_share", "percent",
                           "percent of prison population", by_sex=False),
    "vc_ihr_psrc": Series("vc_ihr_psrc", "homicide_rate", "per_100000_pop",
                          "victims per 100,000 population", by_sex=True),
}
# ddf--entities--nature.csv: C country data, CA country adjusted, E estimated, G global
# monitoring data, M modelled, N non-relevant, NOTSPEC not specified. Kept as `flag`.
NATURE = ("c", "ca", "e", "g", "m", "n", "notspec")
SEX = {"bothsex": "total", "female": "female", "male": "male"}


def _require_in(frame: pd.DataFrame, column: str, allowed, file, expected: str) -> None:
    bad = ~frame[column].isin(list(allowed))
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise SourceDataError(file, f"unexpected {column} code", row=int(frame["file_row"].iloc[i]),
                              column=column, value=frame[column].iloc[i], expected=expected)


def tidy_series(path, series: Series, dropped: Counter) -> tuple[pd.DataFrame, int]:
    """One DDF datapoints file -> (its LAC rows in the staging columns, rows read)."""
    raw = read_csv_table(path)
    columns = ["geo_area", "nature", *(["sex"] if series.by_sex else []), "units", "year",
               series.code]
    require_columns(raw, columns, path)
    extra = [c for c in raw.columns if c not in (*columns, "file_row")]
    if extra:  # another key column (age, …) would split the values further
        raise SourceDataError(path, f"unexpected column {extra[0]!r} in the header", row=1,
                              column=extra[0], expected=f"the columns {columns}")
    _require_in(raw, "nature", NATURE, path, f"one of the nature codes {list(NATURE)}")
    _require_in(raw, "units", [series.units], path, f"{series.units!r} for {series.code}")
    if series.by_sex:
        _require_in(raw, "sex", SEX, path, f"one of {list(SEX)}")
    countries = resolve_countries(raw, "geo_area", path, dropped)
    outside = ~countries["iso3"].isin(lac_iso3())
    dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    lac = lac.assign(year=to_integer(lac, "year", path),
                     value=to_number(lac, series.code, path, missing=("",)),
                     sex=lac["sex"].map(SEX) if series.by_sex else "total")
    require_unique(lac, ["iso3", "year", "sex"], path)
    missing = lac["value"].isna()
    dropped["missing_value"] += int(missing.sum())
    lac = lac[~missing]
    table = pd.DataFrame({
        "iso3": lac["iso3"].astype(str),
        "year": lac["year"].astype("int32"),
        "indicator_id": series.indicator_id,
        "value": lac["value"],
        "unit": series.unit,
        "flag": lac["nature"].astype(str),
        "sex": lac["sex"].astype(str),
    })
    return with_provenance(table, path, line_locators(lac["file_row"])), len(raw)


def tidy_sdg(files) -> Tidy:
    """SDG goal-16 series for every LAC country and year, long: one row per (iso3, year,
    indicator_id, sex): bribery prevalence among persons by sex (16.5.1 IU_COR_BRIB), bribery
    incidence among firms (16.5.2 IC_FRM_BRIB), unsentenced detainees as a share of the prison
    population (16.3.2 VC_PRS_UNSEC) and the homicide rate by sex (16.1.1 VC_IHR_PSRC); `flag`
    is the SDG `nature` code (c country data, ca country adjusted, e estimated, …). Regions and
    groups, sub-national units, areas that are not M49 areas, areas outside LAC and empty
    values are dropped and counted by reason."""
    dropped = Counter()
    parts, rows_read = [], 0
    for file_id, series in SERIES.items():
        table, read = tidy_series(files[file_id], series, dropped)
        parts.append(table)
        rows_read += read
    table = pd.concat(parts, ignore_index=True).sort_values(
        ["indicator_id", "iso3", "year", "sex"]).reset_index(drop=True)
    return Tidy(table, rows_read=rows_read, dropped=dropped)


TABLES = {"un_sdg": tidy_sdg}
FEEDS = {"un_sdg": "fact_indicator"}
