"""Bad input through the real command line: a copy of the project, built, checked and
released (the session's build), has one snapshot broken and is built again with
`dagster asset materialize`: the broken source and everything downstream of it, all that
`make run` would stop. The run fails naming file, row and value; nothing downstream runs; the
released warehouse and packages stay as they were.
"""

import re
import shutil
from pathlib import Path

import pytest

from tests.support import Project

pytestmark = pytest.mark.e2e

@pytest.fixture(scope="module")
def project(tmp_path_factory, warehouse_build):
    """A copy of the project whose data folder and DAGSTER_HOME are a copy of the session's
    build: everything built, checked and released. (That a copy of the project builds through
    the command line is tests/test_adding_a_source.py.)"""
    data = tmp_path_factory.mktemp("data")
    shutil.copytree(warehouse_build.root, data, dirs_exist_ok=True)
    project = Project.copy(tmp_path_factory.mktemp("project"), data)
    assert project.warehouse.exists()
    return project


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def broken(project):
    warehouse = project.warehouse.read_bytes()
    published = _tree(project.data / "published")
    assert "lac-homicide/datapackage.json" in published
    yield project
    project.restore()
    # Whatever broke, the released warehouse and the published packages are byte for byte
    # the previous release.
    assert project.warehouse.read_bytes() == warehouse
    assert _tree(project.data / "published") == published


def _step_failed(output: str, step: str) -> bool:
    return re.search(rf'Execution of step "{re.escape(step)}" failed', output) is not None


def _never_started(output: str, step: str) -> bool:
    return f'Started execution of step "{step}"' not in output


def test_a_changed_snapshot_stops_the_build_naming_the_file(broken):
    broken.rewrite("un_m49", "UNSD-Methodology.csv", lambda b: b.replace(b"Jamaica", b"Jamaika"),
                   record_sha256=False)
    run = broken.build("raw/un_m49*")
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
    run = broken.build("raw/wb_population*")
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
    run = broken.build("raw/un_m49*")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Asset check 'great_expectations' on 'core/dim_country' did not pass" in output
    assert "expect_column_sum_to_be_between(is_lac) observed 51" in output
    assert "'iso3': 'JAM'" in output  # the sample of failing rows names the country
    assert _never_started(output, "warehouse_release")


HOMICIDE = "homicide-rate-unodc.csv"
DOWNSTREAM_OF_HOMICIDE = ("core__fact_indicator", "publication__lac_homicide",
                          "warehouse_release", "publication_release")


def _homicide_build_fails(broken, edit) -> str:
    broken.rewrite("unodc_homicide", HOMICIDE, edit)
    run = broken.build("raw/unodc_homicide*")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    for step in DOWNSTREAM_OF_HOMICIDE:
        assert _never_started(output, step), step
    return output


def test_a_renamed_column_fails_at_staging_naming_file_row_and_column(broken):
    output = _homicide_build_fails(broken, lambda b: b.replace(
        b'"Homicide rate per 100,000 population"', b'"Homicide rate"', 1))
    assert _step_failed(output, "staging__unodc_homicide")
    assert (f"{HOMICIDE}, row 1, column 'Homicide rate per 100,000 population': "
            "column 'Homicide rate per 100,000 population' is missing from the header") in output


def test_an_unknown_country_fails_at_staging_naming_file_row_and_value(broken):
    # line 2205: "Jamaica,JAM,2022,53.1146,North America"
    output = _homicide_build_fails(broken, lambda b: b.replace(
        b"Jamaica,JAM,2022,", b"Jamaica,JAX,2022,", 1))
    assert _step_failed(output, "staging__unodc_homicide")
    assert f"{HOMICIDE}, row 2205, column 'Code': cannot resolve country 'JAX'" in output


def test_a_duplicate_key_fails_at_staging_naming_both_rows(broken):
    output = _homicide_build_fails(broken, lambda b: b.replace(
        b"Jamaica,JAM,2022,53.1146,North America\n",
        b"Jamaica,JAM,2022,53.1146,North America\nJamaica,JAM,2022,53.1146,North America\n", 1))
    assert _step_failed(output, "staging__unodc_homicide")
    assert HOMICIDE in output and "row 2206" in output and "row 2205" in output


def test_a_negative_rate_fails_the_staging_check_naming_country_year_and_value(broken):
    output = _homicide_build_fails(broken, lambda b: b.replace(
        b"Jamaica,JAM,2022,53.1146,", b"Jamaica,JAM,2022,-53.1146,", 1))
    assert "Asset check 'great_expectations' on 'staging/unodc_homicide' did not pass" in output
    assert "'iso3': 'JAM'" in output and "'year': 2022" in output and "-53.1146" in output


# The programme's activity register: a malformed row (as when someone bypasses
# `python -m paccto_data.activities accept`, or a live build downloads a register edited
# upstream) fails both register staging steps naming row, activity, column and value.
REGISTER_DOWNSTREAM = ("core__dim_activity", "core__bridge_activity_country",
                       "marts__activity_context", "marts__country_year",
                       "marts__programme_coverage", "marts__data_dictionary", "warehouse_release")


def test_malformed_rows_stop_the_build_naming_row_activity_column_and_value(broken):
    def edit(data: bytes) -> bytes:
        # Register line 4: ACT-0003 (PRY); the country becomes a name the register refuses.
        data = data.replace(b",prison_system;organised_crime_general,PRY,PRY,",
                            b",prison_system;organised_crime_general,Paraguay,PRY,", 1)
        # Register line 91: ACT-0090 starts 2024-03-06, so it is phase 2; the row now says 1.
        return data.replace(b"security (Quito),2024-03-06,2024-03-08,2,",
                            b"security (Quito),2024-03-06,2024-03-08,1,", 1)

    broken.rewrite("paccto_activities", "activities.csv", edit)
    run = broken.build("raw/paccto_activities*")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    # Both staging tables read the register; each fails with the first problem and lists all.
    assert ("activities.csv, row 4, column 'countries': activity ACT-0003: write the ISO3 code "
            "PRY (value 'Paraguay')") in output
    assert ("row 91 (ACT-0090), column phase: does not match start_date 2024-03-06 "
            "(value '1')") in output
    for step in ("staging__paccto_activities", "staging__paccto_activity_countries"):
        assert _step_failed(output, step), step
    for step in REGISTER_DOWNSTREAM:
        assert _never_started(output, step), step
