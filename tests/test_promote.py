"""The one promoter (paccto_data/acquire/promote.py): new raw files become a source's snapshot.

Always on a copy of the project's assets in tmp_path. wb_population has three files
(assets/sources/wb_population.yaml: data, country_metadata, indicator_metadata), so a
promotion that replaces two of them and then fails must put both back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import yaml

from paccto_data.acquire import promote, records
from paccto_data.acquire.source_yaml import RecordEditError
from paccto_data.settings import ASSETS_DIR

POP_DATA = "API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv"
POP_COUNTRIES = "Metadata_Country_API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state(root: Path) -> dict[str, str]:
    """Every file and folder under `root` (hidden ones too) with its sha256."""
    return {str(p.relative_to(root)): sha256(p.read_bytes()) if p.is_file() else "folder"
            for p in sorted(root.rglob("*"))}


def assets_copy(tmp_path: Path, source_id: str) -> Path:
    root = tmp_path / "assets"
    (root / "sources").mkdir(parents=True)
    shutil.copy2(ASSETS_DIR / "sources" / f"{source_id}.yaml", root / "sources")
    shutil.copytree(ASSETS_DIR / "snapshots" / source_id, root / "snapshots" / source_id)
    return root


def new_population_files(tmp_path: Path) -> dict[str, Path]:
    """New bytes for two of wb_population's three files (one line appended to each)."""
    files = {}
    for file_id, name in (("data", POP_DATA), ("country_metadata", POP_COUNTRIES)):
        files[file_id] = tmp_path / "new" / name
        files[file_id].parent.mkdir(exist_ok=True)
        data = (ASSETS_DIR / "snapshots" / "wb_population" / name).read_bytes()
        files[file_id].write_bytes(data + b'"new line"\n')
    return files


def test_promote_replaces_the_files_and_keeps_the_yaml_comments(tmp_path):
    root = assets_copy(tmp_path, "wb_population")
    path = root / "sources" / "wb_population.yaml"
    text = path.read_text()
    # comments a maintainer might write: a line of its own, and after a value
    text = text.replace("files:\n", "# files below are checked by sha256\nfiles:\n", 1)
    spec = records.source("wb_population").file("data")
    text = text.replace(f"    sha256: {spec.sha256}\n",
                        f"    sha256: {spec.sha256}  # the bulk CSV\n", 1)
    path.write_text(text)
    new = new_population_files(tmp_path)

    replaced = promote.promote("wb_population", new, retrieved="2027-01-02", vintage="2026-12",
                               assets_root=root)

    assert replaced == ["data", "country_metadata"]
    folder = root / "snapshots" / "wb_population"
    for file_id, source in new.items():
        assert (folder / source.name).read_bytes() == source.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted(  # no staging folder left
        spec.name for spec in records.source("wb_population").files)
    result = path.read_text()
    assert "# files below are checked by sha256\nfiles:\n" in result
    assert f"    sha256: {sha256(new['data'].read_bytes())}  # the bulk CSV\n" in result
    assert 'retrieved: "2027-01-02"' in result and 'vintage: "2026-12"' in result
    record = promote.load("wb_population", root)
    assert record.file("country_metadata").bytes == new["country_metadata"].stat().st_size
    assert record.file("indicator_metadata") == spec_of("wb_population", "indicator_metadata")
    # taken_from is kept unless the caller says otherwise
    assert record.file("data").taken_from == spec.taken_from


def spec_of(source_id: str, file_id: str):
    return records.source(source_id).file(file_id)


def test_a_failure_while_swapping_puts_the_old_files_and_yaml_back(tmp_path, monkeypatch):
    root = assets_copy(tmp_path, "wb_population")
    before = state(root)
    new = new_population_files(tmp_path)
    path = root / "sources" / "wb_population.yaml"
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == path:  # both files are in place by now: the YAML's rename fails
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        promote.promote("wb_population", new, retrieved="2027-01-02", vintage="2026",
                        assets_root=root)
    assert state(root) == before


def test_check_sees_the_staged_files_and_can_cancel(tmp_path):
    root = assets_copy(tmp_path, "wb_population")
    before = state(root)
    new = new_population_files(tmp_path)
    seen = {}

    def check(files):
        seen.update({k: Path(v).read_bytes() for k, v in files.items()})
        raise ValueError("the staged register is not valid")

    with pytest.raises(ValueError, match="not valid"):
        promote.promote("wb_population", new, retrieved="2027-01-02", vintage="2026",
                        check=check, assets_root=root)
    assert state(root) == before
    assert seen["data"] == new["data"].read_bytes()  # the staged copy
    assert seen["indicator_metadata"] == (root / "snapshots" / "wb_population" /
                                          spec_of("wb_population", "indicator_metadata").name
                                          ).read_bytes()


def test_taken_from_and_coverage_are_edited_when_asked(tmp_path):
    root = assets_copy(tmp_path, "wb_population")
    new = new_population_files(tmp_path)
    promote.promote("wb_population", new, retrieved="2027-01-02", vintage="2026",
                    taken_from={"data": "https://example.org/new.zip", "country_metadata": None},
                    coverage=(1960, 2026), assets_root=root)
    text = (root / "sources" / "wb_population.yaml").read_text()
    assert "coverage: {first_year: 1960, last_year: 2026}" in text
    record = promote.load("wb_population", root)
    assert record.file("data").taken_from == "https://example.org/new.zip"
    assert record.file("country_metadata").taken_from is None
    assert record.coverage == {"first_year": 1960, "last_year": 2026}


def test_nothing_to_change_writes_nothing(tmp_path):
    root = assets_copy(tmp_path, "wb_population")
    before = state(root)
    source = records.source("wb_population")
    same = {spec.id: root / "snapshots" / "wb_population" / spec.name for spec in source.files}
    assert promote.promote("wb_population", same, retrieved=source.retrieved,
                           vintage=source.vintage, assets_root=root) == []
    assert state(root) == before


@pytest.mark.parametrize("kwargs, error, message", [
    ({"vintage": "May 2026"}, promote.PromotionError, "not YYYY, YYYY-MM or YYYY-MM-DD"),
    ({"retrieved": "2027"}, promote.PromotionError, "retrieved '2027' is not YYYY-MM-DD"),
    ({"coverage": (1960, 2026), "yaml": ("coverage: {first_year: 1960, last_year: 2024}",
                                          "coverage:\n  first_year: 1960\n  last_year: 2024")},
     RecordEditError, "expected one `coverage: {first_year"),
])
def test_refusals_change_nothing(tmp_path, kwargs, error, message):
    root = assets_copy(tmp_path, "wb_population")
    if "yaml" in kwargs:
        path = root / "sources" / "wb_population.yaml"
        old, new = kwargs.pop("yaml")
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
        assert yaml.safe_load(path.read_text())["coverage"]["last_year"] == 2024
    before = state(root)
    arguments = {"retrieved": "2027-01-02", "vintage": "2026"} | kwargs
    with pytest.raises(error, match=message):
        promote.promote("wb_population", new_population_files(tmp_path), assets_root=root,
                        **arguments)
    assert state(root) == before


def test_an_unknown_file_id_is_refused(tmp_path):
    root = assets_copy(tmp_path, "wb_population")
    with pytest.raises(promote.PromotionError, match="wb_population has no file 'register'"):
        promote.promote("wb_population", {"register": tmp_path}, retrieved="2027-01-02",
                        vintage="2026", assets_root=root)
