"""Reviewed reference lists kept in `assets/` (country groups), as tables."""

from __future__ import annotations

import pandas as pd
import yaml

from paccto_data.settings import ASSETS_DIR

COUNTRY_GROUPS_PATH = ASSETS_DIR / "country_groups.yaml"


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
