"""The declarative catalogue: every source record matches its schema and its snapshots."""

import dataclasses
import importlib
import pkgutil

import pytest
import yaml

import paccto_data.sources as source_modules
from paccto_data.acquire import fetch, records
from paccto_data.errors import CatalogueError, SourceFileError
from paccto_data.fileio import sha256_of
from paccto_data.settings import SOURCES_DIR

SOURCES = sorted(records.sources())


def test_the_catalogue_holds_the_foundation_sources():
    assert {"un_m49", "wb_population"} <= set(SOURCES)


@pytest.mark.parametrize("source_id", SOURCES)
def test_every_snapshot_is_bundled_byte_for_byte(source_id):
    source = records.source(source_id)
    for spec in source.files:
        path = source.snapshot_dir / spec.name
        assert path.stat().st_size == spec.bytes, f"{path}: size differs from the YAML"
        assert sha256_of(path) == spec.sha256, f"{path}: sha256 differs from the YAML"


@pytest.mark.parametrize("source_id", SOURCES)
def test_every_source_has_a_module_that_declares_it(source_id):
    declared = {
        importlib.import_module(f"paccto_data.sources.{m.name}").SOURCE_ID
        for m in pkgutil.iter_modules(source_modules.__path__) if not m.name.startswith("_")
    }
    assert source_id in declared


def test_every_source_module_names_a_catalogue_source():
    for table in source_modules.staging_tables().values():
        assert table.source_id in SOURCES, f"{table.name}: unknown source {table.source_id}"


def _write(tmp_path, record, name="broken_source"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(record))
    return path


def _record(source_id="un_m49"):
    return yaml.safe_load((SOURCES_DIR / f"{source_id}.yaml").read_text())


REFUSED = {  # what breaks the schema -> what the error must name
    "a_record_without_a_licence": (lambda r: r.pop("licence"),
                                   r"(?s)broken_source\.yaml.*'licence' is a required"),
    "an_unknown_redistribution": (lambda r: r.update(redistribution="sort-of-open"),
                                  r"redistribution: 'sort-of-open' is not one of"),
    "a_malformed_sha256": (lambda r: r["files"][1].update(sha256="abc"), r"files/1/sha256"),
}


@pytest.mark.parametrize("edit, message", REFUSED.values(), ids=REFUSED)
def test_a_record_that_breaks_the_schema_is_refused_naming_the_field(tmp_path, edit, message):
    record = _record() | {"id": "broken_source"}
    edit(record)
    with pytest.raises(CatalogueError, match=message):
        records.load_source(_write(tmp_path, record))


def test_the_id_must_match_the_file_name(tmp_path):
    with pytest.raises(CatalogueError, match="differs from the file name"):
        records.load_source(_write(tmp_path, _record(), name="other_name"))


def test_a_changed_snapshot_fails_naming_the_file():
    source = records.source("un_m49")
    # The catalogue records another digest for the same bundled file: the check must see it.
    wrong = dataclasses.replace(source.files[0], sha256="0" * 64)
    with pytest.raises(SourceFileError, match=r"UNSD-Methodology\.csv: sha256 c0ad564e.* differs"):
        fetch.verify_snapshot(source, wrong)


def test_a_missing_snapshot_fails_naming_the_file():
    source = records.source("un_m49")
    missing = dataclasses.replace(source.files[0], name="not-there.csv")
    with pytest.raises(SourceFileError, match=r"not-there\.csv: bundled snapshot .* missing"):
        fetch.verify_snapshot(source, missing)
