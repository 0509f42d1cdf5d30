"""A package validated once is not validated whole again unless a byte of it changed.

A build validates each package when its asset writes it and again when the release assembles
them; the second time, `validate_package` checks every file's size and sha256 against the
descriptor (and the documents) and skips frictionless, whose verdict on the same bytes is
known. Any change to a file or to the descriptor means a whole validation again.
"""

from __future__ import annotations

import json
import shutil

import frictionless
import pytest

from paccto_data.fileio import sha256_of
from paccto_data.publication import validation
from paccto_data.settings import PROJECT_ROOT

PUBLISHED = PROJECT_ROOT / "published" / "lac-homicide"


@pytest.fixture
def package(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "_VALID", set())
    folder = tmp_path / "lac-homicide"
    shutil.copytree(PUBLISHED, folder)
    return folder


def count_frictionless(monkeypatch) -> list:
    calls = []
    real = frictionless.Package.validate

    def counted(self, *args, **kwargs):
        calls.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(frictionless.Package, "validate", counted)
    return calls


def break_a_year_behind_a_matching_descriptor(package) -> None:
    """A value no Table Schema allows (row 2 of homicide_rate, "not a year"), with the
    descriptor's hash and size made to match the changed file."""
    csv = package / "data" / "homicide_rate.csv"
    lines = csv.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[1] = "not a year"
    lines[1] = ",".join(cells)
    csv.write_text("".join(lines), encoding="utf-8")
    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    for r in descriptor["resources"]:
        if r["path"] == "data/homicide_rate.csv":
            r["hash"], r["bytes"] = "sha256:" + sha256_of(csv), csv.stat().st_size
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")


def test_the_same_bytes_are_validated_whole_once(package, monkeypatch):
    calls = count_frictionless(monkeypatch)
    assert validation.validate_package(package) == []
    copy = package.parent / "copy"
    shutil.copytree(package, copy)
    assert validation.validate_package(copy) == []
    assert validation.validate_package(package) == []
    assert len(calls) == 1


def test_a_changed_file_is_found_and_validated_whole(package, monkeypatch):
    calls = count_frictionless(monkeypatch)
    assert validation.validate_package(package) == []
    csv = package / "data" / "homicide_rate.csv"
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n", 1))
    problems = validation.validate_package(package)
    assert any("homicide_rate.csv" in p and "sha256" in p for p in problems), problems
    assert len(calls) == 2


def test_a_changed_file_with_a_matching_descriptor_is_validated_whole(package, monkeypatch):
    calls = count_frictionless(monkeypatch)
    assert validation.validate_package(package) == []
    break_a_year_behind_a_matching_descriptor(package)
    problems = validation.validate_package(package)
    assert problems and len(calls) == 2
