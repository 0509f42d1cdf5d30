"""Which indicators describe each crime area of the register, and the headline indicators
(assets/activities/crime_area_indicators.yaml, reviewed by hand): the reference frames
`crime_area_indicators` and `headline_indicators` of the warehouse models. Every crime area
of the vocabulary must be listed, and every indicator must exist in assets/indicators.yaml
with that source."""

from __future__ import annotations

import pandas as pd

from paccto_data.activities.vocabulary import vocabularies
from paccto_data.fileio import read_yaml
from paccto_data.settings import ASSETS_DIR, INDICATORS_PATH
from paccto_data.yamlschema import check_against

MAPPING_PATH = ASSETS_DIR / "activities" / "crime_area_indicators.yaml"
# Indicator ids and codes reach SQL: the file is checked against this schema first.
MAPPING_SCHEMA = ASSETS_DIR / "activities" / "crime_area_indicators.schema.json"


def _indicator_sources() -> dict[str, list[str]]:
    entries = read_yaml(INDICATORS_PATH)["indicators"]
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
    data = read_yaml(MAPPING_PATH)
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
    data = read_yaml(MAPPING_PATH)
    check_against(data, MAPPING_SCHEMA, MAPPING_PATH)
    pairs = _mapped(data["headline"], "headline", _indicator_sources())
    return pd.DataFrame(pairs, columns=["indicator_id", "source_id"])
