"""Publication: package specs, the licence gate, deterministic files, validation, release."""

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import frictionless
import pyarrow.parquet as pq
import pytest
import yaml

from paccto_data import fileio
from paccto_data.definitions import build_definitions
from paccto_data.errors import LicenceError, PackageInvalidError, PublicationError
from paccto_data.publication.licences import (
    SourceRecord,
    check_licences,
    column_sources,
    licence_problems,
    source_records,
)
from paccto_data.publication.package import build_package, vintage_date
from paccto_data.publication.release import recover, release_folder
from paccto_data.publication.spec import (
    STANDARD_COUNTRIES_PATH,
    load_spec,
    package_specs,
    with_standard_countries,
)
from paccto_data.publication.tables import column_text, format_cell
from paccto_data.publication.validation import validate_package
from paccto_data.settings import ASSETS_DIR, PROJECT_ROOT
from paccto_data.site import catalogue as catalog
from tests.support import build, failed_steps

SPECS = package_specs()
HOMICIDE = SPECS["lac-homicide"]


def files_of(folder):
    """Every file under `folder`, by relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def descriptor_of(folder):
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(warehouse_build):
    """The settings of the session's full offline build (every asset, check and release)."""
    return warehouse_build.settings


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
    catalog.publish(warehouse, [HOMICIDE], publish_dir)
    return publish_dir, files_of(publish_dir)


# --- specs ----------------------------------------------------------------------------------


def test_every_package_spec_matches_its_schema_and_reads_only_core_or_marts():
    assert set(SPECS) == {p.stem for p in (ASSETS_DIR / "packages").glob("*.yaml")}
    for spec in SPECS.values():
        assert spec.tables and all(t.split(".")[0] in ("core", "marts") for t in spec.tables)
    assert HOMICIDE.tables == ["core.dim_country", "core.fact_indicator"]


def test_a_spec_that_breaks_the_schema_is_refused_with_the_path_and_property(tmp_path):
    record = with_standard_countries(yaml.safe_load(HOMICIDE.path.read_text(encoding="utf-8")))
    record["version"] = "1.0"
    del record["title_es"]
    path = tmp_path / "lac-homicide.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PublicationError) as error:
        load_spec(path)
    assert str(path) in str(error.value)
    assert "version" in str(error.value) and "title_es" in str(error.value)


def test_a_spec_reading_staging_or_leaving_a_column_unsourced_is_refused(tmp_path):
    record = with_standard_countries(yaml.safe_load(HOMICIDE.path.read_text(encoding="utf-8")))
    countries = record["resources"][0]
    countries["query"] = countries["query"].replace("core.dim_country", "staging.un_m49")
    del countries["fields"][1]["sources"]
    path = tmp_path / "lac-homicide.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PublicationError) as error:
        load_spec(path)
    assert "staging.un_m49" in str(error.value)
    assert "['m49'] must name their `sources`" in str(error.value)


def test_the_homicide_unit_is_the_indicator_catalogue_unit():
    catalogue = yaml.safe_load((ASSETS_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    unit = next(i["unit"] for i in catalogue["indicators"] if i["id"] == "homicide_rate")
    value = next(f for f in HOMICIDE.resource("homicide_rate").fields if f.name == "value")
    assert value.unit == unit


# --- the licence gate -----------------------------------------------------------------------


def _source(source_id, redistribution, licence="CC-BY-4.0"):
    return SourceRecord(source_id, source_id, "publisher", "https://example.org",
                                licence, licence, "https://example.org/licence",
                                redistribution, "citation", "2024")


def test_the_licence_gate_names_package_resource_column_source_and_licence():
    import pyarrow as pa

    resource = HOMICIDE.resource("homicide_rate")
    frame = pa.table({"iso3": ["JAM", "JAM"], "year": [2022, 2022], "value": [1.0, 2.0],
                      "unit": ["x", "x"], "source_id": ["unodc_homicide", "ti_cpi"],
                      "flag": [None, None]})
    derivation = {"homicide_rate": column_sources(HOMICIDE.name, resource, frame)}
    sources = {"unodc_homicide": _source("unodc_homicide", "open"),
               "ti_cpi": _source("ti_cpi", "unmodified-only", "CC-BY-ND-4.0")}
    with pytest.raises(LicenceError) as error:
        check_licences(HOMICIDE.name, derivation, sources)
    lines = str(error.value).splitlines()[1:]
    assert len(lines) == len(resource.fields)  # every column carries the CPI rows
    assert lines[2].strip() == (
        "package lac-homicide, resource homicide_rate, column value: derives from source "
        "ti_cpi under licence CC-BY-ND-4.0 (redistribution 'unmodified-only'); only 'open' "
        "sources may be published")
    del sources["ti_cpi"]
    assert "source 'ti_cpi' is not in core.dim_source" in "\n".join(
        licence_problems(HOMICIDE.name, derivation, sources))


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
    with pytest.raises(LicenceError) as error:
        build_package(conn, HOMICIDE, folder)
    assert ("package lac-homicide, resource homicide_rate, column value: derives from source "
            "unodc_homicide under licence CC-BY-ND-4.0 (redistribution 'unmodified-only')"
            in str(error.value))
    assert not folder.exists()
    publish_dir, before = released
    with pytest.raises(LicenceError):
        catalog.publish(conn, [HOMICIDE], publish_dir)
    assert files_of(publish_dir) == before
    assert not list(publish_dir.parent.glob(f"{publish_dir.name}.*.tmp"))


@pytest.mark.e2e
def test_a_declared_column_source_that_is_not_open_is_refused(scratch_warehouse, tmp_path):
    conn = scratch_warehouse
    conn.execute("UPDATE core.dim_source SET redistribution = 'internal' "
                 "WHERE source_id = 'wb_population'")
    with pytest.raises(LicenceError) as error:
        build_package(conn, HOMICIDE, tmp_path / "lac-homicide")
    assert str(error.value).splitlines()[1:] == [
        "  package lac-homicide, resource countries, column income_group: derives from source "
        "wb_population under licence CC-BY-4.0 (redistribution 'internal'); only 'open' "
        "sources may be published"]


# --- the package ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_released_package_validates_with_frictionless_and_our_checks(built):
    folder = built.publish_dir / "lac-homicide"
    assert validate_package(folder) == []
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
        vintage_date(vintages[s]) for s in used) + "T00:00:00Z"
    assert [s["title"] for s in descriptor["sources"]] == [
        source_records(warehouse)[s].title for s in used]
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
    assert lines[0] == "iso3,year,value,unit,source_id,flag,source_file,source_locator"
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
    for source in source_records(warehouse).values():
        if source.id in ("un_m49", "unodc_homicide", "wb_population"):
            assert source.citation in readme and source.licence_url in readme
    assert "version 1.0.0" in readme and HOMICIDE.title_es in readme
    assert "data/homicide_rate.parquet" in readme
    # from a value to its cell: the rule, an example from the data, the file and its sha256
    assert "## From a value to its source cell" in readme
    first_row = warehouse.execute("""
        SELECT iso3, year, source_file, source_locator FROM core.fact_indicator
        WHERE indicator_id = 'homicide_rate' AND source_id = 'unodc_homicide'
        ORDER BY iso3, year LIMIT 1""").fetchall()[0]
    assert (f"the row of `data/homicide_rate.csv` with iso3 = {first_row[0]}, year = "
            f"{first_row[1]} says `{first_row[2]}`, `{first_row[3]}`") in readme
    homicide = source_records(warehouse)["unodc_homicide"]
    (name, url, sha256), = homicide.files
    assert f"| `{name}` | unodc_homicide | <{url}> | `{sha256}` |" in readme


@pytest.mark.e2e
def test_a_rebuild_from_unchanged_inputs_is_byte_identical(built, warehouse, tmp_path):
    first = tmp_path / "first" / "lac-homicide"
    second = tmp_path / "second" / "lac-homicide"
    build_package(warehouse, HOMICIDE, first)
    build_package(warehouse, HOMICIDE, second)
    files = files_of(first)
    assert set(files) == {"README.md", "datapackage.json", "CITATION.cff", "CHANGELOG.md",
                          "data/countries.csv", "data/countries.parquet",
                          "data/homicide_rate.csv", "data/homicide_rate.parquet"}
    assert files == files_of(second)
    # ... and to what the Dagster assets built and released from the same build database
    assert files == files_of(built.publish_dir / "lac-homicide")


# --- release --------------------------------------------------------------------------------


def dead_pid() -> int:
    """The pid of a process that has ended (the owner of a kill's leftovers)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def aside(publish_dir: Path, pid: int, kind: str) -> Path:
    return publish_dir.with_name(f"{publish_dir.name}.{pid}.{kind}")


@pytest.mark.e2e
def test_recovery_never_touches_a_live_owners_temporary_folders(tmp_path):
    publish_dir = tmp_path / "published"
    publish_dir.mkdir()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = aside(publish_dir, live.pid, "tmp")
        theirs.mkdir()
        dead = aside(publish_dir, dead_pid(), "tmp")
        dead.mkdir()
        done = recover(publish_dir)
        assert theirs.is_dir() and not dead.exists()
        assert done == [f"deleted the unfinished build {dead.name}"]
    finally:
        live.kill()
        live.wait()


@pytest.mark.e2e
def test_a_kill_between_the_two_renames_is_recovered_at_the_next_start(warehouse, released):
    publish_dir, before = released
    newer = dataclasses.replace(HOMICIDE, version="1.0.1")
    pid = dead_pid()
    tmp, old = aside(publish_dir, pid, "tmp"), aside(publish_dir, pid, "old")
    build_package(warehouse, newer, tmp / newer.name)
    os.rename(publish_dir, old)  # the first rename of the swap, then the process dies
    assert not publish_dir.exists()

    done = recover(publish_dir)
    assert files_of(publish_dir) == before
    assert not old.exists() and not tmp.exists()
    assert len(done) == 2 and "restored" in done[0]
    # the next release goes through
    catalog.publish(warehouse, [newer], publish_dir)
    assert descriptor_of(publish_dir / "lac-homicide")["version"] == "1.0.1"


@pytest.mark.e2e
def test_a_swap_killed_before_deleting_the_old_release_keeps_the_new_one(warehouse, released):
    publish_dir, before = released
    old = aside(publish_dir, dead_pid(), "old")
    shutil.copytree(publish_dir, old)
    (publish_dir / "lac-homicide" / "README.md").write_text("new release", encoding="utf-8")
    recover(publish_dir)
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
    with pytest.raises(PackageInvalidError) as error:
        catalog.publish(warehouse, [broken], publish_dir)
    assert "lac-homicide/homicide_rate, row " in str(error.value)
    assert 'constraint-error: constraint "maximum" is "1"' in str(error.value)
    assert files_of(publish_dir) == before
    assert not list(publish_dir.parent.glob(f"{publish_dir.name}.*.tmp"))


@pytest.mark.e2e
def test_a_file_changed_after_writing_is_caught_by_the_sha256_check(warehouse, released):
    publish_dir, before = released

    def build_then_tamper(tmp):
        build_package(warehouse, HOMICIDE, tmp / HOMICIDE.name)
        parquet = tmp / HOMICIDE.name / "data" / "countries.parquet"
        parquet.write_bytes(parquet.read_bytes() + b"\0")

    with pytest.raises(PackageInvalidError) as error:
        release_folder(publish_dir, build_then_tamper)
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
def test_an_invalid_package_fails_its_blocking_check_and_is_not_released(warehouse_build_copy):
    """The package asset writes the package and hands it to the validation worker; its
    blocking `package_valid` check reports the Table Schema violation with its row, and the
    release does not run."""
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    before = files_of(settings.publish_dir)
    with duckdb.connect(str(settings.build_db)) as conn:  # the schema says: minimum 0
        conn.execute("UPDATE core.fact_indicator SET value = -3 WHERE indicator_id = "
                     "'homicide_rate' AND source_id = 'unodc_homicide' AND iso3 = 'JAM' "
                     "AND year = 2021")
    package = dg.AssetKey(["publication", "lac_homicide"])
    result = build(settings, instance, dg.AssetSelection.assets(
        package, dg.AssetKey("publication_release")))
    assert not result.success
    key = dg.AssetCheckKey(package, "package_valid")
    evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [key])[key].evaluation
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "lac-homicide/homicide_rate, row " in evaluation.description
    assert 'constraint "minimum" is "0"' in evaluation.description
    assert "publication_release" not in {e.step_key for e in result.all_events
                                         if e.event_type_value == "STEP_SUCCESS"}
    assert files_of(settings.publish_dir) == before


@pytest.mark.e2e
def test_the_release_refuses_while_a_blocking_check_has_not_passed(warehouse_build_copy):
    """A fresh instance has no check results: the gate must refuse, and leave the release."""
    settings = warehouse_build_copy.settings
    before = files_of(settings.publish_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        result = build(settings, instance, "publication_release")
    failures = failed_steps(result)
    assert list(failures) == ["publication_release"]
    assert "packages not released" in failures["publication_release"]
    assert files_of(settings.publish_dir) == before


# --- spec rules -----------------------------------------------------------------------------


def _write_spec(tmp_path, record):
    path = tmp_path / f"{record['name']}.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def test_every_package_has_a_countries_table_that_its_country_codes_reference():
    for spec in SPECS.values():
        assert spec.resources[0].name == "countries", spec.name
        for r in spec.resources[1:]:
            targets = {fk["fields"][0]: fk["reference"] for fk in r.foreign_keys}
            for name in r.field_names:
                if name == "iso3" or name.endswith("_iso3"):
                    assert targets[name] == {"resource": "countries", "fields": ["iso3"]}


def test_every_package_and_table_has_english_and_spanish_titles_and_descriptions():
    for spec in SPECS.values():
        assert spec.title_es != spec.title and spec.description_es != spec.description
        for r in spec.resources:
            assert r.title_es and r.title_es != r.title, (spec.name, r.name)
            assert r.description_es and r.description_es != r.description, (spec.name, r.name)
        roles = {role for c in spec.contributors for role in c["roles"]}
        assert {"creator", "publisher"} <= roles


def test_an_unreferenced_country_code_is_refused(tmp_path):
    record = with_standard_countries(yaml.safe_load(HOMICIDE.path.read_text(encoding="utf-8")))
    del record["resources"][1]["foreign_keys"]
    with pytest.raises(PublicationError) as error:
        load_spec(_write_spec(tmp_path, record))
    assert "resource homicide_rate: the country code 'iso3' needs a foreign key to " \
           "countries.iso3" in str(error.value)


def test_a_spec_gets_the_standard_countries_resource_unless_it_declares_its_own(tmp_path):
    standard = yaml.safe_load(STANDARD_COUNTRIES_PATH.read_text(encoding="utf-8"))
    record = yaml.safe_load(HOMICIDE.path.read_text(encoding="utf-8"))
    assert "countries" not in [r["name"] for r in record["resources"]]
    assert [r.name for r in HOMICIDE.resources] == ["countries", "homicide_rate"]
    assert HOMICIDE.resource("countries").query == standard["query"].strip()
    # paccto-activities declares its own: every country an activity names, not only LAC
    activities = SPECS["paccto-activities"].resource("countries")
    assert activities.query != standard["query"].strip() and "bridge_activity_country" in \
        activities.query
    # a spec that names a resource `countries` without the standard's columns is its own
    record["resources"].insert(0, {**standard, "query": standard["query"].replace(
        "WHERE is_lac", "WHERE is_programme_partner")})
    own = load_spec(_write_spec(tmp_path, record))
    assert "is_programme_partner\n" not in own.resource("countries").query
    assert own.resource("countries").query.endswith("WHERE is_programme_partner")


def test_the_csv_text_of_a_column_is_the_same_as_format_cell_gives():
    import pyarrow as pa

    values = [0.1, 1.0, 100.0, -0.0, 1e-05, 1e16, 123456789.123, 2.5e-7, 47.090176, None]
    array = pa.array(values, pa.float64())
    assert column_text(array, "number") == [format_cell(v, "number")
                                                    for v in values]
    assert column_text(array, "number")[4:6] == ["0.00001", "10000000000000000"]
    assert column_text(pa.array([True, None, False]), "boolean") == ["true", "", "false"]
    with pytest.raises(PublicationError, match="non-finite"):
        column_text(pa.array([1.0, float("nan")]), "number")


# --- every package of the release -----------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_released_package_validates_and_names_its_version_everywhere(built, name):
    folder = built.publish_dir / name
    assert validate_package(folder) == []
    descriptor = descriptor_of(folder)
    assert descriptor["version"] == SPECS[name].version  # a first release takes the base
    citation = yaml.safe_load((folder / "CITATION.cff").read_text(encoding="utf-8"))
    tag = f"{name}-v{descriptor['version']}"
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "dataset"
    assert citation["version"] == descriptor["version"] and citation["title"] == \
        descriptor["title"]
    assert citation["url"] == f"https://github.com/el-paccto/paccto-data/tree/{tag}/published/" \
        f"{name}"
    assert {r["title"] for r in citation["references"]} == {
        s["title"] for s in descriptor["sources"]}
    changelog = (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## {descriptor['version']}\n\n- First published version: " in changelog
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"git tag `{tag}`" in readme and "## Versions" in readme
    for r in descriptor["resources"]:
        assert r["title_es"] and r["description_es"] and r["licenses"] and r["sources"]
        for f in r["schema"]["fields"]:
            assert f["description"] and f["type"]
            if f["name"] == "iso3" or f["name"].endswith("_iso3"):
                if r["name"].removesuffix("_parquet") != "countries":
                    assert any(fk["fields"] == [f["name"]] and
                               fk["reference"]["resource"].startswith("countries")
                               for fk in r["schema"]["foreignKeys"])


@pytest.mark.e2e
def test_no_published_table_holds_cpi_or_any_source_that_is_not_open(built, warehouse):
    open_sources = {s.title for s in source_records(warehouse).values()
                    if s.redistribution == "open"}
    for name in SPECS:
        descriptor = descriptor_of(built.publish_dir / name)
        for r in descriptor["resources"]:
            assert {s["title"] for s in r["sources"]} <= open_sources, (name, r["name"])
            assert not [f["name"] for f in r["schema"]["fields"] if "cpi" in f["name"]]


@pytest.mark.e2e
def test_drug_seizures_keep_precursors_apart_and_mark_the_totals(built, warehouse):
    data = built.publish_dir / "lac-drug-seizures" / "data"
    drugs = pq.read_table(data / "seizures.parquet").to_pylist()
    precursors = pq.read_table(data / "precursor_seizures.parquet").to_pylist()
    assert {r["drug_group"] for r in precursors} == {"Precursors"}
    assert "Precursors" not in {r["drug_group"] for r in drugs}
    counts = dict(warehouse.execute("""
        SELECT is_precursor, count(*) FROM core.fact_drug_seizure
        WHERE iso3 IN (SELECT iso3 FROM core.dim_country WHERE is_lac) GROUP BY ALL""").fetchall())
    assert (len(drugs), len(precursors)) == (counts[False], counts[True])
    # UNODC WDR 2024 annex table 7.1: Argentina 2022, "Cocaine (total of the above, …)"
    total = next(r for r in drugs if (r["iso3"], r["year"], r["drug_subgroup"], r["is_total"])
                 == ("ARG", 2022, "Cocaine", True))
    assert total["kilograms"] == 13674.96565 and total["drug_label"] == "Cocaine (total)"
    assert all("total" in r["drug_label"].lower() for r in drugs if r["is_total"])


@pytest.mark.e2e
def test_trafficking_keeps_suppressed_counts_empty_and_each_source_in_its_table(built):
    data = built.publish_dir / "lac-trafficking" / "data"
    persons = pq.read_table(data / "trafficking_in_persons.parquet")
    firearms = pq.read_table(data / "firearms_trafficking.parquet")
    assert set(persons.column("source_id").to_pylist()) == {"unodc_glotip"}
    assert set(firearms.column("source_id").to_pylist()) == {"unodc_iafq"}
    censored = [r for r in persons.to_pylist() if r["flag"] == "<5"]
    assert censored and all(r["value"] is None for r in censored)
    indicators = pq.read_table(data / "indicators.parquet").column("indicator_id").to_pylist()
    assert set(persons.column("indicator_id").to_pylist()) | set(
        firearms.column("indicator_id").to_pylist()) == set(indicators)


@pytest.mark.e2e
def test_the_country_panel_publishes_the_open_columns_with_their_sources(built, warehouse):
    folder = built.publish_dir / "lac-country-profiles"
    panel = pq.read_table(folder / "data" / "country_year.parquet")
    expected = warehouse.execute("SELECT count(*) FROM marts.country_year").fetchall()[0][0]
    assert panel.num_rows == expected == 52 * len(set(panel.column("year").to_pylist()))
    assert "cpi_score" not in panel.column_names
    sources = {r["name"]: {s["title"] for s in r["sources"]}
               for r in descriptor_of(folder)["resources"]}
    records = source_records(warehouse)
    assert sources["country_year"] == {records[s].title for s in (
        "un_m49", "unodc_homicide", "wb_wgi", "wb_population", "paccto_activities")}


# --- the licence gate on the country panel --------------------------------------------------

CPI_FIELDS = [
    {"name": "cpi_score", "description": "Corruption Perceptions Index score.",
     "unit": "score (0 highly corrupt to 100 very clean)", "source_column": "cpi_score_source_id"},
    {"name": "cpi_score_source_id", "description": "Source of cpi_score.",
     "source_column": "cpi_score_source_id"},
]


@pytest.mark.e2e
def test_a_spec_that_publishes_the_cpi_column_is_refused_naming_column_source_licence(
        warehouse, tmp_path):
    """marts.country_year holds CPI for analysts: a spec that selects it must not publish."""
    record = with_standard_countries(
        yaml.safe_load(SPECS["lac-country-profiles"].path.read_text(encoding="utf-8")))
    panel = record["resources"][1]
    panel["query"] = panel["query"].replace(
        "population, population_source_id,",
        "population, population_source_id, cpi_score, cpi_score_source_id,")
    at = [f["name"] for f in panel["fields"]].index("population_source_id") + 1
    panel["fields"][at:at] = CPI_FIELDS
    spec = load_spec(_write_spec(tmp_path, record))
    folder = tmp_path / "out" / "lac-country-profiles"
    with pytest.raises(LicenceError) as error:
        build_package(warehouse, spec, folder)
    assert [line.strip() for line in str(error.value).splitlines()[1:]] == [
        f"package lac-country-profiles, resource country_year, column {column}: derives from "
        "source ti_cpi under licence CC-BY-ND-4.0 (redistribution 'unmodified-only'); only "
        "'open' sources may be published" for column in ("cpi_score", "cpi_score_source_id")]
    assert not folder.exists()


# --- versions -------------------------------------------------------------------------------

HOMICIDE_ROW = """INSERT INTO core.fact_indicator (iso3, year, indicator_id, source_id, value,
    unit, flag, sex, age, category, dimension, source_file, source_locator) VALUES ('JAM', 2030,
    'homicide_rate', 'unodc_homicide', 40.5, 'victims per 100,000 population', NULL, 'total',
    'total', 'total', 'total', 'homicide-rate-unodc.csv', 'line 9999')"""
HOMICIDE_WHERE = ("indicator_id = 'homicide_rate' AND source_id = 'unodc_homicide' "
                  "AND iso3 = '{}' AND year = {}")


@pytest.fixture
def previous_homicide(built, tmp_path):
    """A copy of the released lac-homicide (1.0.0): the `previous` of the next build."""
    copy = tmp_path / "previous" / "lac-homicide"
    shutil.copytree(built.publish_dir / "lac-homicide", copy)
    return copy


def _entry(folder, version):
    changelog = (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    first = changelog.split("\n## ")[1]
    assert first.startswith(f"{version}\n"), first
    return first


@pytest.mark.e2e
def test_a_data_change_bumps_the_version_and_the_changelog_says_what_changed(
        scratch_warehouse, previous_homicide, tmp_path):
    conn = scratch_warehouse
    conn.execute("UPDATE core.fact_indicator SET value = value + 1 WHERE "
                 + HOMICIDE_WHERE.format("JAM", 2020))
    conn.execute("DELETE FROM core.fact_indicator WHERE " + HOMICIDE_WHERE.format("BRA", 1990))
    conn.execute(HOMICIDE_ROW)
    new = tmp_path / "new" / "lac-homicide"
    report = build_package(conn, HOMICIDE, new, previous=previous_homicide)
    assert (report.previous_version, report.version) == ("1.0.0", "1.1.0")
    entry = _entry(new, "1.1.0")
    assert "- homicide_rate: 1 row added (JAM 2030); 1 row removed (BRA 1990); values revised " \
           "in 1 row [value 1] (JAM 2020); 1,121 rows now.\n" in entry
    assert "- countries: unchanged (52 rows).\n" in entry
    assert "Compared with version 1.0.0 on each table's primary key." in entry
    changelog = (new / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 1.1.0") < changelog.index("## 1.0.0")  # history kept
    descriptor = descriptor_of(new)
    assert descriptor["version"] == "1.1.0"
    assert descriptor["id"] != descriptor_of(previous_homicide)["id"]
    assert "Version 1.1.0," in (new / "README.md").read_text(encoding="utf-8")
    assert yaml.safe_load((new / "CITATION.cff").read_text(encoding="utf-8"))["version"] == \
        "1.1.0"
    assert validate_package(new) == []

    # nothing changed since: the next build keeps 1.1.0 and every byte
    again = tmp_path / "again" / "lac-homicide"
    report = build_package(conn, HOMICIDE, again, previous=new)
    assert report.version == "1.1.0" and report.changes == ()
    assert files_of(again) == files_of(new)


@pytest.mark.e2e
def test_revised_values_alone_bump_the_patch_version(scratch_warehouse, previous_homicide,
                                                     tmp_path):
    scratch_warehouse.execute("UPDATE core.fact_indicator SET value = 47.1 WHERE "
                              + HOMICIDE_WHERE.format("JAM", 2020))
    new = tmp_path / "new" / "lac-homicide"
    assert build_package(scratch_warehouse, HOMICIDE, new,
                                 previous=previous_homicide).version == "1.0.1"
    assert "- homicide_rate: values revised in 1 row [value 1] (JAM 2020); 1,121 rows now." \
        in _entry(new, "1.0.1")


@pytest.mark.e2e
def test_a_removed_field_bumps_the_major_version(warehouse, previous_homicide, tmp_path):
    homicide = HOMICIDE.resource("homicide_rate")
    without_flag = dataclasses.replace(
        homicide, query=homicide.query.replace(", f.flag", ""),
        fields=tuple(f for f in homicide.fields if f.name != "flag"))
    spec = dataclasses.replace(HOMICIDE, resources=(HOMICIDE.resource("countries"),
                                                    without_flag))
    new = tmp_path / "new" / "lac-homicide"
    assert build_package(warehouse, spec, new,
                                 previous=previous_homicide).version == "2.0.0"
    assert "- homicide_rate: field flag removed; 1,121 rows now." in _entry(new, "2.0.0")


@pytest.mark.e2e
def test_a_higher_spec_version_wins_and_unchanged_data_keeps_every_byte(
        warehouse, previous_homicide, tmp_path):
    same = tmp_path / "same" / "lac-homicide"
    report = build_package(warehouse, HOMICIDE, same, previous=previous_homicide)
    assert report.version == "1.0.0" and report.changes == ()
    assert files_of(same) == files_of(previous_homicide)

    raised = tmp_path / "raised" / "lac-homicide"
    build_package(warehouse, dataclasses.replace(HOMICIDE, version="1.3.0"), raised,
                          previous=previous_homicide)
    assert "- The package spec sets version 1.3.0; the data did not change." in \
        _entry(raised, "1.3.0")


# --- the whole release and its catalogue ----------------------------------------------------


@pytest.fixture(scope="module")
def releases(built, tmp_path_factory):
    """Two releases of every package from the same build database, and a third over the
    first (versioned against itself)."""
    root = tmp_path_factory.mktemp("releases")
    with duckdb.connect(str(built.build_db), read_only=True) as conn:
        first = catalog.publish(conn, SPECS.values(), root / "one")
        before = files_of(root / "one")
        catalog.publish(conn, SPECS.values(), root / "two")
        again = catalog.publish(conn, SPECS.values(), root / "one")
    return root, before, first, again


@pytest.mark.e2e
def test_a_release_rebuilt_from_unchanged_inputs_is_byte_identical(built, releases):
    root, before, first, again = releases
    assert files_of(root / "one") == before == files_of(root / "two")
    assert [r.version for r in again] == [r.version for r in first]
    assert all(r.changes == () for r in again)
    # the Dagster assets released the same packages from the same build database
    for name in SPECS:
        assert files_of(root / "one" / name) == files_of(built.publish_dir / name), name


@pytest.mark.e2e
def test_the_release_holds_every_package_the_quality_report_and_the_catalogue(built):
    top = {p.name for p in built.publish_dir.iterdir()}
    assert top == set(SPECS) | {"quality", "charts", "countries", "catalog.json",
                                "catalog.jsonld", "index.html", "index.es.html"}
    assert (built.publish_dir / "quality" / "index.html").is_file()
    assert catalog.check_catalogue(built.publish_dir) == []


@pytest.mark.e2e
def test_catalog_json_gives_every_package_version_licence_size_and_coverage(built, warehouse):
    record = json.loads((built.publish_dir / "catalog.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in record["packages"]] == sorted(SPECS)
    for entry in record["packages"]:
        folder = built.publish_dir / entry["name"]
        descriptor = descriptor_of(folder)
        assert entry["version"] == descriptor["version"] and entry["tag"] == \
            f"{entry['name']}-v{descriptor['version']}"
        assert entry["licenses"] == descriptor["licenses"]
        assert entry["bytes"] == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        assert {f["path"] for f in entry["files"]} == {
            p.relative_to(built.publish_dir).as_posix() for p in folder.rglob("*") if p.is_file()}
        for f in entry["files"]:
            assert f["sha256"] == fileio.sha256_of(built.publish_dir / f["path"])
    homicide = next(p for p in record["packages"] if p["name"] == "lac-homicide")
    countries, first, last, rows = warehouse.execute("""
        SELECT count(DISTINCT iso3), min(year), max(year), count(*) FROM core.fact_indicator
        WHERE indicator_id = 'homicide_rate' AND source_id = 'unodc_homicide'""").fetchall()[0]
    assert homicide["coverage"]["countries"] == countries
    assert (homicide["coverage"]["first_year"], homicide["coverage"]["last_year"]) == (first,
                                                                                      last)
    assert homicide["coverage"]["rows"] == rows + 52  # both tables (once, not per format)
    assert [c["id"] for c in record["charts"]] == [
        "homicide_by_subregion", "cocaine_seizures_by_country",
        "control_of_corruption_partners", "activities_by_country_year"]
    assert [r["path"] for r in record["reports"]] == ["quality/index.html"]
    cpi = next(s for s in record["not_published"] if s["source_id"] == "ti_cpi")
    assert cpi["licence_url"] == "https://creativecommons.org/licenses/by-nd/4.0/"
    assert cpi["files"][0] == \
        "https://images.transparencycdn.org/images/CPI2023_Global_Results__Trends.xlsx"


@pytest.mark.e2e
def test_catalog_jsonld_is_a_dcat_ap_catalogue_of_every_file(built):
    """Its structure; tests/test_dcat_shacl.py validates it against the DCAT-AP shapes."""
    document = json.loads((built.publish_dir / "catalog.jsonld").read_text(encoding="utf-8"))
    assert document["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert document["@context"]["spdx"] == "http://spdx.org/rdf/terms#"
    record, *nodes = document["@graph"]
    nodes = {n["@id"]: n for n in nodes}
    assert record["@type"] == "dcat:Catalog"
    assert {t["@language"] for t in record["dct:title"]} == {"en", "es"}
    datasets = record["dcat:dataset"]
    assert len(datasets) == len(SPECS)
    for dataset in datasets:
        name = dataset["@id"].rsplit("#", 1)[1]
        folder = built.publish_dir / name
        descriptor = descriptor_of(folder)
        assert dataset["@type"] == "dcat:Dataset"
        assert dataset["dcat:version"] == descriptor["version"]
        assert {t["@language"]: t["@value"] for t in dataset["dct:title"]} == {
            "en": descriptor["title"], "es": descriptor["title_es"]}
        assert {t["@language"] for t in dataset["dct:description"]} == {"en", "es"}
        temporal = dataset["dct:temporal"]
        assert temporal["@type"] == "dct:PeriodOfTime"
        assert temporal["dcat:startDate"]["@type"] == "xsd:date"
        assert dataset["dct:spatial"] and all(
            s["@id"].startswith("http://publications.europa.eu/resource/authority/country/")
            and "dct:Location" in nodes[s["@id"]]["@type"] for s in dataset["dct:spatial"])
        files = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
        distributions = dataset["dcat:distribution"]
        assert len(distributions) == len(files)
        for d in distributions:
            assert d["@type"] == "dcat:Distribution"
            relative = d["dcat:downloadURL"]["@id"].split(f"/published/{name}/", 1)[1]
            path = files[relative]
            assert d["dcat:byteSize"] == {"@value": str(path.stat().st_size),
                                          "@type": "xsd:nonNegativeInteger"}
            assert d["spdx:checksum"]["spdx:checksumValue"]["@value"] == \
                fileio.sha256_of(path)
            assert d["spdx:checksum"]["spdx:algorithm"]["@id"] == \
                "https://spdx.org/rdf/terms#checksumAlgorithm_sha256"
            assert d["dcat:mediaType"]["@id"].startswith(
                "https://www.iana.org/assignments/media-types/")
            assert d["dct:license"]["@id"].startswith(("https://", "http://publications."))
            assert {t["@language"] for t in d["dct:title"]} == {"en", "es"}


@pytest.mark.e2e
def test_the_pages_are_offline_english_and_spanish_and_link_every_file(built):
    for page, lang in (("index.html", "en"), ("index.es.html", "es")):
        html = (built.publish_dir / page).read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in html and "<script" not in html
        assert not re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", html)
        links = catalog.page_links(built.publish_dir / page)
        hrefs = {value for _, attribute, value in links.links if attribute == "href"}
        for name in SPECS:
            title = descriptor_of(built.publish_dir / name)["title_es" if lang == "es"
                                                            else "title"]
            assert escape(title) in html
            for path in (built.publish_dir / name).rglob("*"):
                if path.is_file():
                    assert path.relative_to(built.publish_dir).as_posix() in hrefs
        srcs = [value for tag, attribute, value in links.links if attribute == "src"]
        assert srcs == [f"charts/{c}{'.es' if lang == 'es' else ''}.svg" for c in (
            "homicide_by_subregion", "cocaine_seizures_by_country",
            "control_of_corruption_partners", "activities_by_country_year")]


class _Reference(HTMLParser):
    """What html.parser reads of a page's links and ids: the reference for page_links."""

    def __init__(self) -> None:
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append((tag, name, value))


def _reference(text: str) -> tuple[list, set]:
    parser = _Reference()
    parser.feed(text)
    parser.close()
    return parser.links, parser.ids


PAGES = sorted(p.relative_to(PROJECT_ROOT / "published").as_posix()
               for p in (PROJECT_ROOT / "published").rglob("*.html"))


@pytest.mark.parametrize("page", PAGES)
def test_page_links_reads_every_published_page_as_html_parser_does(page):
    path = PROJECT_ROOT / "published" / page
    links = catalog.page_links(path)
    assert (links.links, links.ids) == _reference(path.read_text(encoding="utf-8"))
    assert links.links  # every page links somewhere


TRICKY = """<!DOCTYPE html><html><head><title>a <a href="no.html"> title</title>
<style>a[href="style.css"] { color: red }</style><script>var a = '<a href="x.html">';</script>
<!-- <a href="commented.html"> -->
</head><body id=top><a HREF='one.html?a=1&amp;b=2#x' id="a&quot;b">one</a>
<img src=charts/c.svg alt="a > b"><a href="">empty</a><a href>bare</a><a id="">no id</a>
<svg><a xlink:href="#top"/><a href = "spaced.html" /></svg><p title='it"s' id='q'>
<a data-href="not.html" href="two.html#s">two</a></body></html>"""


def test_page_links_reads_quoting_comments_scripts_and_references_as_html_parser_does(
        tmp_path):
    path = tmp_path / "tricky.html"
    path.write_text(TRICKY, encoding="utf-8")
    links = catalog.page_links(path)
    assert (links.links, links.ids) == _reference(TRICKY)
    assert ("a", "href", "one.html?a=1&b=2#x") in links.links
    assert not any("commented" in v or "x.html" in v or "style.css" in v
                   for _, _, v in links.links)
