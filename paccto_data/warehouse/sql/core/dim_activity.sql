-- description: One row per EL PAcCTO programme activity in the register
-- description: (assets/activities/activities.csv): title, dates (the first day of the period,
-- description: with its precision: day or month), phase, line of action, component, crime
-- description: areas, format, host country, partner institutions, how many countries it names
-- description: (LAC and others), and the public page that reports it.
-- core.dim_activity: one row per activity_id. Countries and roles are in
-- core.bridge_activity_country; names of the coded values in the frame activity_vocabularies
-- (assets/activities/vocabularies.yaml).
CREATE OR REPLACE TABLE core.dim_activity AS
WITH country_counts AS (
    SELECT
        b.activity_id,
        count(*) AS n_countries,
        count(*) FILTER (WHERE c.is_lac) AS n_lac_countries,
        count(*) FILTER (WHERE c.is_programme_partner) AS n_partner_countries
    FROM staging.paccto_activity_countries AS b
    JOIN core.dim_country AS c USING (iso3)
    GROUP BY b.activity_id
),
names AS (
    SELECT vocabulary, code, name_en, name_es FROM activity_vocabularies
)
SELECT
    a.activity_id,
    a.title,
    CAST(a.start_date AS DATE) AS start_date,
    a.date_precision,
    CAST(a.end_date AS DATE) AS end_date,
    a.end_date_precision,
    CAST(a.start_year AS INTEGER) AS start_year,
    CAST(a.phase AS INTEGER) AS phase,
    phase.name_en AS phase_name,
    CAST(a.line_of_action AS INTEGER) AS line_of_action,
    line.name_en AS line_of_action_name_en,
    line.name_es AS line_of_action_name_es,
    a.component,
    a.format,
    string_split(a.crime_areas, ';') AS crime_areas,
    a.host_iso3,
    coalesce(n.n_countries, 0) AS n_countries,
    coalesce(n.n_lac_countries, 0) AS n_lac_countries,
    coalesce(n.n_partner_countries, 0) AS n_partner_countries,
    CASE WHEN a.partners IS NULL THEN CAST([] AS VARCHAR[])
         ELSE string_split(a.partners, ';') END AS partners,
    a.source_url,
    CAST(a.source_date AS DATE) AS source_date,
    a.language_of_source,
    a.source_file,
    a.source_locator
FROM staging.paccto_activities AS a
LEFT JOIN country_counts AS n USING (activity_id)
LEFT JOIN names AS phase ON phase.vocabulary = 'phases' AND phase.code = CAST(a.phase AS VARCHAR)
LEFT JOIN names AS line
    ON line.vocabulary = 'line_of_action' AND line.code = CAST(a.line_of_action AS VARCHAR)
ORDER BY a.activity_id;
