"""Suites validated ahead, in the worker process (paccto_data/quality/ahead.py): the outcome is
the one the check would compute itself, a table changed after it was handed over is validated
again, and a killed build leaves no worker behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from paccto_data.quality import ahead
from paccto_data.settings import EXPECTATIONS_DIR
from tests.test_package_validation import (
    break_a_year_behind_a_matching_descriptor,
    count_frictionless,
)

# every table with a suite: each must reach the worker (a cell type the fingerprint cannot
# hash would silently send its table back to validation in the build's own process)
TABLES = sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


@pytest.fixture
def build_db(warehouse_build_copy):
    with duckdb.connect(str(warehouse_build_copy.settings.build_db)) as conn:
        yield conn
    ahead.discard()


def _handed_over(conn, table):
    ahead.submit(conn, table)
    return ahead._pending[table]


def _validated(future):
    """The worker's outcome, without the fingerprint it came with."""
    return future.result()[1]


@pytest.mark.parametrize("table", TABLES)
def test_the_workers_outcome_is_the_one_computed_here(build_db, table):
    future = _handed_over(build_db, table)
    inputs = ahead.SuiteInputs.read(build_db, table)
    outcome = ahead.outcome(inputs)
    assert outcome is _validated(future)  # the worker's object, not one validated here
    assert outcome == inputs.validate()
    assert outcome.passed and len(outcome.outcomes) == len(inputs.suite["expectations"])


def test_the_worker_deletes_each_file_it_was_handed(build_db):
    tables = ["staging.unodc_homicide", "core.fact_indicator"]
    futures = [_handed_over(build_db, table) for table in tables]
    for table, future in zip(tables, futures):
        assert ahead.outcome(ahead.SuiteInputs.read(build_db, table)) is _validated(future)
    assert ahead._worker.folder.is_dir()
    assert list(ahead._worker.folder.iterdir()) == []


def test_failing_rows_come_back_as_the_check_would_report_them(build_db):
    table = "staging.unodc_homicide"
    build_db.execute(f"UPDATE {table} SET iso3 = 'XXX' WHERE iso3 = 'JAM' AND year = 2022")
    future = _handed_over(build_db, table)
    inputs = ahead.SuiteInputs.read(build_db, table)
    outcome = ahead.outcome(inputs)
    assert outcome is _validated(future)
    assert not outcome.passed
    assert outcome == inputs.validate()
    samples = [row for o in outcome.failures for row in o.sample]
    assert any(isinstance(row, dict) and row.get("iso3") == "XXX" for row in samples), samples


def test_a_table_changed_after_it_was_handed_over_is_validated_again(build_db):
    table = "staging.unodc_homicide"
    future = _handed_over(build_db, table)
    assert _validated(future).passed  # the table as it was handed over passes
    build_db.execute(f"UPDATE {table} SET value = -5 WHERE iso3 = 'JAM' AND year = 2022")
    inputs = ahead.SuiteInputs.read(build_db, table)
    outcome = ahead.outcome(inputs)
    assert outcome is not _validated(future)
    assert not outcome.passed
    assert outcome == inputs.validate()


def test_changed_value_sets_are_validated_again(build_db):
    table = "core.fact_indicator"  # its indicator ids are the ids of core.dim_indicator
    handed_over = _validated(_handed_over(build_db, table))
    assert handed_over.passed
    build_db.execute("DELETE FROM core.dim_indicator WHERE indicator_id = "
                     "(SELECT min(indicator_id) FROM core.fact_indicator)")
    inputs = ahead.SuiteInputs.read(build_db, table)
    assert ahead._pending[table].result()[0] != inputs.fingerprint()  # the value sets differ
    outcome = ahead.outcome(inputs)
    assert outcome is not handed_over and not outcome.passed
    assert outcome == inputs.validate()


def test_a_worker_that_died_is_replaced_and_its_table_validated_here(build_db):
    table = "marts.country_year"
    ahead.submit(build_db, table)
    worker = ahead._worker
    worker.process.kill()
    worker.process.wait()
    outcome = ahead.outcome(ahead.SuiteInputs.read(build_db, table))
    assert outcome.passed  # validated here
    future = _handed_over(build_db, table)  # a new worker takes the next table
    assert ahead._worker is not worker and ahead._worker.process.poll() is None
    assert ahead.outcome(ahead.SuiteInputs.read(build_db, table)) is _validated(future)


CHILD = """
import sys, time
from paccto_data.quality import ahead
from paccto_data.settings import EXPECTATIONS_DIR
worker = ahead._started()
print(worker.process.pid, worker.folder, flush=True)
time.sleep(600)
"""


def test_a_killed_process_leaves_no_worker():
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    pid, folder = child.stdout.readline().split()
    worker_pid = int(pid)
    assert _alive(worker_pid) and os.path.isdir(folder)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 30
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker_pid), f"worker {worker_pid} outlived the killed process"
    assert not os.path.exists(folder), f"{folder}: the handed-over tables were left behind"


def test_a_worker_started_ahead_and_not_needed_is_killed_at_once():
    """`make run` starts the worker as it begins; with nothing to validate it stops it without
    waiting for the import of Great Expectations the worker is still busy with."""
    ahead.start()
    worker = ahead._worker
    assert worker.process.poll() is None and worker.folder.is_dir()
    ahead.stop(at_once=True)
    assert worker.process.returncode == -signal.SIGKILL  # killed, not left to finish
    assert ahead._worker is None and not worker.folder.exists()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_the_fingerprint_follows_every_cell_and_type():
    import numpy as np
    import pandas as pd

    suite = {"name": "t", "expectations": [{"type": "expect_column_to_exist",
                                            "kwargs": {"column": "value"}}]}
    frame = pd.DataFrame({"iso3": ["JAM", "URY"], "value": [53, 11]})

    def fingerprint(f, parameters=None):
        return ahead.SuiteInputs("staging.t", suite, f, parameters or {}).fingerprint()

    assert fingerprint(frame) == fingerprint(frame.copy())
    assert fingerprint(frame) != fingerprint(frame.assign(value=[53, 12]))
    assert fingerprint(frame) != fingerprint(frame.assign(value=[53.0, 11.0]))  # int -> float
    assert fingerprint(frame) != fingerprint(frame.iloc[::-1].reset_index(drop=True))
    assert fingerprint(frame) != fingerprint(frame, {"core__dim_country__iso3": ["JAM"]})
    lists = frame.assign(value=[np.array(["JAM", "URY"]), np.array(["DMA"])])  # DuckDB LISTs
    assert fingerprint(lists) == fingerprint(lists.copy())
    assert fingerprint(lists) != fingerprint(
        lists.assign(value=[np.array(["JAM", "URY"]), np.array(["DOM"])]))


# --- packages: frictionless on the worker, the verdict taken by the package_valid check -------

@pytest.fixture
def package(tmp_path, monkeypatch):
    from paccto_data.publication import validation
    from paccto_data.settings import PROJECT_ROOT

    monkeypatch.setattr(validation, "_VALID", set())
    folder = tmp_path / "lac-homicide"
    shutil.copytree(PROJECT_ROOT / "published" / "lac-homicide", folder)
    yield folder
    ahead.discard()


def test_a_package_the_worker_found_valid_is_not_validated_again_here(package, monkeypatch):
    calls = count_frictionless(monkeypatch)
    ahead.submit_package(package)
    future = ahead._pending[ahead._package_key(package)]
    assert future.result()[1] == []  # the worker's verdict: valid
    assert ahead.package_problems(package) == []
    assert calls == []  # frictionless ran in the worker only


def test_a_package_changed_after_it_was_handed_over_is_validated_here(package, monkeypatch):
    calls = count_frictionless(monkeypatch)
    ahead.submit_package(package)
    assert ahead._pending[ahead._package_key(package)].result()[1] == []
    break_a_year_behind_a_matching_descriptor(package)
    problems = ahead.package_problems(package)
    assert any("homicide_rate, row 2: type-error" in p for p in problems), problems
    assert len(calls) == 1


def test_a_file_changed_behind_a_valid_descriptor_is_caught_here(package, monkeypatch):
    ahead.submit_package(package)
    assert ahead._pending[ahead._package_key(package)].result()[1] == []
    csv = package / "data" / "countries.csv"
    csv.write_bytes(csv.read_bytes() + b"\n")
    problems = ahead.package_problems(package)
    assert any("countries.csv: sha256:" in p for p in problems), problems


def test_the_problems_the_worker_finds_are_the_checks(package):
    (package / "CITATION.cff").unlink()
    ahead.submit_package(package)
    found = ahead._pending[ahead._package_key(package)].result()[1]
    assert found and any("CITATION.cff: missing" in p for p in found)
    assert ahead.package_problems(package) == found


def test_a_table_above_the_row_bound_is_validated_in_its_check(build_db, monkeypatch):
    table = "staging.unodc_homicide"  # 1,121 rows
    monkeypatch.setattr(ahead, "AHEAD_MAX_ROWS", 1_000)
    ahead.submit(build_db, table)
    assert table not in ahead._pending
    monkeypatch.setattr(ahead, "AHEAD_MAX_ROWS", 1_121)
    ahead.submit(build_db, table)
    assert table in ahead._pending


def test_a_package_above_the_byte_bound_is_validated_in_its_check(package, monkeypatch):
    size = sum(p.stat().st_size for p in package.rglob("*") if p.is_file())
    monkeypatch.setattr(ahead, "AHEAD_MAX_PACKAGE_BYTES", size - 1)
    ahead.submit_package(package)
    assert ahead._package_key(package) not in ahead._pending
    assert ahead.package_problems(package) == []  # validated here
    monkeypatch.setattr(ahead, "AHEAD_MAX_PACKAGE_BYTES", size)
    ahead.submit_package(package)
    assert ahead._package_key(package) in ahead._pending


def test_the_worker_takes_the_tables_before_a_package_handed_over_earlier(build_db, package):
    """A table's suite gates the steps downstream of it, a package only the release: a fresh
    worker, handed a package and then a table while it imports Great Expectations, validates
    the table first."""
    ahead.stop()  # a fresh worker: both arrive before it can take either
    finished: list[str] = []
    ahead.submit_package(package)
    ahead._pending[ahead._package_key(package)].add_done_callback(
        lambda _: finished.append("package"))
    ahead.submit(build_db, "core.dim_country")
    ahead._pending["core.dim_country"].add_done_callback(lambda _: finished.append("table"))
    assert ahead._pending[ahead._package_key(package)].result(timeout=120)[1] == []
    assert ahead._pending["core.dim_country"].result(timeout=120)[1].passed
    assert finished == ["table", "package"]
