-- description: One row per file of every source: its name (the source_file of the rows read
-- description: from it), the URL it is downloaded from, the ZIP member it is taken from, its
-- description: format, sha256 and size in bytes.
-- depends: core.dim_source
-- core.dim_source_file: one row per (source_id, file_id) in assets/sources/ (registered as
-- source_file_catalogue); a researcher checks a downloaded file against its sha256 before
-- following a source_locator into it.
CREATE OR REPLACE TABLE core.dim_source_file AS
SELECT
    source_id,
    file_id,
    file_name,
    url,
    zip_member,
    format,
    sha256,
    CAST(bytes AS BIGINT) AS bytes
FROM source_file_catalogue
ORDER BY source_id, file_id;
