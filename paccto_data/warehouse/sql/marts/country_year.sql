-- description: One row per Latin American and Caribbean country (52) and year: the headline
-- description: indicators side by side, each with the source it comes from, and the number of
-- description: programme activities that named the country that year, in all and by phase,
-- description: line of action and crime area. Years run from the first year of a headline
-- description: crime or governance series to the last year with a value or an activity.
-- marts.country_year: unique on (iso3, year). A headline value is null where its source
-- (assets/activities/crime_area_indicators.yaml, `headline`) has none for that country and
-- year; its *_source_id is then null too. Activity counts are 0, never null. The crime-area
-- columns follow assets/activities/vocabularies.yaml (tests check that they match).
CREATE OR REPLACE TABLE marts.country_year AS
WITH headline AS (
    SELECT f.iso3, f.year, f.indicator_id, f.source_id, f.value, f.source_file, f.source_locator
    FROM core.fact_indicator AS f
    JOIN headline_indicators AS h USING (indicator_id, source_id)
    WHERE f.sex = 'total' AND f.age = 'total' AND f.category = 'total' AND f.dimension = 'total'
),
activities AS (
    SELECT b.iso3, a.start_year AS year, a.activity_id, a.phase, a.line_of_action,
           a.crime_areas, b.role
    FROM core.bridge_activity_country AS b
    JOIN core.dim_activity AS a USING (activity_id)
    WHERE b.is_lac
),
years AS (
    SELECT unnest(range(
        (SELECT min(year) FROM headline WHERE indicator_id <> 'population'),
        greatest((SELECT max(year) FROM headline), (SELECT max(year) FROM activities)) + 1
    )) AS year
),
grid AS (
    SELECT c.iso3, c.name_en, c.lac_subregion, c.is_programme_partner, y.year
    FROM core.dim_country AS c CROSS JOIN years AS y
    WHERE c.is_lac
),
values_wide AS (
    SELECT
        iso3, year,
        {headline_value_columns}
    FROM headline
    GROUP BY iso3, year
),
counts AS (
    SELECT
        iso3, year,
        {activity_count_columns}
    FROM activities
    GROUP BY iso3, year
)
SELECT
    g.iso3,
    CAST(g.year AS INTEGER) AS year,
    g.name_en,
    g.lac_subregion,
    g.is_programme_partner,
    COLUMNS(v.* EXCLUDE (iso3, year)),
    CAST(coalesce(COLUMNS(c.* EXCLUDE (iso3, year)), 0) AS INTEGER)
FROM grid AS g
LEFT JOIN values_wide AS v USING (iso3, year)
LEFT JOIN counts AS c USING (iso3, year)
ORDER BY g.iso3, g.year;
