"""Reviewed reference lists kept in `assets/` (country groups), as tables."""

from __future__ import annotations

import pandas as pd
import yaml

from paccto_data.settings import ASSETS_DIR

COUNTRY_GROUPS_PATH = ASSETS_DIR / "country_groups.yaml"
INDICATORS_PATH = ASSETS_DIR / "indicators.yaml"
INDICATOR_FIELDS = ("id", "title_en", "title_es", "unit", "description_en", "description_es",
                    "sources", "valid_min", "valid_max")


def country_groups() -> pd.DataFrame:
    """(iso3, group_id, partner_group) for CELAC and the phase-2 programme partners."""
    groups = yaml.safe_load(COUNTRY_GROUPS_PATH.read_text(encoding="utf-8"))
    rows = [(iso3, "celac", None) for iso3 in groups["celac"]["members"]]
    for partner_group, members in groups["programme_partner"]["groups"].items():
        rows += [(iso3, "programme_partner", partner_group) for iso3 in members]
    frame = pd.DataFrame(rows, columns=["iso3", "group_id", "partner_group"])
    duplicated = frame[frame.duplicated(["iso3", "group_id"])]
    if not duplicated.empty:
        raise ValueError(f"{COUNTRY_GROUPS_PATH}: listed twice: {duplicated.to_dict('records')}")
    return frame


def indicator_catalogue() -> pd.DataFrame:
    """assets/indicators.yaml as a frame (one row per indicator id)."""
    entries = yaml.safe_load(INDICATORS_PATH.read_text(encoding="utf-8"))["indicators"]
    for position, entry in enumerate(entries, start=1):
        missing = [f for f in INDICATOR_FIELDS if f not in entry]
        extra = [f for f in entry if f not in INDICATOR_FIELDS]
        if missing or extra:
            raise ValueError(f"{INDICATORS_PATH}: entry {position} ({entry.get('id')!r}): "
                             f"missing {missing}, unexpected {extra}")
    frame = pd.DataFrame(entries, columns=list(INDICATOR_FIELDS))
    duplicated = frame.loc[frame["id"].duplicated(), "id"].tolist()
    if duplicated:
        raise ValueError(f"{INDICATORS_PATH}: indicator ids listed twice: {duplicated}")
    frame["source_ids"] = frame.pop("sources").map(lambda s: ",".join(s))
    return frame.astype({"valid_min": "float64", "valid_max": "float64"})


def source_catalogue() -> pd.DataFrame:
    """Every source in assets/sources/ with its provenance and licence (core.dim_source)."""
    from paccto_data.catalogue import sources

    return pd.DataFrame([{
        "source_id": s.id,
        "title": s.title,
        "publisher": s.publisher,
        "producer": s.producer,
        "distributor": s.distributor,
        "homepage": s.homepage,
        "licence": s.licence["name"],
        "licence_spdx": s.licence.get("spdx"),
        "licence_url": s.licence["url"],
        "redistribution": s.redistribution,
        "citation": " ".join(s.citation.split()),
        "vintage": s.vintage,
        "retrieved": s.retrieved,
    } for s in sources().values()])


# Reference frames a SQL model may read (declared in its header: `-- frames: name`).
FRAMES = {
    "country_groups": country_groups,
    "indicator_catalogue": indicator_catalogue,
    "source_catalogue": source_catalogue,
}
