-- description: One row per indicator: English and Spanish title and description, unit,
-- description: sources, and the valid range the checks enforce (assets/indicators.yaml).
-- core.dim_indicator: one row per indicator, from assets/indicators.yaml (registered as
-- the frame indicator_catalogue).
CREATE OR REPLACE TABLE core.dim_indicator AS
SELECT
    id AS indicator_id,
    title_en,
    title_es,
    unit,
    description_en,
    description_es,
    source_ids,
    valid_min,
    valid_max,
    source_file,
    source_locator
FROM indicator_catalogue
ORDER BY indicator_id;
