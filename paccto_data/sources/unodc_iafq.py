"""UNODC Illicit Arms Flows Questionnaire (IAFQ): arms, parts and ammunition seized, found
and surrendered, seizure cases, and persons arrested, prosecuted and convicted for illicit
trafficking in weapons, from the UNODC Data Portal's dataUNODC long workbook (2024-08
release)."""

from __future__ import annotations

import pandas as pd

from paccto_data.sources import Tidy
from paccto_data.sources._unodc import Layout, Measure, read_long, tidy_long

SOURCE_ID = "unodc_iafq"
VALUE_COLUMN = "VALUE"

ARRESTED = Measure("arms_trafficking_persons_arrested", "persons")
MEASURES = {
    "Arms seized": Measure("arms_seized", "arms"),
    "Arms found": Measure("arms_found", "arms"),
    "Arms surrendered": Measure("arms_surrendered", "arms"),
    "Ammunition seized": Measure("ammunition_seized", "units of ammunition"),
    "Parts and components seized": Measure("arms_parts_seized", "parts and components"),
    "Instances/cases of seizures": Measure("arms_seizure_cases", "seizure cases"),
    # One measure in two tables of the questionnaire: by sex (Total/Total), and by the
    # offences the person is suspected of besides arms trafficking (Dimension "by type of
    # offences"); the disaggregation columns keep them apart.
    "Individuals arrested/suspected for illicit trafficking in weapons": ARRESTED,
    "Individuals arrested/suspected": ARRESTED,
    "Individuals prosecuted for illicit trafficking in weapons":
        Measure("arms_trafficking_persons_prosecuted", "persons"),
    "Individuals convicted for illicit trafficking in weapons":
        Measure("arms_trafficking_persons_convicted", "persons"),
    "Individuals targeted by criminal justice system due to illicit trafficking in weapons":
        Measure("arms_trafficking_persons_targeted", "persons"),
}

# Reviewed corrections of category typos in the 2024-08 file (rows cite a LAC example).
CATEGORY_FIXES = {
    "rifle (Inlcuding Carbine)": "rifle (Including Carbine)",
    "illicit posession": "illicit possession",
    "Illicit trafficking andIllicit possession/use of arms":
        "Illicit trafficking and illicit possession/use of arms",
    "unknown Status On Marking": "unknown status on marking",
}

# (Indicator, Dimension, Category) where the file repeats a key (624 rows, 170 LAC): "by
# location" holds two breakdowns (place of seizure, and tracing status "Uniquely
# identifiable - …") with a "Total" each; two conditions and two offence combinations lost
# the words that told them apart.
REPEATED = {
    ("Arms seized", "by location", "Total"),
    ("Arms seized", "by condition", "otherwise illicitly manufactured"),
    ("Individuals arrested/suspected", "by type of offences",
     "Illicit trafficking of arms and other types of trafficking"),
}


def known_repeats(frame: pd.DataFrame) -> pd.Series:
    labels = zip(frame["Indicator"], frame["Dimension"], frame["Category"])
    return pd.Series([t in REPEATED for t in labels], index=frame.index)


LAYOUT = Layout(
    value_column=VALUE_COLUMN,
    measures={(indicator, None, "Counts"): m for indicator, m in MEASURES.items()},
    dimensions=frozenset({"Total", "by type", "by location", "by marking", "by condition",
                          "by legal justification of seizure", "by other suspected offences",
                          "by type of offences"}),
    default_source="IAFQ",
    category_fixes=CATEGORY_FIXES,
    known_repeats=known_repeats,
)


def indicator_ids() -> list[str]:
    return sorted({m.indicator_id for m in MEASURES.values()})


def tidy_from(long) -> Tidy:
    return tidy_long(long, LAYOUT)


def tidy_iafq(files) -> Tidy:
    """Firearms trafficking for every LAC country and year: arms, parts and ammunition
    seized, arms found and surrendered, seizure cases, persons arrested/suspected,
    prosecuted, convicted and targeted for illicit trafficking in weapons; long: one row per
    (iso3, year, indicator_id, sex, age, category, dimension), the breakdown (by type, by
    location, by marking…) in dimension/category. The publisher's Source is kept in `flag`
    where it is not the IAFQ alone. Countries outside LAC and keys the file repeats with
    different values are dropped and counted by reason."""
    return tidy_from(read_long(files["data"], VALUE_COLUMN))


TABLES = {"unodc_iafq": tidy_iafq}
FEEDS = {"unodc_iafq": "fact_indicator"}
