-- description: Population-weighted aggregates of the rate indicators (units "per 100,000
-- description: population") for Latin America and the Caribbean, its three sub-regions and
-- description: the EL PAcCTO 2.0 partner countries, by year and source, with the share of the
-- description: region's population that the reporting countries cover. Below the coverage
-- description: threshold (two thirds) the aggregate is null and the row says why.
-- marts.region_year: unique on (region_id, year, indicator_id, source_id). value =
-- sum(rate x population) / sum(population) over the region's countries that report the rate
-- and have a World Bank population that year. population_coverage = that population / the
-- population of every country of the region with a World Bank population that year (areas
-- the World Bank does not cover, such as Anguilla or Montserrat, count in neither).
CREATE OR REPLACE TABLE marts.region_year AS
WITH regions AS (
    SELECT iso3, 'lac' AS region_id, 'Latin America and the Caribbean' AS region_name
    FROM core.dim_country WHERE is_lac
    UNION ALL
    SELECT iso3, lower(replace(lac_subregion, ' ', '_')), lac_subregion
    FROM core.dim_country WHERE is_lac
    UNION ALL
    SELECT iso3, 'programme_partners', 'EL PAcCTO 2.0 partner countries'
    FROM core.dim_country WHERE is_programme_partner
),
totals AS (
    SELECT * FROM core.fact_indicator
    WHERE sex = 'total' AND age = 'total' AND category = 'total' AND dimension = 'total'
),
population AS (
    SELECT iso3, year, value AS population FROM totals
    WHERE indicator_id = 'population' AND source_id = 'wb_population'
),
rates AS (
    SELECT t.iso3, t.year, t.indicator_id, t.source_id, t.unit, t.value
    FROM totals AS t
    JOIN core.dim_indicator AS i USING (indicator_id)
    WHERE i.unit LIKE '%per 100,000%'
),
series AS (
    -- every (indicator, source) over the years from its first to its last value
    SELECT indicator_id, source_id, any_value(unit) AS unit,
           unnest(range(min(year), max(year) + 1)) AS year
    FROM rates GROUP BY indicator_id, source_id
),
grid AS (
    SELECT r.region_id, r.region_name, s.indicator_id, s.source_id, s.unit, s.year,
           r.iso3, p.population, x.value
    FROM series AS s
    CROSS JOIN regions AS r
    LEFT JOIN population AS p ON p.iso3 = r.iso3 AND p.year = s.year
    LEFT JOIN rates AS x ON x.iso3 = r.iso3 AND x.year = s.year
        AND x.indicator_id = s.indicator_id AND x.source_id = s.source_id
),
aggregated AS (
    SELECT
        region_id, any_value(region_name) AS region_name, CAST(year AS INTEGER) AS year,
        indicator_id, source_id, any_value(unit) AS unit,
        count(DISTINCT iso3) AS countries_in_region,
        count(value) AS countries_reporting,
        count(value) FILTER (WHERE population IS NOT NULL) AS countries_weighted,
        list(iso3 ORDER BY iso3) FILTER (WHERE value IS NOT NULL AND population IS NOT NULL)
            AS weighted_iso3,
        sum(population) AS population_region,
        sum(population) FILTER (WHERE value IS NOT NULL) AS population_reporting,
        sum(value * population) FILTER (WHERE value IS NOT NULL)
            / sum(population) FILTER (WHERE value IS NOT NULL) AS weighted_mean
    FROM grid
    GROUP BY region_id, year, indicator_id, source_id
),
classified AS (
    SELECT *,
        2.0 / 3 AS coverage_threshold,
        population_reporting / population_region AS population_coverage,
        CASE
            WHEN population_region IS NULL THEN 'no_population'
            WHEN countries_weighted = 0 THEN 'no_values'
            WHEN population_reporting / population_region < 2.0 / 3 THEN 'below_coverage'
            ELSE 'ok'
        END AS status
    FROM aggregated
)
SELECT
    region_id, region_name, year, indicator_id, source_id, unit,
    CASE WHEN status = 'ok' THEN weighted_mean END AS value,
    coalesce(population_coverage, 0) AS population_coverage,
    coverage_threshold,
    countries_in_region, countries_reporting, countries_weighted,
    coalesce(weighted_iso3, CAST([] AS VARCHAR[])) AS weighted_iso3,
    population_region, coalesce(population_reporting, 0) AS population_reporting,
    status,
    CASE status
        WHEN 'no_population' THEN 'No World Bank population for ' || year
            || ': the countries cannot be weighted'
        WHEN 'no_values' THEN 'No country of the region reports ' || indicator_id || ' ('
            || source_id || ') for ' || year
        WHEN 'below_coverage' THEN 'The ' || countries_weighted
            || CASE WHEN countries_weighted = 1 THEN ' reporting country holds '
                    ELSE ' reporting countries hold ' END
            || round(100 * population_coverage, 1) || '% of the region''s population, below the '
            || round(100 * coverage_threshold, 1) || '% threshold'
    END AS reason
FROM classified
ORDER BY indicator_id, source_id, region_id, year;
