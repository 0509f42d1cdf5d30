-- description: Drug and precursor seizures in kilograms for LAC, by country, year, drug group,
-- description: sub-group and drug (UNODC World Drug Report 2024, annex table 7.1, 2018-2022).
-- description: is_total marks rows the publisher labels as totals of other rows (never add
-- description: them to those rows); is_precursor marks precursor chemicals (not drugs); entry
-- description: numbers the rows where the file repeats a country, year and drug; source_file
-- description: and source_locator name the workbook cell that holds the kilograms.
-- depends: core.dim_country, core.dim_source, core.dim_source_file
-- core.fact_drug_seizure: one row per publisher row, unique on
-- (iso3, year, drug_group, drug_subgroup, drug, entry). No join filters rows: an iso3 or
-- source_id unknown to core.dim_country / core.dim_source fails the suite instead of vanishing.
CREATE OR REPLACE TABLE core.fact_drug_seizure AS
SELECT
    iso3,
    CAST(year AS INTEGER) AS year,
    drug_group,
    drug_subgroup,
    drug,
    CAST(entry AS INTEGER) AS entry,
    drug_label,
    CAST(kilograms AS DOUBLE) AS kilograms,
    is_total,
    is_precursor,
    'unodc_drug_seizures' AS source_id,
    source_file,
    source_locator
FROM staging.unodc_drug_seizures
ORDER BY iso3, year, drug_group, drug_subgroup, drug, entry;
