-- description: One row per source: publisher, producer, distributor, licence,
-- description: redistribution (open / unmodified-only / internal), citation, vintage and
-- description: retrieval date.
-- core.dim_source: one row per source in assets/sources/ (registered as source_catalogue),
-- with its licence and whether its data may be redistributed.
CREATE OR REPLACE TABLE core.dim_source AS
SELECT * FROM source_catalogue ORDER BY source_id;
