"""Dagster's SQLite storages as the platform runs them (defs/resources.py,
relaxed_sqlite_sync): `synchronous=NORMAL`, and one idle connection held on each database
file while a run writes its events, released when the run ends; no event is lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import dagster as dg
import sqlalchemy

from paccto_data.defs import resources
from paccto_data.defs.resources import PacctoConfig, relaxed_sqlite_sync, release_sqlite_anchors
from tests.support import tmp_settings


def test_each_sqlite_file_is_opened_relaxed_and_held_open_until_released(tmp_path):
    relaxed_sqlite_sync()
    path = tmp_path / "events.db"
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchall()  # as Dagster's are
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        connection.commit()
    engine.dispose()
    assert str(path) in resources._ANCHORS
    # the held connection keeps the WAL: the event's close was not the last one
    assert (tmp_path / "events.db-wal").exists()
    release_sqlite_anchors()
    assert not resources._ANCHORS
    assert not (tmp_path / "events.db-wal").exists()  # the last close checkpointed it
    assert sqlite3.connect(path).execute("SELECT x FROM t").fetchall() == [(1,)]


HELD_IN_RUN: list[set[str]] = []


@dg.asset
def touched(paccto: PacctoConfig) -> dg.MaterializeResult:
    HELD_IN_RUN.append(set(resources._ANCHORS))  # the files held while the run writes
    return dg.MaterializeResult(metadata={"raw_dir": paccto.raw_dir})


READ_BACK = """
import sys
import dagster as dg
from dagster._core.instance import InstanceRef
with dg.DagsterInstance.from_ref(InstanceRef.from_dir(sys.argv[1])) as instance:
    records = instance.get_records_for_run(sys.argv[2]).records
    print(len(records), instance.get_run_by_id(sys.argv[2]).status.value)
"""


def test_a_run_releases_what_it_held_and_every_event_is_on_disk(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    # (what an earlier run of this process wrote after its own teardown is held until the
    # next run ends: start from nothing held)
    release_sqlite_anchors()
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
        result = dg.materialize(
            [touched], instance=instance,
            resources={"paccto": PacctoConfig.from_settings(tmp_settings(tmp_path))})
        assert result.success
        run_id = result.run_id
        events = len(instance.get_records_for_run(run_id).records)
        assert events > 5
    release_sqlite_anchors()
    # while the run wrote its events it held its event log open, and nothing else
    held = HELD_IN_RUN.pop()
    assert any(run_id in path for path in held), held
    assert all(path.startswith(str(home)) for path in held), held
    # every event is on disk: another process reads them all
    out = subprocess.run([sys.executable, "-c", READ_BACK, str(home), run_id],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(events), "SUCCESS"]
