-- description: One row per Latin American and Caribbean country (52): programme partner or
-- description: not, how many programme activities named it (in all, hosted, by phase, line of
-- description: action and crime area), its first and last activity, and the latest value of
-- description: each headline indicator with its year and source. The table to open first.
-- marts.programme_coverage: unique on iso3. Counts are 0, never null; a country no activity
-- names has null first/last activity. "Latest" is the most recent year with a value in the
-- headline source (assets/activities/crime_area_indicators.yaml, `headline`), whatever the year.
CREATE OR REPLACE TABLE marts.programme_coverage AS
WITH headline AS (
    SELECT f.iso3, f.year, f.indicator_id, f.source_id, f.value, f.source_file, f.source_locator
    FROM core.fact_indicator AS f
    JOIN headline_indicators AS h USING (indicator_id, source_id)
    WHERE f.sex = 'total' AND f.age = 'total' AND f.category = 'total' AND f.dimension = 'total'
),
latest AS (
    SELECT iso3, indicator_id,
           arg_max(value, year) AS value, max(year) AS year, any_value(source_id) AS source_id,
           arg_max(source_file, year) AS source_file, arg_max(source_locator, year) AS source_locator
    FROM headline GROUP BY iso3, indicator_id
),
latest_wide AS (
    SELECT
        iso3,
        {headline_latest_columns}
    FROM latest
    GROUP BY iso3
),
activities AS (
    SELECT b.iso3, b.role, a.activity_id, a.start_date, a.phase, a.line_of_action, a.crime_areas
    FROM core.bridge_activity_country AS b
    JOIN core.dim_activity AS a USING (activity_id)
    WHERE b.is_lac
),
counts AS (
    SELECT
        iso3,
        {activity_count_columns}
    FROM activities
    GROUP BY iso3
),
first_last AS (
    SELECT iso3,
           min(start_date) AS first_activity_date,
           arg_min(activity_id, (start_date, activity_id)) AS first_activity_id,
           max(start_date) AS last_activity_date,
           arg_max(activity_id, (start_date, activity_id)) AS last_activity_id
    FROM activities GROUP BY iso3
)
SELECT
    c.iso3,
    c.name_en,
    c.name_es,
    c.lac_subregion,
    c.is_programme_partner,
    c.programme_partner_group,
    c.is_celac,
    CAST(coalesce(COLUMNS(n.* EXCLUDE (iso3)), 0) AS INTEGER),
    f.first_activity_date,
    f.first_activity_id,
    f.last_activity_date,
    f.last_activity_id,
    COLUMNS(h.* EXCLUDE (iso3))
FROM core.dim_country AS c
LEFT JOIN counts AS n USING (iso3)
LEFT JOIN first_last AS f USING (iso3)
LEFT JOIN latest_wide AS h USING (iso3)
WHERE c.is_lac
ORDER BY c.iso3;
