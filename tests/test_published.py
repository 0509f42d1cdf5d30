"""What researchers download: the committed `published/` packages, checked as they would."""

import subprocess
import sys
from pathlib import Path

import pytest

from paccto_data.publish import validate_package
from paccto_data.settings import PROJECT_ROOT

PACKAGES = sorted(p.parent for p in (PROJECT_ROOT / "published").glob("*/datapackage.json"))


def test_the_first_open_dataset_is_published():
    assert "lac-homicide" in {p.name for p in PACKAGES}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_frictionless_validate_accepts_the_package(package):
    """The researcher's own command, on the committed files."""
    frictionless = Path(sys.executable).parent / "frictionless"
    run = subprocess.run([str(frictionless), "validate", "datapackage.json"], cwd=package,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "INVALID" not in run.stdout


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_file_matches_its_descriptor(package):
    assert validate_package(package) == []
