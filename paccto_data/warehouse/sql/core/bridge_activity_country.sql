-- description: One row per activity and country it names (ISO3): role host or participant,
-- description: whether the register lists it among the participating countries (a host it
-- description: does not list took part all the same), and whether the country is in Latin
-- description: America and the Caribbean (non-LAC countries such as EU venues are kept).
-- depends: core.dim_activity
-- core.bridge_activity_country: one row per (activity_id, iso3). is_lac and
-- is_programme_partner are copied from core.dim_country for convenience (a LEFT JOIN, so a
-- code missing from dim_country would show as a null flag, which the suite refuses).
CREATE OR REPLACE TABLE core.bridge_activity_country AS
SELECT
    b.activity_id,
    b.iso3,
    b.role,
    b.listed_in_countries,
    c.is_lac,
    c.is_programme_partner,
    b.source_file,
    b.source_locator
FROM staging.paccto_activity_countries AS b
LEFT JOIN core.dim_country AS c USING (iso3)
ORDER BY b.activity_id, b.iso3;
