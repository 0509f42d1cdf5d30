"""UNODC Global Report on Trafficking in Persons (GLOTIP) data: detected victims, persons
prosecuted, convicted and brought into formal contact, offences; by sex, age, form of
exploitation and citizenship; from the UNODC Data Portal's dataUNODC long workbook
(2023-05 release)."""

from __future__ import annotations

import pandas as pd

from paccto_data.sources import Tidy
from paccto_data.sources._unodc import Layout, Measure, read_long, tidy_long

SOURCE_ID = "unodc_glotip"
VALUE_COLUMN = "txtVALUE"  # text: "<5" for a suppressed small count, "1,282" for thousands
CENSORED = "<5"

MEASURES = {
    "Detected trafficking victims": Measure("human_trafficking_victims_detected", "victims"),
    "Persons prosecuted": Measure("human_trafficking_persons_prosecuted", "persons"),
    "Persons convicted": Measure("human_trafficking_persons_convicted", "persons"),
    "Persons brought into formal contact":
        Measure("human_trafficking_persons_in_formal_contact", "persons"),
    "Offences of trafficking in persons": Measure("human_trafficking_offences", "offences"),
}

# Category labels that the national returns typed into the citizenship and repatriation
# breakdowns (the file's free text is otherwise kept as written, Spanish demonyms and lost
# accents included). Reviewed against the LAC rows of the 2023-05 file:
CATEGORY_FIXES = {
    "TOTAL": "Total",          # row 4910: BOL, victims by citizenship, 2017 (397, the total)
    "TOTAL POR AÑO": "Total",  # row 15484: GTM, victims by country of repatriation, 2017
    "0": "",                   # row 1183: ARG, victims by country of repatriation, 2018: no label
}


def known_repeats(frame: pd.DataFrame) -> pd.Series:
    """Where the file repeats a key (860 rows, 303 of them LAC): "Other forms of
    exploitation" holds several sub-forms under one label (e.g. rows 42644-42648: ARG,
    2019, <5, <5, 16, <5, 96), and the second block of victims/persons by sex with age
    "Total" (rows 37000 on) repeats the two age groups unsummed (rows 38374-38375: BOL,
    female victims 2017, 62 and 43 = the 18+ and 0-17 rows 4891 and 4890)."""
    other_forms = (frame["Dimension"] == "by form of exploitation") & (
        frame["Category"] == "Other forms of exploitation")
    by_sex = (frame["Dimension"] == "Total") & (frame["Sex"] != "Total") & (
        frame["Age"] == "Total")
    return other_forms | by_sex


LAYOUT = Layout(
    value_column=VALUE_COLUMN,
    measures={(indicator, None, "Counts"): m for indicator, m in MEASURES.items()},
    dimensions=frozenset({"Total", "by form of exploitation", "by citizenship",
                          "by country of repatriation"}),
    default_source="GLOTIP",
    category_fixes=CATEGORY_FIXES,
    censored={CENSORED: CENSORED},
    known_repeats=known_repeats,
    repeats_are="parts",
)


def indicator_ids() -> list[str]:
    return sorted(m.indicator_id for m in MEASURES.values())


def tidy_from(long) -> Tidy:
    return tidy_long(long, LAYOUT)


def tidy_glotip(files) -> Tidy:
    """Trafficking in persons for every LAC country and year: detected victims, persons
    prosecuted, convicted and brought into formal contact, and offences, long: one row per
    (iso3, year, indicator_id, sex, age, category, dimension), the form of exploitation or
    citizenship in category/dimension. A suppressed small count ("<5") is kept censored:
    value NULL, flag "<5". UNODC regional aggregates, Sark, countries outside LAC, unlabelled
    categories and keys the file repeats with different values are dropped and counted."""
    return tidy_from(read_long(files["data"], VALUE_COLUMN))


TABLES = {"unodc_glotip": tidy_glotip}
FEEDS = {"unodc_glotip": "fact_indicator"}
