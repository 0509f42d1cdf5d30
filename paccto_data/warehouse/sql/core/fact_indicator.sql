-- description: Every indicator value for LAC, long: iso3, year, indicator_id, source_id,
-- description: value, unit, the publisher's flag, and disaggregations (sex, age, category,
-- description: dimension; 'total' where a source has none), and where in the source file the
-- description: value is (source_file, source_locator).
-- depends: core.dim_country, core.dim_indicator, core.dim_source, core.dim_source_file
-- core.fact_indicator: every indicator value, long, one row per
-- (iso3, year, indicator_id, source_id, sex, age, category, dimension).
-- The union placeholder is generated from the staging tables whose module FEEDS fact_indicator
-- (paccto_data/warehouse/models.py: fact_indicator_union); a disaggregation a source does not
-- have is 'total'. Every staging table that feeds the fact carries source_file and
-- source_locator (paccto_data/sources/_common.py: with_provenance).
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
    dimension,
    source_file,
    source_locator
FROM ({fact_indicator_union})
ORDER BY indicator_id, source_id, iso3, year, sex, age, category, dimension;
