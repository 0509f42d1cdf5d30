"""UNODC drug seizures in kilograms by country, year and drug (World Drug Report 2024, annex
table 7.1, 2018–2022)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pandas as pd

from paccto_data.countries import classify_country, lac_iso3
from paccto_data.errors import SourceDataError, UnknownCountryError
from paccto_data.sources import Tidy
from paccto_data.sources._common import (
    map_distinct,
    read_sheet,
    resolve_countries,
    to_integer,
    to_number,
    with_provenance,
)

SOURCE_ID = "unodc_drug_seizures"
SHEET = "Export"
GROUP, SUBGROUP, DRUG = "DrugGroup", "DrugSubGroup", "DrugName"
COLUMNS = ["Country", GROUP, SUBGROUP, DRUG, "Reference year", "Kilograms", "msCode"]
# The drug groups of the 2024 annex. A new one needs a decision (is it a drug? a precursor?),
# so it raises instead of flowing through unreviewed.
PRECURSORS = "Precursors"
DRUG_GROUPS = (
    "Amphetamine-type stimulants (excluding “ecstasy”)",
    "Any other drugs/substances",
    "Cannabis-type drugs (excluding synthetic cannabinoids)",
    "Cocaine-type",
    "Hallucinogens",
    "NPS",
    "Opioids",
    PRECURSORS,
    "Sedatives and tranquillizers",
    "Solvents and Inhalants",
    "“Ecstasy”-type substances",
)
KEY = ["iso3", "year", "drug_group", "drug_subgroup", "drug", "entry"]
# A row the questionnaire labels as a total of other rows: the sub-groups "Reported total …",
# the drugs "Total … (including the above …)" and "Cocaine (total of the above …)".
TOTAL_SUBGROUP = re.compile(r"^Reported total\b", re.IGNORECASE)
TOTAL_DRUG = re.compile(r"^Total\b|\(total of the above\b", re.IGNORECASE)
# Footnote marks a label may carry: *, †, ‡, superscript digits, [a] / [1].
_FOOTNOTE = re.compile(r"(\s*(?:[*†‡]+|[\u00b9\u00b2\u00b3\u2070-\u2079]+|\[\w{1,3}\]))+$")
_LABEL_RULES = (
    (re.compile(r"\s*\(please specify\)", re.IGNORECASE), ""),
    # "Cocaine (total of the above, including if unspecified/undistinguished, …)"
    (re.compile(r"\s*\(total of the above\b.*\)$", re.IGNORECASE), " (total)"),
    # "Total hallucinogens (including the above, all other hallucinogens, and …)"
    (re.compile(r"^(Total\b.*?)\s*\(including the above\b.*\)$", re.IGNORECASE), r"\1"),
    (re.compile(r"\(consumer products such as ", re.IGNORECASE), "("),
)


def drug_label(name: str, is_total: bool = False) -> str:
    """A short readable label for a publisher's drug name: footnote marks, questionnaire
    instructions ("(please specify)", "(including the above, …)") and odd spaces removed,
    curly quotes made straight; a total says so."""
    text = _FOOTNOTE.sub("", str(name).strip())
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    text = text.replace("“", '"').replace("”", '"')
    for pattern, replacement in _LABEL_RULES:
        text = pattern.sub(replacement, text)
    if is_total and "total" not in text.lower():
        text += " (total)"  # "Cannabis-type" in the sub-group "Reported total Cannabis-type"
    return text


def _first_bad(frame: pd.DataFrame, bad: pd.Series, path, column: str, problem: str,
               expected: str) -> None:
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise SourceDataError(path, problem, sheet=SHEET, row=int(frame["file_row"].iloc[i]),
                              column=column, value=frame[column].iloc[i], expected=expected)


def _check_country_names(frame: pd.DataFrame, path) -> None:
    """The Country name must resolve to the row's msCode: a shifted or mistyped row fails."""
    for (name, iso3), row in frame.groupby(["Country", "iso3"], sort=False)["file_row"].min() \
            .items():
        try:
            resolved = classify_country(name).iso3
        except UnknownCountryError as exc:
            raise SourceDataError(path, str(exc), sheet=SHEET, row=int(row), column="Country",
                                  value=name) from exc
        if resolved != iso3:
            raise SourceDataError(path, f"the country name resolves to {resolved}, msCode to "
                                  f"{iso3}", sheet=SHEET, row=int(row), column="Country",
                                  value=name, expected=f"the name of {iso3}")


def tidy_seizures(files) -> Tidy:
    """Drug and precursor seizures in kilograms for every LAC country and year, one row per
    publisher row: iso3, year, drug_group, drug_subgroup, drug (the publisher's names), entry
    (1, 2, … where the file repeats a country, year and drug: nothing tells the repeats apart),
    drug_label, kilograms, is_total (the row is labelled a total of other rows: never add it to
    them), is_precursor (a precursor chemical, not a drug), and source_file and
    source_locator (the Kilograms cell, e.g. `Export!F1234`). Taiwan (not an M49 area), areas
    outside LAC and empty quantities are dropped and counted by reason."""
    path = files["data"]
    sheet = read_sheet(path, COLUMNS, sheet=SHEET)
    raw = sheet.frame
    for column in (GROUP, SUBGROUP, DRUG):
        text = map_distinct(raw[column], lambda v: v.strip() if isinstance(v, str) else v)
        named = map_distinct(text, lambda v: isinstance(v, str) and v != "")
        _first_bad(raw, ~named, path, column, "empty or not text", "a drug name")
        raw[column] = text
    _first_bad(raw, ~raw[GROUP].isin(DRUG_GROUPS), path, GROUP, "unknown drug group",
               f"one of {list(DRUG_GROUPS)}")
    dropped = Counter()
    countries = resolve_countries(raw, "msCode", path, dropped, sheet=SHEET)
    outside = ~countries["iso3"].isin(lac_iso3())
    dropped["not_lac"] += int(outside.sum())
    lac = countries[~outside]
    _check_country_names(lac, path)
    lac = lac.sort_values("file_row")
    lac = lac.assign(year=to_integer(lac, "Reference year", path, sheet=SHEET),
                     kilograms=to_number(lac, "Kilograms", path, sheet=SHEET, missing=("",)))
    # The n-th row of the sheet for its country, year and drug (before empty quantities go,
    # so an entry keeps its number whatever happens to its neighbours).
    lac["entry"] = lac.groupby(["iso3", "year", GROUP, SUBGROUP, DRUG], sort=False).cumcount() + 1
    missing = lac["kilograms"].isna()
    dropped["missing_value"] += int(missing.sum())
    lac = lac[~missing]
    is_total = (lac[SUBGROUP].str.contains(TOTAL_SUBGROUP)
                | lac[DRUG].str.contains(TOTAL_DRUG))
    table = pd.DataFrame({
        "iso3": lac["iso3"].astype(str),
        "year": lac["year"].astype("int32"),
        "drug_group": lac[GROUP].astype(str),
        "drug_subgroup": lac[SUBGROUP].astype(str),
        "drug": lac[DRUG].astype(str),
        "entry": lac["entry"].astype("int32"),
        "drug_label": [drug_label(d, t) for d, t in zip(lac[DRUG], is_total)],
        "kilograms": lac["kilograms"].astype("float64"),
        "is_total": is_total.astype(bool),
        "is_precursor": lac[GROUP].eq(PRECURSORS),
    })
    table = with_provenance(table, path, sheet.cells("Kilograms", lac["file_row"]))
    table = table.sort_values(KEY).reset_index(drop=True)
    return Tidy(table, rows_read=len(raw), dropped=dropped)


TABLES = {"unodc_drug_seizures": tidy_seizures}
