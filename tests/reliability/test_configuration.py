"""Trusted configuration that reaches too far: a package query reading local files, YAML
codes spliced into SQL, file names and URLs that leave the raw folder or HTTP. Each is
refused naming where it came from; package queries run where they can read nothing but the
warehouse tables they name."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest
import yaml

from paccto_data.acquire import fetch, records
from paccto_data.activities import mapping, vocabulary
from paccto_data.errors import CatalogueError, PublicationError, SourceFileError
from paccto_data.publication.spec import load_spec, package_specs, with_standard_countries
from paccto_data.publication.tables import Sandbox, query_resource
from paccto_data.warehouse import reference
from paccto_data.warehouse.models import headline_latest_columns, headline_value_columns

from .hostile import source_yaml

HOMICIDE = package_specs()["lac-homicide"]
READS_OUTSIDE = {
    "read_text": "FROM core.fact_indicator AS f, read_text('/etc/hostname') AS h",
    "read_csv": "FROM core.fact_indicator AS f JOIN read_csv('/etc/passwd') AS p ON true",
    "glob": "FROM core.fact_indicator AS f JOIN glob('/etc/*') AS g ON true",
}


def spec_record() -> dict:
    return with_standard_countries(yaml.safe_load(HOMICIDE.path.read_text(encoding="utf-8")))


def write_spec(tmp_path, record):
    path = tmp_path / "lac-homicide.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    return path


# --- package queries ------------------------------------------------------------------------

@pytest.mark.parametrize("function", sorted(READS_OUTSIDE))
def test_a_spec_whose_query_reads_a_local_file_is_refused(tmp_path, function):
    record = spec_record()
    resource = next(r for r in record["resources"] if r["name"] == "homicide_rate")
    resource["query"] = resource["query"].replace("FROM core.fact_indicator AS f\n",
                                                  READS_OUTSIDE[function] + "\n")
    assert function in resource["query"]
    with pytest.raises(PublicationError) as error:
        load_spec(write_spec(tmp_path, record))
    message = str(error.value)
    assert "(package lac-homicide)" in message
    assert f"resource homicide_rate: the query calls {function}(), which reads outside the " \
           "warehouse" in message


@pytest.mark.parametrize("query, problem", [
    ("SELECT 1 AS iso3; SELECT 2 AS iso3", "the query holds 2 statements"),
    ("SELECT * FROM '/etc/passwd'", "query reads '\"/etc/passwd\"'; name tables as"),
])
def test_a_spec_with_several_statements_or_a_file_path_is_refused(tmp_path, query, problem):
    record = spec_record()
    next(r for r in record["resources"] if r["name"] == "homicide_rate")["query"] = query
    with pytest.raises(PublicationError, match="resource homicide_rate: " + problem):
        load_spec(write_spec(tmp_path, record))


@pytest.fixture
def warehouse():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA core; CREATE SCHEMA staging")
    conn.execute("CREATE TABLE core.fact_indicator AS SELECT 'MEX' AS iso3, 2020 AS year, "
                 "1.5 AS value, 'per 100,000' AS unit, 'unodc_homicide' AS source_id, "
                 "NULL::VARCHAR AS flag, 'homicide_rate' AS indicator_id, "
                 "'homicide-rate-unodc.csv' AS source_file, 'line 2' AS source_locator")
    conn.execute("CREATE TABLE staging.secret AS SELECT 42 AS x")
    yield conn
    conn.close()


@pytest.mark.parametrize("function", sorted(READS_OUTSIDE))
def test_a_query_that_slips_past_the_spec_check_still_reads_nothing(warehouse, function):
    """query_resource runs every query in a `Sandbox`: even a spec object built by
    hand, never checked, cannot read a file."""
    query = ("SELECT f.iso3, f.year, f.value, f.unit, f.source_id, f.flag "
             + READS_OUTSIDE[function])
    resource = dataclasses.replace(HOMICIDE.resource("homicide_rate"), query=query)
    with pytest.raises(PublicationError) as error:
        query_resource(warehouse, "lac-homicide", resource)
    assert str(error.value).startswith("package lac-homicide, resource homicide_rate: query "
                                       "failed: Permission Error")
    assert "disabled by configuration" in str(error.value)


def test_the_package_connection_holds_the_named_tables_and_nothing_else(warehouse):
    warehouse.execute("CREATE TABLE core.dim_country AS SELECT 'MEX' AS iso3")
    sandbox = Sandbox()
    held = sandbox.holding(warehouse, ["core.fact_indicator"])
    assert held.sql("SELECT iso3, value FROM core.fact_indicator").fetchall() == [("MEX", 1.5)]
    for statement, error in [
        ("SELECT * FROM staging.secret", duckdb.CatalogException),
        ("SET enable_external_access = true", duckdb.InvalidInputException),
        ("SET lock_configuration = false", duckdb.InvalidInputException),
        ("ATTACH '/tmp/other.duckdb' AS other", duckdb.PermissionException),
        ("COPY core.fact_indicator TO '/tmp/leak.csv'", duckdb.PermissionException),
        ("INSTALL httpfs", duckdb.PermissionException),
        ("SELECT * FROM read_text('/etc/hostname')", duckdb.PermissionException),
    ]:
        with pytest.raises(error):
            held.execute(statement)
    # a table outside core and marts is never copied, even when a query names it; and the
    # next query in the same sandbox no longer sees the tables the last one was given
    held = sandbox.holding(warehouse, ["staging.secret", "core.dim_country"])
    for table in ("staging.secret", "core.fact_indicator"):
        with pytest.raises(duckdb.CatalogException):
            held.execute(f"SELECT * FROM {table}")
    assert held.sql("SELECT table_schema || '.' || table_name FROM information_schema.tables"
                    ).fetchall() == [("core.dim_country",)]
    sandbox.close()
    # the build database itself is untouched: its settings were never changed
    assert warehouse.sql("SELECT current_setting('enable_external_access')").fetchall() == \
        [(True,)]


def test_the_published_queries_give_the_same_rows_in_the_package_connection(warehouse):
    resource = HOMICIDE.resource("homicide_rate")
    table = query_resource(warehouse, "lac-homicide", dataclasses.replace(
        resource, query="SELECT iso3, year, value, unit, source_id, flag, source_file, "
                        "source_locator FROM core.fact_indicator"))
    assert table.to_pylist() == [{"iso3": "MEX", "year": 2020, "value": 1.5,
                                  "unit": "per 100,000", "source_id": "unodc_homicide",
                                  "flag": None, "source_file": "homicide-rate-unodc.csv",
                                  "source_locator": "line 2"}]


# --- YAML that reaches SQL ------------------------------------------------------------------

INJECTION = "drugs'); DROP TABLE core.dim_activity; --"


def test_a_crime_area_code_that_is_not_a_plain_code_is_refused(tmp_path):
    data = yaml.safe_load(vocabulary.VOCABULARIES_PATH.read_text(encoding="utf-8"))
    data["crime_area"][INJECTION] = {"name_en": "Drugs", "name_es": "Drogas"}
    path = tmp_path / "vocabularies.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError) as error:
        vocabulary.vocabularies(path)
    assert str(error.value).startswith(f"{path}: does not match vocabularies.schema.json")
    assert f"crime_area: {INJECTION!r} does not match '^[a-z0-9_]+$'" in str(error.value)


def test_a_headline_indicator_id_that_is_not_an_identifier_is_refused(tmp_path, monkeypatch):
    data = yaml.safe_load(mapping.MAPPING_PATH.read_text(encoding="utf-8"))
    data["headline"][0]["id"] = 'homicide_rate" AS x, (SELECT 1) AS "y'
    path = tmp_path / "crime_area_indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(mapping, "MAPPING_PATH", path)
    with pytest.raises(CatalogueError, match=r"headline/0/id: .* does not match"):
        mapping.headline_indicator_frame()


def test_an_indicator_id_that_is_not_an_identifier_is_refused(tmp_path, monkeypatch):
    data = yaml.safe_load(reference.INDICATORS_PATH.read_text(encoding="utf-8"))
    data["indicators"][0]["id"] = "homicide rate"
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(reference, "INDICATORS_PATH", path)
    with pytest.raises(CatalogueError, match=r"indicators/0/id: 'homicide rate' does not match"):
        reference.indicator_catalogue()


def test_generated_headline_columns_quote_their_identifiers_and_literals():
    sql = headline_value_columns() + headline_latest_columns()
    assert "max(\"value\") FILTER (WHERE indicator_id = 'homicide_rate') AS \"homicide_rate\"" \
        in sql


# --- source records: file names, URLs, limits -----------------------------------------------

@pytest.mark.parametrize("field, value, where", [
    ("name", ".", "files/0/name"),
    ("name", "..", "files/0/name"),
    ("name", "sub/data.csv", "files/0/name"),
    ("name", "..\\data.csv", "files/0/name"),
    ("url", "file:///etc/passwd", "files/0/url"),
    ("url", "ftp://example.org/data.csv", "files/0/url"),
    ("url", "https://user@example.org/data.csv", "files/0/url"),
    ("member", "../*.csv", "files/0/member"),
    ("limits", {"download_bytes": -1}, "files/0/limits/download_bytes"),
    ("limits", {"download_seconds": 0}, "files/0/limits/download_seconds"),
    ("limits", {"max_everything": 1}, "files/0/limits"),
])
def test_a_source_file_entry_that_reaches_too_far_is_refused(tmp_path, field, value, where):
    path = source_yaml(tmp_path, "csv", "data.csv")
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    record["files"][0][field] = value
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    with pytest.raises(CatalogueError) as error:
        records.load_source(path)
    assert f"\n  {where}: " in str(error.value)


def test_a_url_override_that_is_not_http_is_refused(tmp_path, monkeypatch):
    source = records.load_source(source_yaml(tmp_path, "csv", "data.csv"))
    monkeypatch.setenv("PACCTO_URL_HOSTILE", "file:///etc/passwd")
    with pytest.raises(SourceFileError, match=r"hostile/data: the URL 'file:///etc/passwd' is "
                                              r"not http\(s\)"):
        fetch.file_url(source, source.files[0])


def test_limits_merge_defaults_source_and_file_key_by_key(tmp_path):
    source = records.load_source(source_yaml(
        tmp_path, "xlsx", "data.xlsx", limits={"download_bytes": 1000, "sheet_rows": 10},
        file_limits={"sheet_rows": 20}))
    limits = source.limits_for(source.files[0])
    assert (limits.download_bytes, limits.sheet_rows, limits.sheet_cells) == \
        (1000, 20, 3_000_000)
