"""Publication: package specs, the licence gate, deterministic files, validation, release."""

import dataclasses
import json
import os
import shutil

import dagster as dg
import duckdb
import frictionless
import pyarrow.parquet as pq
import pytest
import yaml

from paccto_data import publish
from paccto_data.definitions import build_definitions
from paccto_data.settings import ASSETS_DIR
from tests.support import build, environment, failed_steps, tmp_settings

SPECS = publish.package_specs()
HOMICIDE = SPECS["lac-homicide"]


def files_of(folder):
    """Every file under `folder`, by relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def descriptor_of(folder):
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One full offline build (every asset, check and release) into a temporary directory."""
    settings = tmp_settings(tmp_path_factory.mktemp("publish"))
    with environment(settings):
        result = build(settings, dg.DagsterInstance.ephemeral())
    assert result.success, failed_steps(result)
    return settings


@pytest.fixture
def warehouse(built):
    """A read-only connection to the build database (closed after the test)."""
    with duckdb.connect(str(built.build_db), read_only=True) as conn:
        yield conn


@pytest.fixture
def scratch_warehouse(built, tmp_path):
    """A writable copy of the build database, for tests that plant rows."""
    copy = tmp_path / "scratch.duckdb"
    shutil.copy(built.build_db, copy)
    with duckdb.connect(str(copy)) as conn:
        yield conn


@pytest.fixture
def released(warehouse, tmp_path):
    """A first release in tmp_path/published; returns (publish_dir, its files)."""
    publish_dir = tmp_path / "published"
    publish.publish(warehouse, [HOMICIDE], publish_dir)
    return publish_dir, files_of(publish_dir)


# --- specs ----------------------------------------------------------------------------------


def test_every_package_spec_matches_its_schema_and_reads_only_core_or_marts():
    assert set(SPECS) == {p.stem for p in (ASSETS_DIR / "packages").glob("*.yaml")}
    for spec in SPECS.values():
        assert spec.tables and all(t.split(".")[0] in ("core", "marts") for t in spec.tables)
    assert HOMICIDE.tables == ["core.dim_country", "core.fact_indicator"]


def test_a_spec_that_breaks_the_schema_is_refused_with_the_path_and_property(tmp_path):
    record = yaml.safe_load(HOMICIDE.path.read_text(encoding="utf-8"))
    record["version"] = "1.0"
    del record["title_es"]
    path = tmp_path / "lac-homicide.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    with pytest.raises(publish.PublicationError) as error:
        publish.load_spec(path)
    assert str(path) in str(error.value)
    assert "version" in str(error.value) and "title_es" in str(error.value)


def test_a_spec_reading_staging_or_leaving_a_column_unsourced_is_refused(tmp_path):
    record = yaml.safe_load(HOMICIDE.path.read_text(encoding="utf-8"))
    countries = record["resources"][0]
    countries["query"] = countries["query"].replace("core.dim_country", "staging.un_m49")
    del countries["fields"][1]["sources"]
    path = tmp_path / "lac-homicide.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    with pytest.raises(publish.PublicationError) as error:
        publish.load_spec(path)
    assert "staging.un_m49" in str(error.value)
    assert "['m49'] must name their `sources`" in str(error.value)


def test_the_homicide_unit_is_the_indicator_catalogue_unit():
    catalogue = yaml.safe_load((ASSETS_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    unit = next(i["unit"] for i in catalogue["indicators"] if i["id"] == "homicide_rate")
    value = next(f for f in HOMICIDE.resource("homicide_rate").fields if f.name == "value")
    assert value.unit == unit


# --- the licence gate -----------------------------------------------------------------------


def _source(source_id, redistribution, licence="CC-BY-4.0"):
    return publish.SourceRecord(source_id, source_id, "publisher", "https://example.org",
                                licence, licence, "https://example.org/licence",
                                redistribution, "citation", "2024")


def test_the_licence_gate_names_package_resource_column_source_and_licence():
    import pyarrow as pa

    resource = HOMICIDE.resource("homicide_rate")
    frame = pa.table({"iso3": ["JAM", "JAM"], "year": [2022, 2022], "value": [1.0, 2.0],
                      "unit": ["x", "x"], "source_id": ["unodc_homicide", "ti_cpi"],
                      "flag": [None, None]})
    derivation = {"homicide_rate": publish.column_sources(HOMICIDE.name, resource, frame)}
    sources = {"unodc_homicide": _source("unodc_homicide", "open"),
               "ti_cpi": _source("ti_cpi", "unmodified-only", "CC-BY-ND-4.0")}
    with pytest.raises(publish.LicenceError) as error:
        publish.check_licences(HOMICIDE.name, derivation, sources)
    lines = str(error.value).splitlines()[1:]
    assert len(lines) == len(resource.fields)  # every column carries the CPI rows
    assert lines[2].strip() == (
        "package lac-homicide, resource homicide_rate, column value: derives from source "
        "ti_cpi under licence CC-BY-ND-4.0 (redistribution 'unmodified-only'); only 'open' "
        "sources may be published")
    del sources["ti_cpi"]
    assert "source 'ti_cpi' is not in core.dim_source" in "\n".join(
        publish.licence_problems(HOMICIDE.name, derivation, sources))


@pytest.mark.e2e
def test_publishing_rows_from_a_non_open_source_is_refused_before_writing(scratch_warehouse,
                                                                          released, tmp_path):
    conn = scratch_warehouse
    # The package's rows now come from a source whose terms forbid derivatives.
    conn.execute("""
        UPDATE core.dim_source SET licence = 'Creative Commons Attribution-NoDerivatives 4.0',
            licence_spdx = 'CC-BY-ND-4.0', redistribution = 'unmodified-only'
        WHERE source_id = 'unodc_homicide'""")
    folder = tmp_path / "lac-homicide"
    with pytest.raises(publish.LicenceError) as error:
        publish.build_package(conn, HOMICIDE, folder)
    assert ("package lac-homicide, resource homicide_rate, column value: derives from source "
            "unodc_homicide under licence CC-BY-ND-4.0 (redistribution 'unmodified-only')"
            in str(error.value))
    assert not folder.exists()
    publish_dir, before = released
    with pytest.raises(publish.LicenceError):
        publish.publish(conn, [HOMICIDE], publish_dir)
    assert files_of(publish_dir) == before
    assert not publish.aside(publish_dir, "tmp").exists()


@pytest.mark.e2e
def test_a_declared_column_source_that_is_not_open_is_refused(scratch_warehouse, tmp_path):
    conn = scratch_warehouse
    conn.execute("UPDATE core.dim_source SET redistribution = 'internal' "
                 "WHERE source_id = 'wb_population'")
    with pytest.raises(publish.LicenceError) as error:
        publish.build_package(conn, HOMICIDE, tmp_path / "lac-homicide")
    assert str(error.value).splitlines()[1:] == [
        "  package lac-homicide, resource countries, column income_group: derives from source "
        "wb_population under licence CC-BY-4.0 (redistribution 'internal'); only 'open' "
        "sources may be published"]


# --- the package ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_released_package_validates_with_frictionless_and_our_checks(built):
    folder = built.publish_dir / "lac-homicide"
    assert publish.validate_package(folder) == []
    # frictionless on its own, over every resource, as a researcher runs it
    report = frictionless.Package(descriptor_of(folder), basepath=str(folder)).validate()
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    assert {t.name: t.stats["rows"] for t in report.tasks} == {
        "countries": 52, "countries_parquet": 52,
        "homicide_rate": 1121, "homicide_rate_parquet": 1121}


@pytest.mark.e2e
def test_the_descriptor_is_data_package_v2_with_keys_licences_and_sources(built, warehouse):
    descriptor = descriptor_of(built.publish_dir / "lac-homicide")
    assert descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert descriptor["version"] == "1.0.0"
    assert descriptor["title_es"] and descriptor["description_es"]
    vintages = dict(warehouse.execute("SELECT source_id, vintage FROM core.dim_source").fetchall())
    used = ["un_m49", "unodc_homicide", "wb_population"]
    assert descriptor["created"] == max(
        publish.vintage_date(vintages[s]) for s in used) + "T00:00:00Z"
    assert [s["title"] for s in descriptor["sources"]] == [
        publish.source_records(warehouse)[s].title for s in used]
    assert {lic.get("name") for lic in descriptor["licenses"]} == {"CC-BY-4.0", None}
    resources = {r["name"]: r for r in descriptor["resources"]}
    assert list(resources) == ["countries", "countries_parquet", "homicide_rate",
                               "homicide_rate_parquet"]
    for r in resources.values():
        assert r["hash"].startswith("sha256:") and r["licenses"]
        # frictionless 5.21 reports any `bytes` on a Parquet resource as a mismatch: CSV only
        assert ("bytes" in r) == (r["format"] == "csv")
        if r["format"] == "csv":
            assert r["bytes"] == (built.publish_dir / "lac-homicide" / r["path"]).stat().st_size
        # frictionless reads a null Parquet number as NaN (through pandas): "nan" is missing
        assert r["schema"]["missingValues"] == (["", "nan"] if r["format"] == "parquet"
                                                else [""])
    homicide = resources["homicide_rate"]
    assert [s["version"] for s in homicide["sources"]] == [vintages["unodc_homicide"]]
    assert homicide["schema"]["primaryKey"] == ["iso3", "year"]
    assert homicide["schema"]["foreignKeys"] == [
        {"fields": ["iso3"], "reference": {"resource": "countries", "fields": ["iso3"]}}]
    assert resources["homicide_rate_parquet"]["schema"]["foreignKeys"][0]["reference"][
        "resource"] == "countries_parquet"
    value = next(f for f in homicide["schema"]["fields"] if f["name"] == "value")
    assert value == {"name": "value", "type": "number",
                     "description": "Victims of intentional homicide per 100,000 population.",
                     "unit": "victims per 100,000 population",
                     "constraints": {"minimum": 0, "required": True}}
    countries = {f["name"]: f for f in resources["countries"]["schema"]["fields"]}
    assert countries["iso3"]["constraints"] == {"pattern": "[A-Z]{3}", "required": True}
    assert countries["is_celac"]["type"] == "boolean"


@pytest.mark.e2e
def test_the_tables_hold_the_warehouse_rows_sorted_by_key_in_csv_and_parquet(built, warehouse):
    folder = built.publish_dir / "lac-homicide" / "data"
    expected = warehouse.execute("""
        SELECT iso3, year, value FROM core.fact_indicator
        WHERE indicator_id = 'homicide_rate' AND source_id = 'unodc_homicide'
          AND sex = 'total'
        ORDER BY iso3, year""").fetchall()
    parquet = pq.read_table(folder / "homicide_rate.parquet")
    assert list(zip(*(parquet.column(c).to_pylist() for c in ("iso3", "year", "value")))) \
        == expected
    assert pq.read_table(folder / "countries.parquet").num_rows == 52
    text = (folder / "homicide_rate.csv").read_bytes()
    assert b"\r" not in text and not text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8").splitlines()
    assert lines[0] == "iso3,year,value,unit,source_id,flag"
    assert len(lines) == len(expected) + 1
    assert "e" not in "".join(line.split(",")[2] for line in lines[1:])  # no exponents


@pytest.mark.e2e
def test_the_readme_covers_contents_coverage_method_caveats_licences_and_citation(built,
                                                                                   warehouse):
    readme = (built.publish_dir / "lac-homicide" / "README.md").read_text(encoding="utf-8")
    first, last, countries = warehouse.execute("""
        SELECT min(year), max(year), count(DISTINCT iso3) FROM core.fact_indicator
        WHERE indicator_id = 'homicide_rate' AND source_id = 'unodc_homicide'""").fetchall()[0]
    assert f"{countries} countries × " in readme and f"({first}–{last})" in readme
    for heading in ("## Contents", "## How it was made", "## Caveats",
                    "## Licence and attribution", "## Citation", "## Resumen en español"):
        assert heading in readme
    for source in publish.source_records(warehouse).values():
        if source.id in ("un_m49", "unodc_homicide", "wb_population"):
            assert source.citation in readme and source.licence_url in readme
    assert "version 1.0.0" in readme and HOMICIDE.title_es in readme
    assert "data/homicide_rate.parquet" in readme


@pytest.mark.e2e
def test_a_rebuild_from_unchanged_inputs_is_byte_identical(built, warehouse, tmp_path):
    first = tmp_path / "first" / "lac-homicide"
    second = tmp_path / "second" / "lac-homicide"
    publish.build_package(warehouse, HOMICIDE, first)
    publish.build_package(warehouse, HOMICIDE, second)
    files = files_of(first)
    assert set(files) == {"README.md", "datapackage.json", "CITATION.cff", "CHANGELOG.md",
                          "data/countries.csv", "data/countries.parquet",
                          "data/homicide_rate.csv", "data/homicide_rate.parquet"}
    assert files == files_of(second)
    # ... and to what the Dagster assets built and released from the same build database
    assert files == files_of(built.publish_dir / "lac-homicide")


# --- release --------------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_kill_between_the_two_renames_is_recovered_at_the_next_start(warehouse, released):
    publish_dir, before = released
    newer = dataclasses.replace(HOMICIDE, version="1.0.1")
    tmp, old = publish.aside(publish_dir, "tmp"), publish.aside(publish_dir, "old")
    publish.build_package(warehouse, newer, tmp / newer.name)
    os.rename(publish_dir, old)  # the first rename of the swap, then the process dies
    assert not publish_dir.exists()

    done = publish.recover(publish_dir)
    assert files_of(publish_dir) == before
    assert not old.exists() and not tmp.exists()
    assert len(done) == 2 and "restored" in done[0]
    # the next release goes through
    publish.publish(warehouse, [newer], publish_dir)
    assert descriptor_of(publish_dir / "lac-homicide")["version"] == "1.0.1"


@pytest.mark.e2e
def test_a_swap_killed_before_deleting_the_old_release_keeps_the_new_one(warehouse, released):
    publish_dir, before = released
    old = publish.aside(publish_dir, "old")
    shutil.copytree(publish_dir, old)
    (publish_dir / "lac-homicide" / "README.md").write_text("new release", encoding="utf-8")
    publish.recover(publish_dir)
    assert not old.exists()
    assert (publish_dir / "lac-homicide" / "README.md").read_text(encoding="utf-8") \
        == "new release"


@pytest.mark.e2e
def test_a_failed_validation_leaves_the_previous_release_as_it_was(warehouse, released):
    publish_dir, before = released
    homicide = HOMICIDE.resource("homicide_rate")
    tightened = tuple(
        dataclasses.replace(f, constraints={**f.constraints, "maximum": 1})
        if f.name == "value" else f for f in homicide.fields)
    broken = dataclasses.replace(HOMICIDE, version="1.1.0", resources=(
        HOMICIDE.resource("countries"), dataclasses.replace(homicide, fields=tightened)))
    with pytest.raises(publish.PackageInvalidError) as error:
        publish.publish(warehouse, [broken], publish_dir)
    assert "lac-homicide/homicide_rate, row " in str(error.value)
    assert 'constraint-error: constraint "maximum" is "1"' in str(error.value)
    assert files_of(publish_dir) == before
    assert not publish.aside(publish_dir, "tmp").exists()


@pytest.mark.e2e
def test_a_file_changed_after_writing_is_caught_by_the_sha256_check(warehouse, released):
    publish_dir, before = released

    def build_then_tamper(tmp):
        publish.build_package(warehouse, HOMICIDE, tmp / HOMICIDE.name)
        parquet = tmp / HOMICIDE.name / "data" / "countries.parquet"
        parquet.write_bytes(parquet.read_bytes() + b"\0")

    with pytest.raises(publish.PackageInvalidError) as error:
        publish.release(publish_dir, build_then_tamper)
    message = str(error.value)
    assert "lac-homicide/data/countries.parquet: sha256:" in message
    assert files_of(publish_dir) == before


# --- Dagster wiring -------------------------------------------------------------------------


@pytest.mark.e2e
def test_each_package_is_an_asset_in_the_publication_group(built):
    graph = build_definitions(built).resolve_asset_graph()
    key = dg.AssetKey(["publication", "lac_homicide"])
    node = graph.get(key)
    assert node.group_name == "publication"
    assert node.owners == ["team:data-engineering"]
    assert set(node.kinds) >= {"frictionless", "csv", "parquet"}
    assert node.parent_keys == {dg.AssetKey(["core", "dim_country"]),
                                dg.AssetKey(["core", "fact_indicator"]),
                                dg.AssetKey(["core", "dim_source"])}
    release = graph.get(dg.AssetKey("publication_release")).parent_keys
    # every published folder: the packages and the quality report ...
    assert {k for k in release if k.path[0] == "publication"} == {
        dg.AssetKey(["publication", name.replace("-", "_")]) for name in SPECS} | {
        dg.AssetKey(["publication", "quality_report"])}
    # ... and every asset with a blocking check, so the release runs after all of them
    checked = {spec.asset_key for c in build_definitions(built).asset_checks
               for spec in c.check_specs if spec.blocking}
    assert checked and checked <= release


@pytest.mark.e2e
def test_the_release_refuses_while_a_blocking_check_has_not_passed(built, tmp_path):
    """A fresh instance has no check results: the gate must refuse, and leave the release."""
    settings = tmp_settings(tmp_path, build_db=built.build_db,
                            publish_dir=tmp_path / "published")
    shutil.copytree(built.publish_dir, settings.publish_dir)
    before = files_of(settings.publish_dir)
    with environment(settings):
        result = build(settings, dg.DagsterInstance.ephemeral(), "publication_release")
    failures = failed_steps(result)
    assert list(failures) == ["publication_release"]
    assert "packages not released" in failures["publication_release"]
    assert files_of(settings.publish_dir) == before
