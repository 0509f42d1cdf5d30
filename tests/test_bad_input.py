"""Bad input through the real command line: a copy of the project with one snapshot broken
is built with `dagster asset materialize --select '*'`, as `make run` does. The run fails
naming file, row and value; nothing downstream runs; the released warehouse stays as it was.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from paccto_data.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

COPIED = ["paccto_data", "assets", "expectations", "workspace.yaml", "pyproject.toml"]
DAGSTER = str(Path(sys.executable).parent / "dagster")


class Project:
    """A copy of the project whose snapshots a test may break (and restore)."""

    def __init__(self, root: Path, data: Path):
        self.root, self.data = root, data
        self.warehouse = data / "warehouse.duckdb"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(root),  # import the copy, not the checkout
            "DAGSTER_HOME": str(data / "dagster"),
            "PACCTO_WAREHOUSE": str(self.warehouse),
            "PACCTO_BUILD_DB": str(data / "build" / "warehouse.duckdb"),
            "PACCTO_RAW_DIR": str(data / "raw"),
            "PACCTO_PUBLISH_DIR": str(data / "published"),
            "PACCTO_SOURCE_MODE": "snapshot",
        }
        (data / "dagster").mkdir(parents=True, exist_ok=True)

    def build(self) -> subprocess.CompletedProcess:
        return subprocess.run([DAGSTER, "asset", "materialize", "-m", "paccto_data.definitions",
                               "--select", "*"], cwd=self.root, env=self.env,
                              capture_output=True, text=True)

    def snapshot(self, source_id: str, name: str) -> Path:
        return self.root / "assets" / "snapshots" / source_id / name

    def rewrite(self, source_id: str, name: str, edit, record_sha256: bool = True) -> None:
        """Edit a snapshot's bytes; unless told otherwise, record the new sha256 in the YAML as
        a maintainer promoting a new upstream file would."""
        path = self.snapshot(source_id, name)
        path.write_bytes(edit(path.read_bytes()))
        if record_sha256:
            record_path = self.root / "assets" / "sources" / f"{source_id}.yaml"
            text = record_path.read_text()
            record = yaml.safe_load(text)
            spec = next(f for f in record["files"] if f["name"] == name)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            text = text.replace(spec["sha256"], digest)
            text = re.sub(rf"(name: {re.escape(name)}\n(?:.*\n)*?\s+bytes: )\d+",
                          rf"\g<1>{path.stat().st_size}", text, count=1)
            record_path.write_text(text)

    def restore(self) -> None:
        for folder in ("assets",):
            shutil.rmtree(self.root / folder)
            shutil.copytree(PROJECT_ROOT / folder, self.root / folder)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    project = Project(root, tmp_path_factory.mktemp("data"))
    good = project.build()
    assert good.returncode == 0, good.stderr[-3000:]
    assert project.warehouse.exists()
    return project


@pytest.fixture
def broken(project):
    before = project.warehouse.read_bytes()
    yield project
    project.restore()
    # Whatever broke, the released warehouse is byte for byte the previous release.
    assert project.warehouse.read_bytes() == before


def _step_failed(output: str, step: str) -> bool:
    return re.search(rf'Execution of step "{re.escape(step)}" failed', output) is not None


def _never_started(output: str, step: str) -> bool:
    return f'Started execution of step "{step}"' not in output


def test_a_changed_snapshot_stops_the_build_naming_the_file(broken):
    broken.rewrite("un_m49", "UNSD-Methodology.csv", lambda b: b.replace(b"Jamaica", b"Jamaika"),
                   record_sha256=False)
    run = broken.build()
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert re.search(r"UNSD-Methodology\.csv: sha256 [0-9a-f]{64} differs from c0ad564e", output)
    assert _step_failed(output, "raw__un_m49")
    for step in ("staging__un_m49", "core__dim_country", "warehouse_release"):
        assert _never_started(output, step), step


def test_an_unresolvable_country_name_stops_the_build_naming_file_row_and_value(broken):
    # Metadata_Country_…csv record 2 (Aruba) gets a code no resolver knows.
    name = "Metadata_Country_API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv"
    broken.rewrite("wb_population", name, lambda b: b.replace(b"\nABW,", b"\nARU,", 1))
    run = broken.build()
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert f"{name}, row 2, column 'Country Code': cannot resolve country 'ARU'" in output
    assert _step_failed(output, "staging__wb_population_countries")
    for step in ("core__dim_country", "core__fact_indicator", "warehouse_release"):
        assert _never_started(output, step), step


def test_a_failing_expectation_blocks_everything_downstream(broken):
    # Jamaica moved out of Latin America and the Caribbean: the file still parses, but
    # core.dim_country now has 51 LAC areas and a programme partner outside LAC.
    broken.rewrite("un_m49", "UNSD-Methodology.csv", lambda b: b.replace(
        b"419;Latin America and the Caribbean;029;Caribbean;Jamaica",
        b"021;Northern America;;;Jamaica"))
    run = broken.build()
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Asset check 'great_expectations' on 'core/dim_country' did not pass" in output
    assert "expect_column_sum_to_be_between(is_lac) observed 51" in output
    assert "'iso3': 'JAM'" in output  # the sample of failing rows names the country
    assert _never_started(output, "warehouse_release")
