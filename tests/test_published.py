"""What researchers download: the published packages and catalogue, checked as they would.

This checks the release where PACCTO_PUBLISH_DIR points: by default the committed
`published/` (which .ci/run rebuilds from the snapshots and compares byte for byte).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from paccto_data.fileio import sha256_of
from paccto_data.publication.spec import package_specs
from paccto_data.publication.validation import validate_package
from paccto_data.settings import Settings
from paccto_data.site import catalogue

PUBLISHED = Settings.from_env().publish_dir
PACKAGES = sorted(p.parent for p in PUBLISHED.glob("*/datapackage.json"))
SPECS = package_specs()


def test_every_package_spec_is_published():
    assert {p.name for p in PACKAGES} == set(SPECS)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_frictionless_validate_accepts_the_package(package):
    """The researcher's own command, on the published files (Parquet tables included)."""
    frictionless = Path(sys.executable).parent / "frictionless"
    run = subprocess.run([str(frictionless), "validate", "datapackage.json"], cwd=package,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "INVALID" not in run.stdout


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_file_matches_its_descriptor(package):
    """Our own check: bytes and sha256 of every file, the Parquet twins, the documents."""
    assert validate_package(package) == []


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_citation_and_changelog_name_the_published_version(package):
    version = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))["version"]
    citation = yaml.safe_load((package / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["version"] == version
    assert f"-v{version}/" in citation["url"]
    changelog = (package / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.split("\n## ")[1].startswith(f"{version}\n")  # the newest entry


def test_the_catalogue_describes_exactly_what_is_published():
    assert catalogue.check_catalogue(PUBLISHED) == []
    record = json.loads((PUBLISHED / "catalog.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in record["packages"]] == [p.name for p in PACKAGES]
    for entry in record["packages"]:
        descriptor = json.loads((PUBLISHED / entry["path"]).read_text(encoding="utf-8"))
        assert entry["version"] == descriptor["version"]
        for f in entry["files"]:
            assert sha256_of(PUBLISHED / f["path"]) == f["sha256"], f["path"]
    assert len(record["charts"]) == 4


def test_nothing_published_derives_from_cpi():
    """Transparency International's CPI is CC BY-ND 4.0: never in a published table."""
    for package in PACKAGES:
        descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
        for r in descriptor["resources"]:
            assert not any("Transparency International" == s["publisher"] for s in r["sources"])
            assert not any(f["name"].startswith("cpi") for f in r["schema"]["fields"])
