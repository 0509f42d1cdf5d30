-- description: Each programme activity set against the indicators of the Latin American and
-- description: Caribbean countries it names: one row per activity x LAC country x indicator
-- description: mapped to one of its crime areas (assets/activities/crime_area_indicators.yaml),
-- description: with the baseline (the latest value before the activity's year), the latest
-- description: value, the years they come from and the change. A missing value is a row with
-- description: a status and a reason, never a gap.
-- marts.activity_context: unique on (activity_id, iso3, indicator_id); iso3 is null for an
-- activity that names no LAC country, indicator_id is null when none of its crime areas has
-- a mapped indicator. Values are the totals (sex, age, category, dimension = 'total') of the
-- mapped source. status: ok | no_lac_country | no_indicator_mapped | no_value |
-- no_baseline | no_value_since_activity (see the data dictionary).
CREATE OR REPLACE TABLE marts.activity_context AS
WITH activity_indicators AS (
    -- one row per activity and mapped indicator, with the crime areas that bring it in
    SELECT a.activity_id, m.indicator_id, m.source_id,
           list(DISTINCT m.crime_area ORDER BY m.crime_area) AS via_crime_areas
    FROM (SELECT activity_id, unnest(crime_areas) AS crime_area FROM core.dim_activity) AS a
    JOIN crime_area_indicators AS m USING (crime_area)
    GROUP BY a.activity_id, m.indicator_id, m.source_id
),
lac AS (
    SELECT activity_id, iso3, role FROM core.bridge_activity_country WHERE is_lac
),
grid AS (
    -- activity x (LAC country, or null) x (mapped indicator, or null)
    SELECT a.activity_id, a.start_year, a.phase, a.line_of_action, a.crime_areas,
           a.n_countries, l.iso3, l.role, i.indicator_id, i.source_id, i.via_crime_areas
    FROM core.dim_activity AS a
    LEFT JOIN lac AS l USING (activity_id)
    LEFT JOIN activity_indicators AS i USING (activity_id)
),
series AS (
    SELECT iso3, indicator_id, source_id, year, value, source_file, source_locator
    FROM core.fact_indicator
    WHERE sex = 'total' AND age = 'total' AND category = 'total' AND dimension = 'total'
),
measured AS (
    SELECT
        g.activity_id, g.iso3, g.indicator_id,
        max(s.year) FILTER (WHERE s.year < g.start_year) AS baseline_year,
        arg_max(s.value, s.year) FILTER (WHERE s.year < g.start_year) AS baseline_value,
        arg_max(s.source_file, s.year) FILTER (WHERE s.year < g.start_year)
            AS baseline_source_file,
        arg_max(s.source_locator, s.year) FILTER (WHERE s.year < g.start_year)
            AS baseline_source_locator,
        max(s.year) AS latest_year,
        arg_max(s.value, s.year) AS latest_value,
        arg_max(s.source_file, s.year) AS latest_source_file,
        arg_max(s.source_locator, s.year) AS latest_source_locator,
        min(s.year) AS first_year
    FROM grid AS g
    JOIN series AS s
        ON s.iso3 = g.iso3 AND s.indicator_id = g.indicator_id AND s.source_id = g.source_id
    GROUP BY g.activity_id, g.iso3, g.indicator_id
),
classified AS (
    SELECT
        g.*,
        m.baseline_year, m.baseline_value, m.baseline_source_file, m.baseline_source_locator,
        m.latest_year, m.latest_value, m.latest_source_file, m.latest_source_locator,
        m.first_year,
        CASE
            WHEN g.iso3 IS NULL THEN 'no_lac_country'
            WHEN g.indicator_id IS NULL THEN 'no_indicator_mapped'
            WHEN m.latest_year IS NULL THEN 'no_value'
            WHEN m.baseline_year IS NULL THEN 'no_baseline'
            WHEN m.latest_year < g.start_year THEN 'no_value_since_activity'
            ELSE 'ok'
        END AS status
    FROM grid AS g
    LEFT JOIN measured AS m
        ON m.activity_id = g.activity_id AND m.iso3 IS NOT DISTINCT FROM g.iso3
        AND m.indicator_id IS NOT DISTINCT FROM g.indicator_id
)
SELECT
    c.activity_id,
    c.start_year,
    c.phase,
    c.line_of_action,
    c.iso3,
    country.name_en AS country_name_en,
    c.role,
    country.is_programme_partner,
    c.indicator_id,
    ind.title_en AS indicator_title_en,
    ind.unit,
    c.source_id,
    c.via_crime_areas,
    c.baseline_year,
    c.baseline_value,
    c.baseline_source_file,
    c.baseline_source_locator,
    c.latest_year,
    c.latest_value,
    c.latest_source_file,
    c.latest_source_locator,
    CASE WHEN c.status = 'ok' THEN c.latest_value - c.baseline_value END AS change,
    c.status,
    CASE c.status
        WHEN 'no_lac_country' THEN
            'The register names no Latin American or Caribbean country for this activity'
            || CASE WHEN c.n_countries > 0 THEN ' (only countries outside LAC)'
                    ELSE ' (the cited page gives no country, or only a count)' END
            || CASE WHEN c.indicator_id IS NULL
                    THEN '; and no indicator is mapped to its crime areas' ELSE '' END
        WHEN 'no_indicator_mapped' THEN
            'No indicator is mapped to its crime areas (' || array_to_string(c.crime_areas, ', ')
            || ') in assets/activities/crime_area_indicators.yaml'
        WHEN 'no_value' THEN
            c.source_id || ' publishes no value of ' || c.indicator_id || ' for ' || c.iso3
        WHEN 'no_baseline' THEN
            'No value before ' || c.start_year || ': the series for ' || c.iso3 || ' starts in '
            || c.first_year
        WHEN 'no_value_since_activity' THEN
            'The latest value (' || c.latest_year || ') is older than the activity ('
            || c.start_year || '): no change to report yet'
    END AS reason
FROM classified AS c
LEFT JOIN core.dim_country AS country ON country.iso3 = c.iso3
LEFT JOIN core.dim_indicator AS ind ON ind.indicator_id = c.indicator_id
ORDER BY c.activity_id, c.iso3 NULLS FIRST, c.indicator_id NULLS FIRST;
