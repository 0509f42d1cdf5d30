"""UNODC-CTS corruption and economic crime: police-recorded offences (counts and rates per
100,000 population) from the UNODC Data Portal's dataUNODC long workbook (2024-05 release)."""

from __future__ import annotations

from paccto_data.sources import Tidy
from paccto_data.sources._unodc import Layout, Measure, read_long, tidy_long

SOURCE_ID = "unodc_cts_corruption"
VALUE_COLUMN = "VALUE"
COUNTS, RATE = "Counts", "Rate per 100,000 population"
OFFENCES, ENVIRONMENT = "Offences", "Acts against the environment"

# (Indicator, Category) as the file writes them -> indicator id stem; the unit picks the
# suffix: _count (offences) or _rate (offences per 100,000 population). The environmental
# categories carry the publisher's typos ("depletion of degradation", "movement of dumping",
# "faune"): they are matched as written.
STEMS = {
    (OFFENCES, "Corruption"): "corruption_offences",
    (OFFENCES, "Corruption: Bribery"): "bribery_offences",
    (OFFENCES, "Corruption: Other acts of corruption"): "other_corruption_offences",
    (OFFENCES, "Money laundering"): "money_laundering_offences",
    (OFFENCES, "Smuggling of migrants"): "migrant_smuggling_offences",
    (OFFENCES, "Fraud"): "fraud_offences",
    (OFFENCES, "Fraud: Cyber-related (Cy)"): "cyber_fraud_offences",
    (OFFENCES, "Unlawful access to a computer system"): "computer_access_offences",
    (OFFENCES, "Unlawful interference with a computer system or computer data"):
        "computer_interference_offences",
    (OFFENCES, "Unlawful interception or access of computer data"):
        "computer_data_interception_offences",
    (ENVIRONMENT, "Acts that cause environmental pollution or degradation"):
        "environmental_pollution_offences",
    (ENVIRONMENT, "Acts that result in the depletion of degradation of natural resources"):
        "natural_resource_depletion_offences",
    (ENVIRONMENT, "Acts involving the movement of dumping of waste"): "waste_dumping_offences",
    (ENVIRONMENT, "Trade or possession of protected or prohibited species of faune and flora"):
        "protected_species_offences",
}
UNITS = {COUNTS: ("count", "offences"), RATE: ("rate", "offences per 100,000 population")}
# Property crime is in the file but not in the programme's crime areas.
OUT_OF_SCOPE = {(OFFENCES, c): "out_of_scope_offence"
                for c in ("Theft", "Theft: of a motorized vehicle", "Burglary")}

LAYOUT = Layout(
    value_column=VALUE_COLUMN,
    measures={(indicator, category, unit): Measure(f"{stem}_{suffix}", our_unit)
              for (indicator, category), stem in STEMS.items()
              for unit, (suffix, our_unit) in UNITS.items()},
    dimensions=frozenset({"by type of offence"}),
    default_source="CTS",
    category_is_measure=True,
    out_of_scope=OUT_OF_SCOPE,
    # Row 14444 (BRA, Burglary, 2010, rate) names the country "bru"; the code is right.
    name_typos=frozenset({("BRA", "bru")}),
)


def indicator_ids() -> list[str]:
    return sorted({m.indicator_id for m in LAYOUT.measures.values()})


def tidy_from(long) -> Tidy:
    return tidy_long(long, LAYOUT)


def tidy_cts_corruption(files) -> Tidy:
    """Police-recorded corruption, bribery, money-laundering, migrant-smuggling, fraud,
    cyber-related and environmental offences for every LAC country and year: counts
    (<offence>_count) and rates per 100,000 population (<offence>_rate), long: one row per
    (iso3, year, indicator_id). The publisher's Source is kept in `flag` where it is not the
    CTS questionnaire alone. Non-ISO codes (UK and Iraq sub-national units, Kosovo), countries
    outside LAC, theft and burglary are dropped and counted by reason."""
    return tidy_from(read_long(files["data"], VALUE_COLUMN))


TABLES = {"unodc_cts_corruption": tidy_cts_corruption}
FEEDS = {"unodc_cts_corruption": "fact_indicator"}
