-- description: Every UN M49 country or area (249): ISO3/ISO2/M49 codes, English and Spanish
-- description: names, M49 region, is_lac (M49 419) and LAC sub-region, World Bank region and
-- description: income group, is_celac (33) and is_programme_partner (EL PAcCTO 2.0, 31).
-- core.dim_country: every M49 country or area (249), one row each.
-- Inputs: staging.un_m49, staging.wb_population_countries, and the registered frame
-- country_groups(iso3, group_id, partner_group) from assets/country_groups.yaml.
-- source_file/source_locator name the area's line of the M49 file, where the row starts;
-- the columns joined by iso3 name their inputs in the data dictionary.
CREATE OR REPLACE TABLE core.dim_country AS
SELECT
    m.iso3,
    m.iso2,
    m.m49,
    m.name_en,
    m.name_es,
    m.region,
    m.sub_region,
    m.intermediate_region,
    m.sub_region_code = '419' AS is_lac,
    -- LAC sub-region from the M49 intermediate region (029 Caribbean, 013 Central America,
    -- 005 South America); the M49 sub-region is "Latin America and the Caribbean" for all.
    CASE WHEN m.sub_region_code = '419' THEN m.intermediate_region END AS lac_subregion,
    w.wb_region,
    w.income_group,
    coalesce(celac.iso3 IS NOT NULL, false) AS is_celac,
    coalesce(partner.iso3 IS NOT NULL, false) AS is_programme_partner,
    partner.partner_group AS programme_partner_group,
    m.is_ldc,
    m.is_lldc,
    m.is_sids,
    m.source_file,
    m.source_locator
FROM staging.un_m49 AS m
LEFT JOIN staging.wb_population_countries AS w USING (iso3)
LEFT JOIN (SELECT iso3 FROM country_groups WHERE group_id = 'celac') AS celac USING (iso3)
LEFT JOIN (SELECT iso3, partner_group FROM country_groups WHERE group_id = 'programme_partner')
    AS partner USING (iso3)
ORDER BY m.m49;
