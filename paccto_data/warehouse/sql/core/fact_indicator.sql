-- description: Every indicator value for LAC, long: iso3, year, indicator_id, source_id,
-- description: value, unit, the publisher's flag, and disaggregations (sex, age, category,
-- description: dimension; 'total' where a source has none).
-- depends: core.dim_country, core.dim_indicator, core.dim_source
-- core.fact_indicator: every indicator value, long, one row per
-- (iso3, year, indicator_id, source_id, sex, age, category, dimension).
-- The union placeholder is generated from the staging tables whose module FEEDS fact_indicator
-- (paccto_data/warehouse/models.py: fact_indicator_union); a disaggregation a source does not
-- have is 'total'.
CREATE OR REPLACE TABLE core.fact_indicator AS
SELECT
    iso3,
    CAST(year AS INTEGER) AS year,
    indicator_id,
    source_id,
    CAST(value AS DOUBLE) AS value,
    unit,
    flag,
    sex,
    age,
    category,
    dimension
FROM ({fact_indicator_union})
ORDER BY indicator_id, source_id, iso3, year, sex, age, category, dimension;
